import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Client of the local mock cluster's control port (ops/mock-broker): takes brokers down and up
/// for fault tests, and creates topics, which the mock cannot do through the Admin API.
/// Never used against Apache Kafka.
public struct MockClusterControl: Sendable {
    public let host: String
    public let port: UInt16

    /// `address` is `host:port`, as ops/kafka.sh writes it to `kafka-control`.
    public init?(address: String) {
        let parts = address.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
        self.host = String(parts[0])
        self.port = port
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends one command line and returns the answer after "ok".
    @discardableResult
    public func send(_ command: String) throws -> String {
        // Close-on-exec: a child process started meanwhile must not hold the connection open, or
        // the control port, which serves one connection at a time, waits on it for good.
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "cannot open a socket") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "mock cluster control at \(host):\(port) does not answer") }
        let line = Array((command + "\n").utf8)
        guard write(socket, line, line.count) == line.count else { throw Failure(description: "cannot send to the mock cluster") }
        var answer = [UInt8]()
        var byte: UInt8 = 0
        while read(socket, &byte, 1) == 1, byte != 10 { answer.append(byte) }
        let text = String(decoding: answer, as: UTF8.self)
        guard text.hasPrefix("ok") else { throw Failure(description: "mock cluster: \(text) (for \(command))") }
        return text.dropFirst(2).trimmingCharacters(in: .whitespaces)
    }

    public func brokerDown(_ broker: Int) throws { try send("down \(broker)") }
    public func brokerUp(_ broker: Int) throws { try send("up \(broker)") }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int) throws {
        try send("topic \(name) \(partitions) \(replicationFactor)")
    }
}
