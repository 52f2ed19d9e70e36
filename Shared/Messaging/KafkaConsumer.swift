import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A consumer-group member. Offsets are never committed automatically: the caller commits
/// after its database transaction, so a crash re-delivers rather than skips.
public final class KafkaConsumer: Sendable {
    private let client: RDKafkaClient
    /// librdkafka's poll and commit block, so they run on a thread of this consumer's own.
    private let thread: NIOThreadPool
    private let configuration: ConsumerConfiguration
    private let logger: Logger
    /// What this member committed, per partition, since the last rebalance.
    private let committedOffsets = Mutex<(rebalance: Int, offsets: [TopicPartition: Int64])>((0, [:]))

    public init(configuration: KafkaConfiguration, consumer: ConsumerConfiguration, logger: Logger) throws(KafkaError) {
        var properties = [
            "group.id": consumer.groupID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": consumer.startFromEarliest ? "earliest" : "latest",
            "session.timeout.ms": String(consumer.sessionTimeoutMilliseconds),
            "heartbeat.interval.ms": String(max(500, consumer.sessionTimeoutMilliseconds / 4)),
            "topic.metadata.refresh.interval.ms": "10000",
            // How long a fetch waits when the partition has nothing new: Apache Kafka answers as
            // soon as data arrives, the mock cluster only after the wait, so librdkafka's 500 ms
            // put up to half a second on every hop (the pipeline benchmark's latency halved at 25).
            "fetch.wait.max.ms": "25",
        ]
        properties.merge(configuration.commonProperties) { _, configured in configured }
        var logger = logger
        logger[metadataKey: "group"] = "\(consumer.groupID)"
        self.client = try RDKafkaClient(kind: .consumer, properties: properties, logger: logger)
        self.configuration = consumer
        self.logger = logger
        self.thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        try client.subscribe(to: consumer.topics)
    }

    /// The partitions this member owns right now.
    public var assignment: Set<TopicPartition> { client.assignment }

    /// Up to `maxBatchSize` messages: waits up to the poll timeout for the first, then takes
    /// whatever else is already fetched. Empty when nothing arrived.
    public func poll() async throws -> [KafkaMessage] {
        let client = self.client
        let limit = configuration.maxBatchSize
        let timeout = Int32(configuration.pollTimeoutMilliseconds)
        let logger = self.logger
        return try await thread.runIfActive {
            var batch: [KafkaMessage] = []
            var wait = timeout
            while batch.count < limit {
                switch client.consumerPoll(milliseconds: wait) {
                case .message(let message):
                    batch.append(message)
                    wait = 0
                case .error(let error):
                    logger.warning("consumer: \(error)")
                    wait = 0
                case .none:
                    return batch
                }
            }
            return batch
        }
    }

    /// Commits the position after the last of `messages` in each partition.
    public func commit(_ messages: [KafkaMessage]) async throws {
        var offsets: [TopicPartition: Int64] = [:]
        for message in messages {
            let partition = TopicPartition(topic: message.topic, partition: message.partition)
            offsets[partition] = max(offsets[partition] ?? 0, message.offset + 1)
        }
        guard !offsets.isEmpty else { return }
        let (client, positions) = (self.client, offsets)
        try await thread.runIfActive { try client.commit(positions) }
        let rebalance = client.rebalanceCount
        committedOffsets.withLock { state in
            if state.rebalance != rebalance { state = (rebalance, [:]) }
            state.offsets.merge(positions) { _, new in new }
        }
    }

    /// Where this member stands in each partition it owns: the offset it committed there, else
    /// the next it will fetch. Partitions it has not fetched from yet are absent.
    public func consumedOffsets() -> [TopicPartition: Int64] {
        let owned = client.assignment
        let rebalance = client.rebalanceCount
        let committed = committedOffsets.withLock { state in
            state.rebalance == rebalance ? state.offsets.filter { owned.contains($0.key) } : [:]
        }
        let positions = client.positions(Array(owned.subtracting(committed.keys)))
        return committed.merging(positions) { committed, _ in committed }
    }

    /// Leaves the group so its partitions move to other members at once, then releases the client.
    public func close() async {
        let client = self.client
        _ = try? await thread.runIfActive { client.closeConsumer() }
        try? await thread.shutdownGracefully()
        client.destroy()
        logger.info("consumer closed")
    }

    /// Batches as an async sequence; ends when the task is cancelled or its service group
    /// begins a graceful shutdown, so the caller finishes the batch in hand and stops.
    public var batches: Batches { Batches(consumer: self) }

    /// Single messages as an async sequence; ends like `batches`.
    public var messages: Messages { Messages(consumer: self) }

    public struct Batches: AsyncSequence, Sendable {
        let consumer: KafkaConsumer

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer

            public mutating func next() async throws -> [KafkaMessage]? {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    let batch = try await consumer.poll()
                    if !batch.isEmpty { return batch }
                }
                return nil
            }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
    }

    public struct Messages: AsyncSequence, Sendable {
        let consumer: KafkaConsumer

        public struct AsyncIterator: AsyncIteratorProtocol {
            var batches: Batches.AsyncIterator
            var buffered: ArraySlice<KafkaMessage> = []

            public mutating func next() async throws -> KafkaMessage? {
                if buffered.isEmpty {
                    guard let batch = try await batches.next() else { return nil }
                    buffered = batch[...]
                }
                return buffered.popFirst()
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(batches: Batches(consumer: consumer).makeAsyncIterator())
        }
    }
}
