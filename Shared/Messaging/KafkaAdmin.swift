import Logging
import NIOPosix

/// Topic administration and metadata: creating topics, reading partition counts and offsets,
/// and the broker half of readiness.
public final class KafkaAdmin: Sendable {
    private let client: RDKafkaClient
    private let thread: NIOThreadPool
    private let logger: Logger
    private let configuration: KafkaConfiguration

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        self.logger = logger
        self.configuration = configuration
        self.client = try RDKafkaClient(kind: .producer, properties: configuration.commonProperties, logger: logger)
        self.thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    public struct NewTopic: Sendable, Hashable {
        public var name: String
        public var partitions: Int
        public var replicationFactor: Int

        public init(name: String, partitions: Int, replicationFactor: Int) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
        }
    }

    /// Creates the topics that do not exist yet; existing ones are left as they are.
    public func createTopics(_ topics: [NewTopic], timeoutMilliseconds: Int = 15_000) async throws {
        let client = self.client
        try await thread.runIfActive {
            try client.createTopics(
                topics.map { ($0.name, $0.partitions, $0.replicationFactor) },
                timeoutMilliseconds: Int32(timeoutMilliseconds))
        }
    }

    /// Every topic the cluster knows, with its partition count.
    public func topics(timeoutMilliseconds: Int = 5_000) async throws -> [String: Int] {
        let client = self.client
        return try await thread.runIfActive {
            let topics = try client.metadata(timeoutMilliseconds: Int32(timeoutMilliseconds))
            return Dictionary(topics.filter { $0.error == nil }.map { ($0.name, $0.partitions) }, uniquingKeysWith: max)
        }
    }

    /// The broker id leading each partition of `topic`.
    public func leaders(of topic: String, timeoutMilliseconds: Int = 5_000) async throws -> [Int32: Int32] {
        let client = self.client
        return try await thread.runIfActive {
            try client.metadata(timeoutMilliseconds: Int32(timeoutMilliseconds)).first { $0.name == topic }?.leaders ?? [:]
        }
    }

    /// Low and high watermark of one partition.
    public func watermarks(topic: String, partition: Int32, timeoutMilliseconds: Int = 5_000) async throws -> (low: Int64, high: Int64) {
        let client = self.client
        return try await thread.runIfActive {
            try client.watermarks(topic: topic, partition: partition, timeoutMilliseconds: Int32(timeoutMilliseconds))
        }
    }

    /// Low and high watermark of every partition of `topic` (empty when the topic does not exist).
    public func partitions(of topic: String) async throws -> [TopicPartition: (low: Int64, high: Int64)] {
        guard let count = try await topics()[topic] else { return [:] }
        var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for partition in 0..<Int32(count) {
            result[TopicPartition(topic: topic, partition: partition)] = try await watermarks(topic: topic, partition: partition)
        }
        return result
    }

    /// The offsets consumer group `group` committed for `partitions` (absent: none committed).
    /// Asks the group's coordinator without joining the group.
    public func committedOffsets(group: String, partitions: [TopicPartition], timeoutMilliseconds: Int = 10_000) async throws -> [TopicPartition:
        Int64]
    {
        guard !partitions.isEmpty else { return [:] }
        var properties = ["group.id": group, "enable.auto.commit": "false"]
        properties.merge(configuration.commonProperties) { _, configured in configured }
        let reader = try RDKafkaClient(kind: .consumer, properties: properties, logger: logger)
        defer { reader.destroy() }
        return try await thread.runIfActive {
            try reader.committed(partitions, timeoutMilliseconds: Int32(timeoutMilliseconds))
        }
    }

    /// How many messages a topic holds now (high minus low watermark, summed over partitions).
    public func messageCount(topic: String) async throws -> Int64 {
        guard let partitions = try await topics()[topic] else { return 0 }
        var total: Int64 = 0
        for partition in 0..<partitions {
            let marks = try await watermarks(topic: topic, partition: Int32(partition))
            total += marks.high - marks.low
        }
        return total
    }

    /// Whether at least one broker answers a metadata request in time.
    public func ping(timeoutMilliseconds: Int = 2_000) async -> Bool {
        let client = self.client
        return
            (try? await thread.runIfActive {
                _ = try client.metadata(timeoutMilliseconds: Int32(timeoutMilliseconds))
            }) != nil
    }

    public func close() async {
        try? await thread.shutdownGracefully()
        client.destroy()
    }
}
