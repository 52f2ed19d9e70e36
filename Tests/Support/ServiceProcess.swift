import Foundation
import Messaging

/// A service as an operator runs it: the executable the build made (`SERVICE_BINARIES`), on a
/// free port, against the test's database and topics. It logs warnings and errors (or
/// `TEST_SERVICE_LOG_LEVEL`) to `log`, under `$STATE/logs/services/`, for a failing test to point at.
public struct ServiceProcess: Sendable {
    public let name: String
    public let process: ChildProcess
    public let port: Int
    public let log: String

    public var base: String { "http://127.0.0.1:\(port)" }

    /// `port`: the port to listen on (a restarted instance takes its old one); a free one when nil.
    public init(_ name: String, databaseURL: String, kafka: KafkaConfiguration, environment extra: [String: String] = [:], port: Int? = nil) throws {
        let port = try port ?? TestEnvironment.freePort()
        let binary = URL(fileURLWithPath: try TestEnvironment.value("SERVICE_BINARIES")).appendingPathComponent(name).path
        var environment = [
            "DATABASE_URL": databaseURL, "KAFKA_BROKERS": kafka.brokers.joined(separator: ","), "KAFKA_TOPIC_PREFIX": kafka.topicPrefix,
            "TOKEN_SECRET": TestEnvironment.tokenSecret, "HTTP_PORT": String(port),
            "LOG_LEVEL": ProcessInfo.processInfo.environment["TEST_SERVICE_LOG_LEVEL"] ?? "warning", "INSTANCE_ID": "\(name)-\(port)",
        ]
        environment.merge(extra) { _, new in new }
        let logs = (ProcessInfo.processInfo.environment["STATE"] ?? NSTemporaryDirectory()) + "/logs/services"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        self.log = "\(logs)/\(name)-\(port)-\(UUID().uuidString.prefix(4)).log"
        self.name = name
        self.process = try ChildProcess(binary, environment: environment, standardOutput: .file(log), standardError: .file(log))
        self.port = port
    }

    public func kill() { process.signal(SIGKILL) }

    /// The last lines the process logged, for a failing expectation to show (the log files of a
    /// run are gone by the next one, and CI keeps only the output).
    public func logTail(lines: Int = 25) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no log at \(log))"
        return "\(name) on port \(port), log \(log), last lines:\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
