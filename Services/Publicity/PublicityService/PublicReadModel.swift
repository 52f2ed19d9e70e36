import EventPipeline
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

    /// Messages read of those in the ranges.
    public struct Progress: Sendable {
        public var read: Int
        public var total: Int
    }

    /// Returns the number of events applied.
    @discardableResult
    public static func rebuild(
        database: Database, kafka: KafkaConfiguration, logger: Logger, batchSize: Int = 2_000,
        progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Int {
        let ranges = try await inputRanges(kafka: kafka, logger: logger)
        try await database.transaction(.none) { transaction in
            try await transaction.execute("TRUNCATE \(unescaped: tables.joined(separator: ", "))")
        }
        return try await replay(ranges, database: database, kafka: kafka, logger: logger, batchSize: batchSize, progress: progress)
    }

    /// Builds a second read model from the topics in the schema `schema` (created here, with
    /// tables like the public ones), leaving the service's own untouched: what the invariant
    /// check compares with the read model the running services built. The caller drops the schema.
    @discardableResult
    public static func rebuild(
        into schema: String, database: Database, kafka: KafkaConfiguration, logger: Logger, batchSize: Int = 2_000
    ) async throws -> Int {
        guard schema.range(of: "^[a-z_][a-z0-9_]{0,40}$", options: .regularExpression) != nil, schema != "public" else {
            throw RebuildError(description: "not a scratch schema name: \(schema)")
        }
        let ranges = try await inputRanges(kafka: kafka, logger: logger)
        try await database.transaction(.none) { transaction in
            try await transaction.execute("CREATE SCHEMA \(unescaped: schema)")
            for table in tables {
                try await transaction.execute("CREATE TABLE \(unescaped: schema).\(unescaped: table) (LIKE public.\(unescaped: table) INCLUDING ALL)")
            }
        }
        return try await replay(ranges, database: database, kafka: kafka, logger: logger, batchSize: batchSize, schema: schema)
    }

    public struct RebuildError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every partition of the input topics, from its low to its high watermark now.
    public static func inputRanges(kafka: KafkaConfiguration, logger: Logger) async throws -> [TopicPartition: Range<Int64>] {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        var ranges: [TopicPartition: Range<Int64>] = [:]
        do {
            for topic in TopicCatalogue.inputs(of: .publicity) {
                for (partition, marks) in try await admin.partitions(of: kafka.topicName(topic.name)) where marks.high > marks.low {
                    ranges[partition] = marks.low..<marks.high
                }
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return ranges
    }

    /// Applies the events in `ranges` to the read model as it stands, through the service's
    /// projection (notifying no one). Writes are order-free, so applying events again is harmless.
    @discardableResult
    public static func replay(
        _ ranges: [TopicPartition: Range<Int64>], database: Database, kafka: KafkaConfiguration, logger: Logger, batchSize: Int = 2_000,
        schema: String? = nil, progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Int {
        let total = ranges.values.reduce(0) { $0 + Int($1.count) }
        guard total > 0 else { return 0 }
        let projection = PublicProjection(notifies: false)
        let reader = try KafkaPartitionReader(configuration: kafka, logger: logger)
        var (read, applied) = (0, 0)
        do {
            try await reader.read(from: ranges.mapValues(\.lowerBound), until: ranges.mapValues(\.upperBound), batchSize: batchSize) { messages in
                // What the service dead-lettered is skipped here too: messages that are no event,
                // and events the projection rejects (found by applying the batch one by one).
                let events = messages.compactMap { try? EventEnvelope.decode(from: $0.value) }
                do {
                    try await apply(events, projection: projection, database: database, schema: schema)
                    applied += events.count
                } catch {
                    guard await EventConsumer.verdict(on: error, database: nil).isRejection else { throw error }
                    for event in events {
                        do {
                            try await apply([event], projection: projection, database: database, schema: schema)
                            applied += 1
                        } catch {
                            guard await EventConsumer.verdict(on: error, database: nil).isRejection else { throw error }
                            logger.info("skipping event \(event.eventID) (\(event.type)) as the service dead-lettered it: \(error)")
                        }
                    }
                }
                read += messages.count
                progress(Progress(read: read, total: total))
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return applied
    }

    /// Applies `events` in one transaction, each district's in its scope.
    static func apply(_ events: [EventEnvelope], projection: PublicProjection, database: Database, schema: String?) async throws {
        guard !events.isEmpty else { return }
        try await database.transaction(.none) { transaction in
            // The projection names its tables unqualified: a scratch schema first takes them in.
            if let schema { try await transaction.execute("SET LOCAL search_path TO \(unescaped: schema), public") }
            var byDistrict: [DistrictCode: [EventEnvelope]] = [:]
            for event in events { byDistrict[event.district, default: []].append(event) }
            for district in byDistrict.keys.sorted() {
                try await transaction.scope(to: .district(district))
                try await projection.handle(byDistrict[district]!, of: district, in: transaction)
            }
        }
    }
}
