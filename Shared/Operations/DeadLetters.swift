import Foundation
import Logging
import Messaging
import Models
import Storage

/// One message on a dead-letter topic, with where it came from and why it was rejected.
public struct DeadLetterEntry: Sendable, Hashable {
    public var message: KafkaMessage
    public var originTopic: String?
    public var originPartition: Int32?
    public var originOffset: Int64?
    public var reason: String
    public var consumerGroup: String?
    public var failedAt: String?
    /// Read from the envelope when it decodes; a malformed message has neither.
    public var eventType: String?
    public var eventID: UUID?
    /// When `dlq replay` published it again, if it did.
    public var replayedAt: Date?

    public init(_ message: KafkaMessage) {
        self.message = message
        func header(_ name: String) -> String? { message.headers.last { $0.name == name }?.stringValue }
        originTopic = header(DeadLetter.originTopicHeader)
        originPartition = header(DeadLetter.originPartitionHeader).flatMap { Int32($0) }
        originOffset = header(DeadLetter.originOffsetHeader).flatMap { Int64($0) }
        reason = header(DeadLetter.reasonHeader) ?? "(no reason recorded)"
        consumerGroup = header(DeadLetter.consumerGroupHeader)
        failedAt = header(DeadLetter.failedAtHeader)
        if let envelope = try? EventEnvelope.decode(from: message.value) {
            eventType = envelope.type
            eventID = envelope.eventID
        }
    }

    public var position: TopicPartition { TopicPartition(topic: message.topic, partition: message.partition) }

    /// The message to publish on the original topic: the same key, value and headers, without
    /// the dead-letter headers, marked with where it was replayed from.
    public func replayMessage() -> OutgoingMessage? {
        guard let originTopic else { return nil }
        var headers = message.headers.filter { !$0.name.hasPrefix("dlq-") }
        headers.append(KafkaHeader(name: DeadLetter.replayedFromHeader, string: "\(message.topic)/\(message.partition)/\(message.offset)"))
        return OutgoingMessage(topic: originTopic, key: message.key, value: message.value, headers: headers)
    }
}

/// Reading and replaying dead-letter topics.
public struct DeadLetters: Sendable {
    public let kafka: KafkaConfiguration
    public let database: Database
    public let logger: Logger

    public init(kafka: KafkaConfiguration, database: Database, logger: Logger) {
        self.kafka = kafka
        self.database = database
        self.logger = logger
    }

    /// The dead-letter topics of the catalogue as deployed, with how many messages each holds.
    public static func topics(kafka: KafkaConfiguration, admin: KafkaAdmin) async throws -> [(topic: String, messages: Int64)] {
        var result: [(String, Int64)] = []
        for spec in TopicCatalogue.all {
            let name = kafka.topicName(spec.deadLetterName)
            let marks = try await admin.partitions(of: name)
            result.append((name, marks.values.reduce(0) { $0 + $1.high - $1.low }))
        }
        return result
    }

    /// The entries of `topic` (a dead-letter topic's full name), optionally only one partition
    /// and offset, with the replays recorded for them.
    public func entries(of topic: String, partition: Int32? = nil, offset: Int64? = nil, admin: KafkaAdmin) async throws -> [DeadLetterEntry] {
        var marks = try await admin.partitions(of: topic)
        if let partition { marks = marks.filter { $0.key.partition == partition } }
        var starts = marks.mapValues(\.low)
        var ends = marks.mapValues(\.high)
        if let offset {
            for key in marks.keys where (marks[key]!.low..<marks[key]!.high).contains(offset) {
                starts[key] = offset
                ends[key] = offset + 1
            }
            ends = ends.filter { starts[$0.key] == offset }
        }
        var entries: [DeadLetterEntry] = []
        let reader = try KafkaPartitionReader(configuration: kafka, logger: logger)
        do {
            try await reader.read(from: starts, until: ends) { messages in entries += messages.map(DeadLetterEntry.init) }
            await reader.close()
        } catch {
            await reader.close()
            throw error
        }
        let replays = try await replayTimes(topic: topic)
        for index in entries.indices {
            entries[index].replayedAt = replays[Position(entries[index].message.partition, entries[index].message.offset)]
        }
        return entries.sorted { ($0.message.partition, $0.message.offset) < ($1.message.partition, $1.message.offset) }
    }

    struct Position: Hashable {
        var partition: Int32
        var offset: Int64
        init(_ partition: Int32, _ offset: Int64) {
            self.partition = partition
            self.offset = offset
        }
    }

    private func replayTimes(topic: String) async throws -> [Position: Date] {
        try await database.transaction(.none) { transaction in
            var times: [Position: Date] = [:]
            for try await (partition, offset, at) in try await transaction.query(
                """
                SELECT dead_letter_partition, dead_letter_offset, replayed_at FROM dead_letter_replays WHERE dead_letter_topic = \(topic)
                """
            ).decode((Int32, Int64, Date).self) {
                times[Position(partition, offset)] = at
            }
            return times
        }
    }

    public enum ReplayOutcome: Sendable, Hashable {
        case replayed
        case alreadyReplayed(Date)
        case noOrigin
        case wouldReplay
    }

    /// Publishes each entry not replayed before back to its original topic, waits for the
    /// broker's acknowledgement, then records it. Consumers recognise events they applied by
    /// id, so a replay after a crash between publishing and recording applies nothing twice.
    public func replay(
        _ entries: [DeadLetterEntry], by operator: String, dryRun: Bool, producer: KafkaProducer?,
        progress: (Int) -> Void = { _ in }
    ) async throws -> [(DeadLetterEntry, ReplayOutcome)] {
        var outcomes: [(DeadLetterEntry, ReplayOutcome)] = []
        for (index, entry) in entries.enumerated() {
            defer { progress(index + 1) }
            if let at = entry.replayedAt {
                outcomes.append((entry, .alreadyReplayed(at)))
                continue
            }
            guard let message = entry.replayMessage() else {
                outcomes.append((entry, .noOrigin))
                continue
            }
            if dryRun || producer == nil {
                outcomes.append((entry, .wouldReplay))
                continue
            }
            _ = try await producer!.send(message)
            try await database.transaction(.none) { transaction in
                try await transaction.execute(
                    """
                    INSERT INTO dead_letter_replays (dead_letter_topic, dead_letter_partition, dead_letter_offset, origin_topic, event_id, replayed_by)
                    VALUES (\(entry.message.topic), \(entry.message.partition), \(entry.message.offset), \(message.topic), \(entry.eventID), \(`operator`))
                    ON CONFLICT DO NOTHING
                    """)
            }
            outcomes.append((entry, .replayed))
        }
        return outcomes
    }
}
