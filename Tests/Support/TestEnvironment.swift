import EventPipeline
import Foundation
import Logging
import Messaging
import Models
import PostgresNIO
import Storage

/// What ops/test.sh started for the tests: a PostgreSQL cluster and a Kafka mock cluster.
/// Running `swift test` without it fails with a message saying so: integration tests are never
/// skipped.
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        public let variable: String
        public var description: String {
            "\(variable) is not set: run the tests with ops/test.sh, which starts PostgreSQL and the Kafka mock cluster"
        }
    }

    public static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }

    /// The token secret every service of a test is started with.
    public static let tokenSecret = String(repeating: "s", count: 32)

    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    public static func databaseServer() throws -> DatabaseConfiguration {
        let url = try value("TEST_DATABASE_URL")
        guard let configuration = DatabaseConfiguration(url: url) else { throw Missing(variable: "TEST_DATABASE_URL (malformed)") }
        return configuration
    }

    /// Kafka settings with a topic prefix of the test's own, so tests never see each other's messages.
    public static func kafka(brokers: String? = nil) throws -> KafkaConfiguration {
        let list = try brokers ?? value("KAFKA_BROKERS")
        return KafkaConfiguration(
            brokers: list.split(separator: ",").map(String.init), clientID: "test",
            topicPrefix: "t\(UUID().uuidString.prefix(8).lowercased())-")
    }

    public static func mockControl() throws -> MockClusterControl {
        guard let control = MockClusterControl(address: try value("KAFKA_MOCK_CONTROL")) else {
            throw Missing(variable: "KAFKA_MOCK_CONTROL (malformed)")
        }
        return control
    }

    /// Creates the catalogue's topics (or `topics`) under the configuration's prefix.
    public static func createTopics(_ kafka: KafkaConfiguration, control: MockClusterControl? = nil, topics: [TopicSpec] = TopicCatalogue.all) throws
    {
        let control = try control ?? mockControl()
        for topic in topics {
            try control.createTopic(kafka.topicName(topic.name), partitions: topic.partitions, replicationFactor: 3)
            try control.createTopic(kafka.topicName(topic.deadLetterName), partitions: 1, replicationFactor: 3)
        }
    }
}

/// A fresh, migrated database of the test's own, with districts `haizhu` and `tianhe`.
public final class TestDatabase: Sendable {
    public let database: Database
    public let name: String
    private let runner: Task<Void, Never>

    public init(districts: [String: String] = ["haizhu": "海珠区", "tianhe": "天河区"]) async throws {
        let server = try TestEnvironment.databaseServer()
        name = "t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = Database(configuration: server, logger: TestEnvironment.logger)
        let adminRunner = Task { await admin.client.run() }
        let createName = name
        try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(createName)"), logger: TestEnvironment.logger)
        adminRunner.cancel()

        database = Database(configuration: server.with(database: name), logger: TestEnvironment.logger)
        let client = database.client
        runner = Task { await client.run() }
        try await Migrator().migrate(database, logger: TestEnvironment.logger)
        for (code, districtName) in districts {
            try await database.transaction(.none) { transaction in
                try await transaction.execute("INSERT INTO districts (code, name) VALUES (\(code), \(districtName))")
            }
        }
    }

    public var configuration: DatabaseConfiguration { database.configuration }

    /// `DATABASE_URL` for an executable started on this database.
    public var url: String {
        let configuration = self.configuration
        return
            "postgres://\(configuration.user):\(configuration.password ?? "")@\(configuration.host):\(configuration.port)/\(configuration.database)"
    }

    /// The first column of the first row as text; nil when there is no row or it is null.
    public func string(_ query: PostgresQuery, scope: DistrictScope = .allDistricts) async throws -> String? {
        try await database.transaction(scope) { transaction in
            for try await value in try await transaction.query(query).decode(String?.self) { return value }
            return nil
        }
    }

    /// The first column of the first row as an Int (e.g. a count), read in `scope`.
    public func integer(_ query: PostgresQuery, scope: DistrictScope = .allDistricts) async throws -> Int {
        try await database.transaction(scope) { transaction in
            for try await value in try await transaction.query(query).decode(Int.self) { return value }
            return 0
        }
    }

    public func execute(_ query: PostgresQuery, scope: DistrictScope = .none) async throws {
        try await database.transaction(scope) { transaction in try await transaction.execute(query) }
    }

    deinit { runner.cancel() }
}
