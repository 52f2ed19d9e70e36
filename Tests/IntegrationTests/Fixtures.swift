import EventPipeline
import Foundation
import Logging
import Messaging
import Models
import PostgresNIO
import Storage
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A test event: `sequence` numbers the events of one key, to check order.
struct Ping: EventPayload, Hashable {
    static let eventType = "test.ping"
    static let schemaVersion = 1
    var key: String
    var sequence: Int
}

/// A topic of the tests' own, six partitions like the real ones.
let pingTopic = TopicSpec(name: "ping-events", partitions: 6, producer: .intake, eventTypes: [EventTypeSpec(Ping.self)])

let haizhu = DistrictCode(rawValue: "haizhu")!

func ping(_ key: String, _ sequence: Int) throws -> EventEnvelope {
    try EventEnvelope(Ping(key: key, sequence: sequence), district: haizhu, occurredAt: Date())
}

/// Records every application of a ping; `times` above 1 would mean an event applied twice.
/// A sequence of -1 is a poison event, rejected after it already wrote; -2 asks PostgreSQL for
/// the impossible (a null key); -3 fails every time in a way no rule recognises.
struct RecordingHandler: EventHandler {
    static let table = """
        CREATE TABLE applied_pings (
            event_id uuid PRIMARY KEY, key text NOT NULL, sequence integer NOT NULL,
            times integer NOT NULL DEFAULT 1, applied bigserial)
        """

    func handle(_ events: [EventEnvelope], of district: DistrictCode, in transaction: Transaction) async throws {
        for event in events {
            // Not wrapped: the consumer alone decides what a decoding failure means.
            let ping = try event.decodePayload(as: Ping.self)
            if ping.sequence == -2 {
                try await transaction.execute("INSERT INTO applied_pings (event_id, key, sequence) VALUES (\(event.eventID), NULL, -2)")
            }
            if ping.sequence == -3 { throw UnheardOfFailure() }
            try await transaction.execute(
                """
                INSERT INTO applied_pings (event_id, key, sequence) VALUES (\(event.eventID), \(ping.key), \(ping.sequence))
                ON CONFLICT (event_id) DO UPDATE SET times = applied_pings.times + 1
                """)
            if ping.sequence < 0 { throw EventRejection("negative sequence \(ping.sequence)") }
        }
    }
}

struct UnheardOfFailure: Error {}

/// A test's own database, topics, producer and consumer wiring for the ping topic.
struct PipelineFixture {
    let store: TestDatabase
    let kafka: KafkaConfiguration
    let producer: KafkaProducer

    init(brokers: String? = nil, control: MockClusterControl? = nil, messageTimeoutMilliseconds: Int = 30_000) async throws {
        store = try await TestDatabase()
        try await store.execute(PostgresQuery(unsafeSQL: RecordingHandler.table))
        kafka = try TestEnvironment.kafka(brokers: brokers)
        try TestEnvironment.createTopics(kafka, control: control, topics: [pingTopic])
        producer = try KafkaProducer(configuration: kafka, messageTimeoutMilliseconds: messageTimeoutMilliseconds, logger: TestEnvironment.logger)
    }

    var database: Database { store.database }

    func consumer(
        group: String, batchTimeLimit: Duration = .seconds(30), configure: (inout ConsumerConfiguration) -> Void = { _ in }
    ) -> EventConsumer {
        EventConsumer(
            group: group, topics: [pingTopic], kafka: kafka, database: database, deadLetterProducer: producer,
            handler: RecordingHandler(), logger: TestEnvironment.logger, batchTimeLimit: batchTimeLimit, configure: configure)
    }

    func relay(batchSize: Int = 500, producer: KafkaProducer? = nil) -> OutboxRelay {
        var settings = OutboxRelay.Settings()
        settings.batchSize = batchSize
        return OutboxRelay(
            database: database, producer: producer ?? self.producer, source: pingTopic.producer, kafka: kafka, settings: settings,
            logger: TestEnvironment.logger)
    }

    /// Writes `keys × perKey` pings through the outbox, `perTransaction` to a transaction.
    @discardableResult
    func writePings(keys: Int, perKey: Int, perTransaction: Int = 10, keyPrefix: String = "k") async throws -> [EventEnvelope] {
        var events: [(String, EventEnvelope)] = []
        for sequence in 0..<perKey {
            for key in 0..<keys {
                events.append(("\(keyPrefix)\(key)", try ping("\(keyPrefix)\(key)", sequence)))
            }
        }
        for chunk in stride(from: 0, to: events.count, by: perTransaction).map({ Array(events[$0..<min($0 + perTransaction, events.count)]) }) {
            try await database.transaction(.district(haizhu)) { transaction in
                for (key, event) in chunk {
                    try await Outbox.append(event, to: pingTopic, key: key, in: transaction)
                }
            }
        }
        return events.map(\.1)
    }

    func appliedCount() async throws -> Int { try await store.integer("SELECT count(*)::int FROM applied_pings") }
    func maximumTimesApplied() async throws -> Int { try await store.integer("SELECT coalesce(max(times), 0) FROM applied_pings") }
    func pendingOutbox() async throws -> Int { try await store.integer("SELECT count(*)::int FROM outbox WHERE published_at IS NULL") }

    func close() async { await producer.close() }
}

extension TestDatabase {
    /// Holds `table` locked from another session until the returned continuation finishes: a
    /// statement that needs the table waits as long as it is held.
    func lockTable(_ table: String) async throws -> AsyncStream<Void>.Continuation {
        let (released, release) = AsyncStream<Void>.makeStream()
        let (held, locked) = AsyncStream<Void>.makeStream()
        let database = self.database
        Task {
            defer { locked.finish() }
            try await database.transaction(.none) { transaction in
                try await transaction.execute(PostgresQuery(unsafeSQL: "LOCK TABLE \(table) IN EXCLUSIVE MODE"))
                locked.yield()
                locked.finish()
                for await _ in released {}
            }
        }
        var isHeld = false
        for await _ in held { isHeld = true }
        guard isHeld else { throw LockNotTaken(table: table) }
        return release
    }

    struct LockNotTaken: Error { var table: String }
}

/// Decodes the ping of a message read from a topic.
func pingOf(_ message: KafkaMessage) throws -> (EventEnvelope, Ping) {
    let envelope = try EventEnvelope.decode(from: message.value)
    return (envelope, try envelope.decodePayload(as: Ping.self))
}

/// A minimal HTTP call for tests against a running service.
func http(_ method: String, _ url: String, json: String? = nil, headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    if let json {
        request.httpBody = Data(json.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
}
