// bench-outbox: outbox relay throughput against the raw producer, measured in the same run on
// the same broker and database, so their ratio shows what the relay costs.
//
// Reads DATABASE_URL, KAFKA_BROKERS and, for the local mock cluster, KAFKA_MOCK_CONTROL.
// ops/bench/outbox/run.sh starts a private database and broker and runs it in release mode.
import ArgumentParser
import EventPipeline
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

@main
struct OutboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-outbox",
        abstract: "Measure outbox relay events/s and raw producer messages/s in one run.")

    @Option(help: "Events per measurement.") var events: Int = 20_000
    @Option(help: "Relay batch size, and the raw producer's batch size.") var batchSize: Int = 500
    @Option(help: "Events written per transaction when filling the outbox.") var perTransaction: Int = 100

    func run() async throws {
        var logger = Logger(label: "bench-outbox")
        logger.logLevel = .error
        let reader = EnvironmentReader()
        let url = reader.string("DATABASE_URL", help: "postgres://user:password@host:port/database")
        let brokers = reader.string("KAFKA_BROKERS", help: "host:port list")
        try reader.validate()
        guard let databaseConfiguration = DatabaseConfiguration(url: url) else { throw ValidationError("DATABASE_URL is malformed") }
        let kafka = KafkaConfiguration(
            brokers: brokers.split(separator: ",").map(String.init), clientID: "bench", topicPrefix: "bench\(Int.random(in: 1000...9999))-")
        let topic = TopicCatalogue.intakeEvents
        if let control = ProcessInfo.processInfo.environment["KAFKA_MOCK_CONTROL"].flatMap(MockClusterControl.init(address:)) {
            try control.createTopic(kafka.topicName(topic.name), partitions: topic.partitions, replicationFactor: 3)
        } else {
            let admin = try KafkaAdmin(configuration: kafka, logger: logger)
            try await admin.createTopics([.init(name: kafka.topicName(topic.name), partitions: topic.partitions, replicationFactor: 3)])
            await admin.close()
        }

        let database = Database(configuration: databaseConfiguration, logger: logger)
        let runner = Task { await database.client.run() }
        defer { runner.cancel() }
        try await Migrator().migrate(database, logger: logger)
        let district = DistrictCode(rawValue: "bench")!
        try await database.transaction(.none) { transaction in
            try await transaction.execute("INSERT INTO districts (code, name) VALUES ('bench', 'bench') ON CONFLICT DO NOTHING")
            try await transaction.execute("DELETE FROM outbox")
        }
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let envelopes = try (0..<events).map { index in
            try EventEnvelope(
                ClueReceived(
                    clueID: UUID(), trackingNumber: TrackingNumber(prefix: "HZ", year: 2026, sequence: index), channel: .wechat,
                    sourceCategory: .onlinePlatform, isAnonymous: true, receivedAt: Date()),
                district: district, occurredAt: Date())
        }
        let size = try envelopes[0].encoded().count
        print(
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB; brokers \(brokers)"
        )
        print("events: \(events) of \(size) bytes; batch size \(batchSize)")

        // 1. The raw producer: the same messages, batches awaited like the relay awaits them.
        let messages = try envelopes.map { OutgoingMessage(topic: kafka.topicName(topic.name), key: $0.eventID.uuidString, value: try $0.encoded()) }
        let rawStart = ContinuousClock.now
        for start in stride(from: 0, to: messages.count, by: batchSize) {
            for result in await producer.send(Array(messages[start..<min(start + batchSize, messages.count)])) { _ = try result.get() }
            progress("raw producer", done: min(start + batchSize, messages.count), of: events, since: rawStart)
        }
        let raw = rate(events, since: rawStart)
        finishProgress()

        // 2. Filling the outbox, as services do: events written in transactions.
        let fillStart = ContinuousClock.now
        for start in stride(from: 0, to: envelopes.count, by: perTransaction) {
            let chunk = Array(envelopes[start..<min(start + perTransaction, envelopes.count)])
            try await database.transaction(.district(district)) { transaction in
                for envelope in chunk {
                    try await Outbox.append(envelope, to: topic, key: envelope.eventID.uuidString, in: transaction)
                }
            }
            progress("outbox writes", done: start + chunk.count, of: events, since: fillStart)
        }
        let fill = rate(events, since: fillStart)
        finishProgress()

        // 3. The relay draining the outbox.
        var settings = OutboxRelay.Settings()
        settings.batchSize = batchSize
        settings.maximumShards = Outbox.shardCount
        let relay = OutboxRelay(database: database, producer: producer, source: topic.producer, kafka: kafka, settings: settings, logger: logger)
        let relayStart = ContinuousClock.now
        var published = 0
        while published < events {
            let count = try await relay.publishBatch()
            if count == 0 { break }
            published += count
            progress("outbox relay", done: published, of: events, since: relayStart)
        }
        let relayed = rate(published, since: relayStart)
        finishProgress()
        await producer.close()

        print(String(format: "raw producer:   %9.0f messages/s", raw))
        print(String(format: "outbox writes:  %9.0f events/s (%d per transaction)", fill, perTransaction))
        print(String(format: "outbox relay:   %9.0f events/s (%d published)", relayed, published))
        print(String(format: "relay / raw:    %9.2f", relayed / raw))
    }

    func rate(_ count: Int, since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// One line rewritten in place on a terminal; nothing in between when piped.
    func progress(_ phase: String, done: Int, of total: Int, since start: ContinuousClock.Instant) {
        guard isatty(STDOUT_FILENO) == 1 else { return }
        let perSecond = rate(done, since: start)
        let remaining = perSecond > 0 ? Double(total - done) / perSecond : 0
        FileHandle.standardOutput.write(Data(String(format: "\r%@: %d/%d  %.0f/s  ETA %.0fs   ", phase, done, total, perSecond, remaining).utf8))
    }

    func finishProgress() {
        if isatty(STDOUT_FILENO) == 1 { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
    }
}
