import Foundation

/// A real SMTP server on a free port (`ops/test/smtp-sink.py`, Debian's python3-aiosmtpd), keeping
/// each message it accepts as a file; recipients starting with "refused" get a 550.
public final class SMTPServer: Sendable {
    public let port: Int
    public let folder: URL
    let process: ChildProcess

    public init() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        port = try TestEnvironment.freePort()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // On the real clock: Python's event loop under libfaketime answered nothing.
        process = try ChildProcess(
            "/usr/bin/python3", [root.appendingPathComponent("ops/test/smtp-sink.py").path, "127.0.0.1", String(port), folder.path],
            realClock: true)
        let listening = await eventually(timeout: .seconds(20)) {
            (try? await Self.connects(port: self.port)) == true
        }
        guard listening else { throw SpawnFailure(description: "the SMTP server did not listen on \(port)") }
    }

    struct SpawnFailure: Error, CustomStringConvertible { var description: String }

    static func connects(port: Int) async throws -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// The messages received so far, as text (headers and the base64 body decoded).
    public func messages() throws -> [ReceivedMail] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "eml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { ReceivedMail(raw: try String(contentsOf: $0, encoding: .utf8)) }
    }

    public func stop() {
        process.signal(SIGKILL)
        _ = process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// One message as the server kept it.
public struct ReceivedMail: Sendable {
    public let raw: String

    public var headers: [String: String] {
        var found: [String: String] = [:]
        for line in raw.components(separatedBy: "\r\n").prefix(while: { !$0.isEmpty }) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            found[String(line[..<colon]).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return found
    }

    public var recipients: [String] { (headers["x-envelope-to"] ?? "").split(separator: ",").map(String.init) }

    /// The subject, decoded from its `=?UTF-8?B?…?=` form.
    public var subject: String {
        let encoded = headers["subject"] ?? ""
        guard encoded.hasPrefix("=?UTF-8?B?"), encoded.hasSuffix("?=") else { return encoded }
        let base64 = String(encoded.dropFirst(10).dropLast(2))
        return Data(base64Encoded: base64).flatMap { String(data: $0, encoding: .utf8) } ?? encoded
    }

    /// The text body, decoded from base64.
    public var text: String {
        guard let range = raw.range(of: "\r\n\r\n") else { return "" }
        let base64 = raw[range.upperBound...].components(separatedBy: CharacterSet.newlines).joined()
        return Data(base64Encoded: base64).flatMap { String(data: $0, encoding: .utf8) } ?? ""
    }
}
