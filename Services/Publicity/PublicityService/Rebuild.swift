import Foundation
import Logging
import Messaging
import Models
import Storage

/// Rebuilds the public read model from scratch: empties the public tables and replays every
/// input topic from its start to the end it had when the rebuild began, through the same
/// projection the service runs (notifying no one). Running instances may go on meanwhile:
/// the projection's writes are order-free, so what they apply is applied again harmlessly.
public enum PublicReadModel {
    public static let tables = ["public_proposals", "public_assignments", "public_timeline", "public_clues", "public_reviews"]

    public struct Progress: Sendable {
        public var applied: Int
        public var total: Int
    }

    @discardableResult
    public static func rebuild(
        database: Database, kafka: KafkaConfiguration, logger: Logger, batchSize: Int = 2_000,
        progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Int {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let names = TopicCatalogue.inputs(of: .publicity).map { kafka.topicName($0.name) }
        let partitionCounts = try await admin.topics()
        var ends: [String: Int64] = [:]
        var total: Int64 = 0
        for name in names {
            for partition in 0..<Int32(partitionCounts[name] ?? 0) {
                let marks = try await admin.watermarks(topic: name, partition: partition)
                if marks.high > marks.low { ends["\(name)/\(partition)"] = marks.high }
                total += marks.high - marks.low
            }
        }
        await admin.close()

        try await database.transaction(.none) { transaction in
            try await transaction.execute("TRUNCATE \(unescaped: tables.joined(separator: ", "))")
        }
        guard !ends.isEmpty else { return 0 }

        var settings = ConsumerConfiguration(groupID: kafka.topicPrefix + "publicity-rebuild-" + UUID().uuidString.lowercased(), topics: names)
        settings.maxBatchSize = batchSize
        settings.pollTimeoutMilliseconds = 500
        let consumer = try KafkaConsumer(configuration: kafka, consumer: settings, logger: logger)
        do {
            let applied = try await replay(from: consumer, until: ends, total: Int(total), database: database, progress: progress)
            await consumer.close()
            return applied
        } catch {
            await consumer.close()
            throw error
        }
    }

    static func replay(
        from consumer: KafkaConsumer, until ends: [String: Int64], total: Int, database: Database, progress: @Sendable (Progress) -> Void
    ) async throws -> Int {
        let projection = PublicProjection(notifies: false)
        var remaining = ends
        var applied = 0
        var idle = ContinuousClock.now
        while !remaining.isEmpty {
            let messages = try await consumer.poll()
            var events: [EventEnvelope] = []
            for message in messages {
                let key = "\(message.topic)/\(message.partition)"
                guard let end = remaining[key], message.offset < end else { continue }
                if message.offset + 1 >= end { remaining[key] = nil }
                // What the service dead-lettered is skipped here too.
                if let event = try? EventEnvelope.decode(from: message.value) { events.append(event) }
            }
            if messages.isEmpty {
                guard ContinuousClock.now - idle < .seconds(60) else {
                    throw RebuildError("no messages for 60 s with \(remaining.count) partitions not read to their end")
                }
                continue
            }
            idle = ContinuousClock.now
            if !events.isEmpty {
                try await database.transaction(.none) { transaction in
                    var byDistrict: [DistrictCode: [EventEnvelope]] = [:]
                    for event in events { byDistrict[event.district, default: []].append(event) }
                    for district in byDistrict.keys.sorted() {
                        try await transaction.scope(to: .district(district))
                        try await projection.handle(byDistrict[district]!, of: district, in: transaction)
                    }
                }
            }
            applied += events.count
            progress(Progress(applied: applied, total: total))
        }
        return applied
    }

    public struct RebuildError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
