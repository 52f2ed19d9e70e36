import Messaging
import Models

/// How far each consumer group is behind, per partition: the high watermark minus the offset
/// the group committed (a group that committed nothing is behind by everything retained).
public struct PartitionLag: Sendable, Hashable, Codable {
    public var group: String
    public var topic: String
    public var partition: Int32
    /// The group's committed offset; nil when it committed none in this partition.
    public var committed: Int64?
    public var low: Int64
    public var high: Int64

    public var lag: Int64 { max(0, high - max(committed ?? low, low)) }
}

public enum ConsumerLag {
    /// The services' consumer groups and the topics each reads, as deployed with `kafka`'s prefix.
    public static func serviceGroups(_ kafka: KafkaConfiguration) -> [(group: String, topics: [String])] {
        ServiceName.allCases.compactMap { service in
            let inputs = TopicCatalogue.inputs(of: service)
            guard !inputs.isEmpty else { return nil }
            return (kafka.topicPrefix + service.rawValue, inputs.map { kafka.topicName($0.name) })
        }
    }

    /// Lag of every partition of `topics` for `group`, asking the brokers.
    public static func measure(group: String, topics: [String], admin: KafkaAdmin) async throws -> [PartitionLag] {
        var marks: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for topic in topics { try await marks.merge(admin.partitions(of: topic)) { first, _ in first } }
        let committed = try await admin.committedOffsets(group: group, partitions: Array(marks.keys))
        return marks.keys.sorted().map { partition in
            let mark = marks[partition]!
            return PartitionLag(
                group: group, topic: partition.topic, partition: partition.partition, committed: committed[partition], low: mark.low, high: mark.high)
        }
    }
}
