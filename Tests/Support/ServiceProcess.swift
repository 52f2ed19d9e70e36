import Foundation
import Messaging

/// A service as an operator runs it: the executable the build made (`SERVICE_BINARIES`), on a
/// free port, against the test's database and topics, logging errors only.
public struct ServiceProcess: Sendable {
    public let name: String
    public let process: ChildProcess
    public let port: Int

    public var base: String { "http://127.0.0.1:\(port)" }

    public init(_ name: String, databaseURL: String, kafka: KafkaConfiguration, environment extra: [String: String] = [:]) throws {
        let port = try TestEnvironment.freePort()
        let binary = URL(fileURLWithPath: try TestEnvironment.value("SERVICE_BINARIES")).appendingPathComponent(name).path
        var environment = [
            "DATABASE_URL": databaseURL, "KAFKA_BROKERS": kafka.brokers.joined(separator: ","), "KAFKA_TOPIC_PREFIX": kafka.topicPrefix,
            "TOKEN_SECRET": TestEnvironment.tokenSecret, "HTTP_PORT": String(port), "LOG_LEVEL": "error", "INSTANCE_ID": "\(name)-\(port)",
        ]
        environment.merge(extra) { _, new in new }
        self.name = name
        self.process = try ChildProcess(binary, environment: environment)
        self.port = port
    }

    public func kill() { process.signal(SIGKILL) }
}
