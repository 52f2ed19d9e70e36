import Foundation

/// A client that gives up: it writes a request to intake on a connection of its own and closes it
/// without reading the answer, mid-body (cut off) or whole (gone before the answer).
enum HangingUpClient {
    static func send(_ bytes: [UInt8], to base: String) throws {
        let port = UInt16(base.split(separator: ":").last.flatMap { Int($0) } ?? 0)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// `POST /v1/clues` with `body` and an Idempotency-Key; `cutOff` keeps only the head and half the
    /// body while the head still announces all of it.
    static func clueRequest(_ body: Data, key: String, cutOff: Bool = false) -> [UInt8] {
        let head =
            "POST /v1/clues HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: \(key)\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + Array(cutOff ? body.prefix(body.count / 2) : body)
    }
}
