import Foundation
import Logging
import Messaging
import Models
import Storage

public enum LogFormat: String, CaseIterable, Sendable {
    case plain, json
}

public enum LogLevelName: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical
    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

/// Everything a service reads from its environment. See docs/configuration.md.
public struct ServiceConfiguration: Sendable {
    public var service: ServiceName
    public var instanceID: String
    public var httpHost: String
    public var httpPort: Int
    public var database: DatabaseConfiguration
    public var kafka: KafkaConfiguration
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// Signs and verifies staff and handling-unit bearer tokens.
    public var tokenSecret: String
    /// How far a signed integration request's timestamp may be from the server's clock.
    public var signatureWindowSeconds: Int
    /// Most messages the consumer applies in one transaction (one commit, then the offsets).
    public var consumerMaxBatch: Int
    /// Days a consumed event's id is kept to recognise it when delivered again: longer than the
    /// topics' retention and than any dead letter waits for its replay.
    public var processedEventsRetentionDays: Int
    /// The variables the service was started with.
    public var environment: [String: String]
    /// The service's own settings as `fromEnvironment` read them (`ServiceDefinition.settings`);
    /// nil for a configuration made in code, whose `environment` the app reads instead.
    public var settings: (any ServiceSettings)?

    public static let defaultPorts: [ServiceName: Int] = [
        .workbench: 8080, .intake: 8081, .triage: 8082, .assignment: 8083, .supervision: 8084, .publicity: 8085,
    ]

    public init(
        service: ServiceName, instanceID: String, httpHost: String = "127.0.0.1", httpPort: Int,
        database: DatabaseConfiguration, kafka: KafkaConfiguration, logLevel: Logger.Level = .info,
        logFormat: LogFormat = .plain, tokenSecret: String, signatureWindowSeconds: Int = 300, consumerMaxBatch: Int = 500,
        processedEventsRetentionDays: Int = 90, environment: [String: String] = [:]
    ) {
        self.environment = environment
        self.processedEventsRetentionDays = processedEventsRetentionDays
        self.consumerMaxBatch = consumerMaxBatch
        self.service = service
        self.instanceID = instanceID
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.database = database
        self.kafka = kafka
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.tokenSecret = tokenSecret
        self.signatureWindowSeconds = signatureWindowSeconds
    }

    /// Reads and validates the environment; the error lists every bad variable.
    public static func fromEnvironment(
        _ service: ServiceName, environment: [String: String] = ProcessInfo.processInfo.environment,
        settings settingsType: (any ServiceSettings.Type)? = nil
    ) throws(ConfigurationError) -> ServiceConfiguration {
        let reader = EnvironmentReader(environment)
        let settings = settingsType?.init(reader)
        let prefix = service.rawValue.uppercased()
        let instance = reader.string("INSTANCE_ID", default: "\(service.rawValue)-\(ProcessInfo.processInfo.hostName)-\(getpid())", help: "")
        let host = reader.string("HTTP_HOST", default: "127.0.0.1", help: "")
        let port = reader.integer(
            "\(prefix)_HTTP_PORT", default: reader.integer("HTTP_PORT", default: defaultPorts[service]!, range: 0...65535), range: 0...65535)
        let databaseURL = reader.string("DATABASE_URL", help: "postgres://user:password@host:port/database")
        var database = DatabaseConfiguration(url: databaseURL)
        if database == nil && !databaseURL.isEmpty {
            reader.problem("DATABASE_URL", "must look like postgres://user:password@host:port/database")
        }
        database?.maximumConnections = reader.integer("DATABASE_POOL_SIZE", default: 10, range: 1...200)
        let brokerList = reader.string("KAFKA_BROKERS", help: "comma-separated host:port list")
        let brokers = brokerList.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if !brokerList.isEmpty && brokers.contains(where: { !isHostPort($0) }) {
            reader.problem("KAFKA_BROKERS", "every entry must be host:port, got \"\(brokerList)\"")
        }
        let properties = parseProperties(reader.optionalString("KAFKA_PROPERTIES"), reader: reader)
        let topicPrefix = reader.string("KAFKA_TOPIC_PREFIX", default: "", help: "")
        let level = reader.choice("LOG_LEVEL", default: LogLevelName.info).level
        let format = reader.choice("LOG_FORMAT", default: LogFormat.plain)
        let secret = reader.string("TOKEN_SECRET", help: "at least 32 characters; signs staff and unit tokens")
        if !secret.isEmpty && secret.utf8.count < 32 {
            reader.problem("TOKEN_SECRET", "must be at least 32 characters")
        }
        let window = reader.integer("SIGNATURE_WINDOW_SECONDS", default: 300, range: 10...3600)
        let batch = reader.integer("CONSUMER_MAX_BATCH", default: 500, range: 1...10_000)
        let retention = reader.integer("PROCESSED_EVENTS_RETENTION_DAYS", default: 90, range: 14...3_650)
        try reader.validate()
        var configuration = ServiceConfiguration(
            service: service, instanceID: instance, httpHost: host, httpPort: port, database: database!,
            kafka: KafkaConfiguration(brokers: brokers, clientID: instance, topicPrefix: topicPrefix, properties: properties),
            logLevel: level, logFormat: format, tokenSecret: secret, signatureWindowSeconds: window, consumerMaxBatch: batch,
            processedEventsRetentionDays: retention, environment: environment)
        configuration.settings = settings
        return configuration
    }

    private static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, let port = Int(text[text.index(after: colon)...]) else { return false }
        return (1...65535).contains(port)
    }

    /// `KAFKA_PROPERTIES=security.protocol=SASL_SSL;sasl.mechanisms=PLAIN` passes settings through to librdkafka.
    public static func parseProperties(_ text: String?, reader: EnvironmentReader) -> [String: String] {
        guard let text else { return [:] }
        var properties: [String: String] = [:]
        for pair in text.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                reader.problem("KAFKA_PROPERTIES", "entries must be name=value separated by ';', got \"\(pair)\"")
                continue
            }
            properties[parts[0]] = parts[1]
        }
        return properties
    }
}
