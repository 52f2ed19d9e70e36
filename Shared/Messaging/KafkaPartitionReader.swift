import Foundation
import Logging
import NIOPosix

/// Reads chosen partitions from chosen offsets up to chosen ends, outside every consumer group:
/// operators' tools (dead letters, replays) read topics without disturbing the services' groups.
public final class KafkaPartitionReader: Sendable {
    private let client: RDKafkaClient
    private let thread: NIOThreadPool

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        // librdkafka's consumer wants a group id even when it only assigns; this one never
        // joins a group and never commits.
        var properties = [
            "group.id": "\(configuration.clientID)-reader-\(UUID().uuidString.lowercased())",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
        ]
        properties.merge(configuration.commonProperties) { _, configured in configured }
        self.client = try RDKafkaClient(kind: .consumer, properties: properties, logger: logger)
        self.thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    public struct Stalled: Error, CustomStringConvertible {
        public var description: String
    }

    /// Hands `body` batches of the messages in [start, end) of each partition, in offset order
    /// per partition, and returns when every partition reached its end. Throws `Stalled` when
    /// nothing arrives for `idleTimeout` while partitions are still short of their ends.
    public func read(
        from starts: [TopicPartition: Int64], until ends: [TopicPartition: Int64], batchSize: Int = 500,
        idleTimeout: Duration = .seconds(30), _ body: ([KafkaMessage]) async throws -> Void
    ) async throws {
        var remaining = ends.filter { partition, end in (starts[partition] ?? end) < end }
        guard !remaining.isEmpty else { return }
        let client = self.client
        let assignment = remaining.keys.reduce(into: [TopicPartition: Int64]()) { $0[$1] = starts[$1] }
        try await thread.runIfActive { try client.assign(assignment) }
        var lastArrival = ContinuousClock.now
        while !remaining.isEmpty {
            let messages = try await thread.runIfActive {
                var batch: [KafkaMessage] = []
                var wait: Int32 = 500
                while batch.count < batchSize, case .message(let message) = client.consumerPoll(milliseconds: wait) {
                    batch.append(message)
                    wait = 0
                }
                return batch
            }
            if messages.isEmpty {
                if ContinuousClock.now - lastArrival > idleTimeout {
                    throw Stalled(
                        description:
                            "no messages for \(idleTimeout) with \(remaining.keys.sorted().map(\.description).joined(separator: ", ")) short of their end"
                    )
                }
                continue
            }
            lastArrival = .now
            var wanted: [KafkaMessage] = []
            for message in messages {
                let partition = TopicPartition(topic: message.topic, partition: message.partition)
                guard let end = remaining[partition], message.offset < end else { continue }
                wanted.append(message)
                if message.offset + 1 >= end { remaining[partition] = nil }
            }
            if !wanted.isEmpty { try await body(wanted) }
        }
    }

    public func close() async {
        try? await thread.shutdownGracefully()
        client.destroy()
    }
}
