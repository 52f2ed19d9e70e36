import Foundation
import Logging
import Messaging
import Models
import Storage

/// Everything the operator dashboard shows, read at one moment. A part that cannot be read
/// (the broker or the database down) is left empty and named in `problems`.
public struct OperationsSnapshot: Sendable, Encodable {
    public struct GroupLag: Sendable, Encodable {
        public var group: String
        public var total: Int64
        public var partitions: [PartitionLag]
    }

    public struct DeadLetterTopic: Sendable, Encodable {
        public var topic: String
        public var messages: Int64
        public var replayed: Int
        public var waiting: Int64 { max(0, messages - Int64(replayed)) }

        enum CodingKeys: String, CodingKey { case topic, messages, replayed, waiting }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(topic, forKey: .topic)
            try container.encode(messages, forKey: .messages)
            try container.encode(replayed, forKey: .replayed)
            try container.encode(waiting, forKey: .waiting)
        }
    }

    public var takenAt: Date
    public var lag: [GroupLag] = []
    public var deadLetters: [DeadLetterTopic] = []
    public var outbox: [OutboxBacklog] = []
    public var openClues: [OpenClues] = []
    public var assignments: [OpenAssignments] = []
    public var notifications: [NotificationBacklog] = []
    public var problems: [String] = []

    public static func take(kafka: KafkaConfiguration, database: Database, admin: KafkaAdmin, today: LocalDate) async -> OperationsSnapshot {
        var snapshot = OperationsSnapshot(takenAt: Date())
        do {
            for (group, topics) in ConsumerLag.serviceGroups(kafka) {
                let partitions = try await ConsumerLag.measure(group: group, topics: topics, admin: admin)
                snapshot.lag.append(GroupLag(group: group, total: partitions.reduce(0) { $0 + $1.lag }, partitions: partitions))
            }
        } catch {
            snapshot.problems.append("consumer lag: \(error)")
        }
        var replayed: [String: Int] = [:]
        do {
            snapshot.outbox = try await OutboxStatus.read(database)
            try await database.transaction(.allDistricts) { transaction in
                snapshot.openClues = try await BusinessFigures.openClues(in: transaction)
                snapshot.assignments = try await BusinessFigures.openAssignments(today: today, in: transaction)
                snapshot.notifications = try await BusinessFigures.notifications(in: transaction)
                for try await (topic, count) in try await transaction.query(
                    "SELECT dead_letter_topic, count(*)::integer FROM dead_letter_replays GROUP BY dead_letter_topic"
                ).decode((String, Int).self) {
                    replayed[topic] = count
                }
            }
        } catch {
            snapshot.problems.append("database: \(String(reflecting: error))")
        }
        do {
            snapshot.deadLetters = try await DeadLetters.topics(kafka: kafka, admin: admin).map {
                DeadLetterTopic(topic: $0.topic, messages: $0.messages, replayed: replayed[$0.topic] ?? 0)
            }
        } catch {
            snapshot.problems.append("dead-letter topics: \(error)")
        }
        return snapshot
    }
}
