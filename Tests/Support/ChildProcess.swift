import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`. Foundation's `Process.run()` on Linux (Swift
/// 6.3.1) reads past a buffer while it lists /proc/self/fd and now and then crashes a test run
/// that starts many processes (swift-corelibs-foundation pull request 5472); the tests that
/// start executables go through this instead.
public final class ChildProcess: Sendable {
    public enum Output: Sendable {
        case discard
        case pipe
        case inherit
        /// Appended to the file, made if missing.
        case file(String)
    }

    public let pid: pid_t
    /// The read ends of the pipes asked for.
    public let standardOutput: FileHandle?
    public let standardError: FileHandle?
    private let exit = Mutex<Int32?>(nil)

    /// Pipes are made and children started one at a time: a pipe end opened while another child
    /// starts is not close-on-exec yet and would leak into it.
    private static let spawning = Mutex<Void>(())

    /// `realClock`: the child keeps the real clock when the suite runs as if today were another
    /// day (a helper server that has no use for the moved one, and may not work under it).
    public convenience init(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
        standardOutput output: Output = .discard, standardError errors: Output = .discard, realClock: Bool = false
    ) throws {
        let started = try Self.spawning.withLock { _ in
            try Self.spawn(executable, arguments, environment: environment, output: output, errors: errors, realClock: realClock)
        }
        self.init(pid: started.pid, standardOutput: started.output, standardError: started.errors)
    }

    private init(pid: pid_t, standardOutput: FileHandle?, standardError: FileHandle?) {
        self.pid = pid
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]?, output: Output, errors: Output, realClock: Bool
    ) throws -> (pid: pid_t, output: FileHandle?, errors: FileHandle?) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32: Int32] = [:]
        var childEnds: [Int32] = []
        for (target, mode) in [(Int32(1), output), (Int32(2), errors)] {
            switch mode {
            case .inherit:
                continue
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipe:
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
                // Close-on-exec, so no other child inherits them (spawns are serialised below).
                _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
                parentEnds[target] = ends[0]
                childEnds.append(ends[1])
            }
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        // A run as if today were another day (ops/test.sh with TEST_TODAY) moves the children's
        // clocks too, so services and the tests agree on what today is; not the browser's: it
        // needs no moved clock, and under libfaketime it spun for good.
        func isClockSetting(_ name: String) -> Bool { name.hasPrefix("FAKETIME") || name == "LD_PRELOAD" }
        var variables = environment ?? ProcessInfo.processInfo.environment
        if environment != nil { variables.merge(ProcessInfo.processInfo.environment.filter { isClockSetting($0.key) }) { own, _ in own } }
        if realClock || executable.contains("chrom") { variables = variables.filter { !isClockSetting($0.key) } }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        childEnds.forEach { close($0) }
        guard code == 0 else {
            parentEnds.values.forEach { close($0) }
            throw SpawnError(description: "\(executable): \(String(cString: strerror(code)))")
        }
        return (
            pid, parentEnds[1].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) },
            parentEnds[2].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        )
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The exit code, or 128 plus the signal that ended it; nil while it runs.
    public var terminationStatus: Int32? {
        exit.withLock { status in
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid { status = Self.decode(raw) }
            }
            return status
        }
    }

    public var isRunning: Bool { terminationStatus == nil }

    /// Blocks until the process ends; its exit code (or 128 plus the signal).
    @discardableResult
    public func waitUntilExit() -> Int32 {
        if let status = terminationStatus { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        let status = Self.decode(raw)
        exit.withLock { $0 = $0 ?? status }
        return status
    }

    /// What the process wrote to its pipes, and its exit status, once it ended. The blocking
    /// reads and the wait run on threads of their own: a test blocking one of the few cooperative
    /// threads can starve the in-process services the child talks to.
    public func output() async -> (standardOutput: Data, standardError: Data, status: Int32) {
        let (output, errors) = (standardOutput, standardError)
        async let out = Self.offThread { output?.readDataToEndOfFile() ?? Data() }
        async let err = Self.offThread { errors?.readDataToEndOfFile() ?? Data() }
        let (outData, errData) = await (out, err)
        let status = await Self.offThread { self.waitUntilExit() }
        return (outData, errData, status)
    }

    static func offThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }

    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    public func terminate() { signal(SIGTERM) }

    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }
}

extension TestEnvironment {
    /// A TCP port on the loopback that nothing listens on now (the kernel's choice), for a child
    /// process that cannot report the port it bound.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ChildProcess.SpawnError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw ChildProcess.SpawnError(description: "bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
