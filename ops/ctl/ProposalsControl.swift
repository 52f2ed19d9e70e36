// proposals-ctl: the operator's command line. Reads DATABASE_URL, KAFKA_BROKERS and the other
// variables of README.md's configuration table, like the services do.
import ArgumentParser
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

@main
struct ProposalsControl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proposals-ctl",
        abstract: "Operate the citizens' proposals pipeline: database, topics, districts, credentials.",
        subcommands: [Migrate.self, Topics.self, Districts.self, IntegrationKeys.self, Token.self])
}

/// Environment shared by the subcommands; only what a command uses is required.
struct Environment {
    static func database(logger: Logger) throws -> Database {
        let reader = EnvironmentReader()
        let url = reader.string("DATABASE_URL", help: "postgres://user:password@host:port/database")
        try reader.validate()
        guard let configuration = DatabaseConfiguration(url: url) else {
            throw ValidationError("DATABASE_URL: must look like postgres://user:password@host:port/database")
        }
        return Database(configuration: configuration, logger: logger)
    }

    static func kafka() throws -> KafkaConfiguration {
        let reader = EnvironmentReader()
        let brokers = reader.string("KAFKA_BROKERS", help: "comma-separated host:port list")
        let prefix = reader.string("KAFKA_TOPIC_PREFIX", default: "", help: "")
        try reader.validate()
        return KafkaConfiguration(brokers: brokers.split(separator: ",").map(String.init), clientID: "proposals-ctl", topicPrefix: prefix)
    }

    static var logger: Logger {
        var logger = Logger(label: "proposals-ctl")
        logger.logLevel = .error
        return logger
    }
}

/// Runs `body` while the database client runs.
func withDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
    let database = try Environment.database(logger: Environment.logger)
    return try await database.running { try await body(database) }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations that are missing (safe to run from several processes at once).")

    func run() async throws {
        let logger = Environment.logger
        let applied = try await withDatabase { database in try await Migrator().migrate(database, logger: logger) }
        print(applied.isEmpty ? "database is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
    }
}

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and list the pipeline's topics.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create every topic of the catalogue and its dead-letter topic; existing topics are kept.")

        @Option(help: "Replication factor (3 on a production cluster, at most the number of brokers).")
        var replicationFactor: Int = Int(ProcessInfo.processInfo.environment["KAFKA_REPLICATION_FACTOR"] ?? "") ?? 3

        @Option(help: "Control address of the local mock cluster (host:port); its topics are created through it because the mock has no CreateTopics API. Default: KAFKA_MOCK_CONTROL.")
        var mockControl: String?

        func run() async throws {
            let kafka = try Environment.kafka()
            let topics = TopicCatalogue.all.flatMap { topic in
                [
                    KafkaAdmin.NewTopic(name: kafka.topicName(topic.name), partitions: topic.partitions, replicationFactor: replicationFactor),
                    KafkaAdmin.NewTopic(name: kafka.topicName(topic.deadLetterName), partitions: 1, replicationFactor: replicationFactor),
                ]
            }
            if let mockControl = mockControl ?? ProcessInfo.processInfo.environment["KAFKA_MOCK_CONTROL"] {
                guard let control = MockClusterControl(address: mockControl) else { throw ValidationError("--mock-control: expected host:port") }
                for topic in topics { try control.createTopic(topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor) }
            } else {
                let admin = try KafkaAdmin(configuration: kafka, logger: Environment.logger)
                try await admin.createTopics(topics)
                await admin.close()
            }
            for topic in topics { print("\(topic.name)\t\(topic.partitions) partitions") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cluster's topics with their partition counts.")

        func run() async throws {
            let admin = try KafkaAdmin(configuration: try Environment.kafka(), logger: Environment.logger)
            let topics = try await admin.topics()
            await admin.close()
            for (name, partitions) in topics.sorted(by: { $0.key < $1.key }) { print("\(name)\t\(partitions)") }
        }
    }
}

struct Districts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Configure districts.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a district, or rename one that exists.")

        @Argument(help: "District code: lower-case letters, digits and hyphens (e.g. haizhu).")
        var code: String
        @Argument(help: "Display name (e.g. 海珠区).")
        var name: String
        @Option(help: "Tracking-number prefix: 1-8 upper-case letters or digits, starting with a letter (e.g. HZ).")
        var trackingPrefix: String
        @Flag(help: "Let residents submit through the public web form without credentials.")
        var publicSubmission = false
        @Option(help: "Public submissions allowed per client address and hour.")
        var publicSubmissionsPerHour = 20
        @Option(help: "The municipal tenant of this deployment that the through train (直通车) sends clues up to.")
        var parent: String?
        @Option(help: "The committee's current session (届), the first part of filed proposals' case numbers.")
        var session = 1
        @Option(help: "Similarity (Jaccard, 0.2-0.95) at which a clue joins a group of near-duplicates.")
        var similarityThreshold = 0.5
        @Flag(help: "Let several claimants hold one reference topic at once (co-claiming).")
        var coClaiming = false

        func validate() throws {
            guard DistrictCode(rawValue: code) != nil else { throw ValidationError("code: 2-32 lower-case letters, digits or hyphens") }
            guard trackingPrefix.range(of: "^[A-Z][A-Z0-9]{0,7}$", options: .regularExpression) != nil else {
                throw ValidationError("--tracking-prefix: 1-8 upper-case letters or digits, starting with a letter")
            }
            guard publicSubmissionsPerHour > 0 else { throw ValidationError("--public-submissions-per-hour: must be positive") }
            if let parent {
                guard DistrictCode(rawValue: parent) != nil, parent != code else { throw ValidationError("--parent: another district's code") }
            }
            guard session > 0 else { throw ValidationError("--session: must be positive") }
            guard (0.2...0.95).contains(similarityThreshold) else { throw ValidationError("--similarity-threshold: between 0.2 and 0.95") }
        }

        func run() async throws {
            let district = DistrictCode(rawValue: code)!
            let (name, prefix, open, perHour) = (self.name, trackingPrefix, publicSubmission, publicSubmissionsPerHour)
            let (parent, session, threshold, coClaiming) = (self.parent, self.session, similarityThreshold, self.coClaiming)
            try await withDatabase { database in
                try await database.transaction(.none) { transaction in
                    try await transaction.execute("""
                        INSERT INTO districts (code, name, tracking_prefix, public_submission, public_submissions_per_hour, parent,
                                               current_session, similarity_threshold, co_claiming)
                        VALUES (\(district.rawValue), \(name), \(prefix), \(open), \(perHour), \(parent), \(session), \(threshold)::real,
                                \(coClaiming))
                        ON CONFLICT (code) DO UPDATE SET name = excluded.name, tracking_prefix = excluded.tracking_prefix,
                            public_submission = excluded.public_submission, public_submissions_per_hour = excluded.public_submissions_per_hour,
                            parent = excluded.parent, current_session = excluded.current_session,
                            similarity_threshold = excluded.similarity_threshold, co_claiming = excluded.co_claiming
                        """)
                }
            }
            print("district \(district) \(name), tracking numbers \(prefix)-YYYY-NNNNNN, public submission \(open ? "on (\(perHour)/hour per address)" : "off")"
                + (parent.map { ", through train to \($0)" } ?? "") + ", session \(session), grouping at similarity \(threshold)")
        }
    }
}

struct IntegrationKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integration-key", abstract: "Credentials of machine integrations.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an integration key scoped to districts and channels; print its secret once.")

        @Option(name: .customLong("district"), help: "A district the integration submits for (repeatable).") var districts: [String]
        @Option(name: .customLong("channel"), help: "A channel the integration submits through (repeatable; default: government-service-app, wechat, web, qr-code, open311).")
        var channels: [String] = []
        @Option(help: "Key id the integration sends in X-Key-Id (letters, digits, - and _).") var keyID: String
        @Option(help: "Requests per minute before 429.") var requestsPerMinute = 600
        @Option(help: "What the integration is.") var description: String = ""

        func validate() throws {
            guard !districts.isEmpty, districts.allSatisfy({ DistrictCode(rawValue: $0) != nil }) else { throw ValidationError("--district: give one or more district codes") }
            guard channels.allSatisfy({ Channel(rawValue: $0) != nil }) else {
                throw ValidationError("--channel: one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard keyID.range(of: "^[A-Za-z0-9_-]{2,64}$", options: .regularExpression) != nil else { throw ValidationError("--key-id: 2-64 letters, digits, - or _") }
            guard requestsPerMinute > 0 else { throw ValidationError("--requests-per-minute: must be positive") }
        }

        func run() async throws {
            let secret = (0..<4).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "") }.joined()
            let channels = self.channels.isEmpty ? ["government-service-app", "wechat", "web", "qr-code", "open311"] : self.channels
            let (keyID, description, districts, perMinute) = (self.keyID, self.description, self.districts, requestsPerMinute)
            try await withDatabase { database in
                try await database.transaction(.none) { transaction in
                    try await transaction.execute("""
                        INSERT INTO integration_keys (key_id, districts, channels, requests_per_minute, secret, description)
                        VALUES (\(keyID), \(districts), \(channels), \(perMinute), \(secret), \(description))
                        """)
                }
            }
            print("key id: \(keyID)\nsecret: \(secret)\nOpen311 api_key: \(keyID):\(secret)")
            print("districts: \(districts.joined(separator: ", ")); channels: \(channels.joined(separator: ", ")); \(perMinute) requests/minute")
        }
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue a signed bearer token for staff or a handling unit (uses TOKEN_SECRET).")

    @Option(help: "Who holds it (a person's or unit's identifier).") var subject: String
    @Option(help: "Role: \(StaffClaims.Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
    @Option(help: "District code.") var district: String
    @Option(help: "Handling unit id, for the handling-unit role.") var unit: String?
    @Option(help: "Validity in hours.") var hours: Int = 12

    func run() async throws {
        let reader = EnvironmentReader()
        let secret = reader.string("TOKEN_SECRET", help: "at least 32 characters")
        try reader.validate()
        guard let role = StaffClaims.Role(rawValue: role) else { throw ValidationError("--role: not a known role") }
        guard let district = DistrictCode(rawValue: district) else { throw ValidationError("--district: not a district code") }
        let unitID = try unit.map { text in
            guard let id = UUID(uuidString: text) else { throw ValidationError("--unit: not a UUID") }
            return id
        }
        let claims = StaffClaims(subject: subject, role: role, district: district, unitID: unitID, expiresAt: Date().addingTimeInterval(Double(hours) * 3600))
        print(try StaffTokenSigner(secret: secret).token(for: claims))
    }
}
