import Foundation
import Models
import PostgresNIO

/// The transactional outbox: an event is written in the same transaction as the state change
/// it announces, and the relay publishes it afterwards. A rollback takes the event with it.
public enum Outbox {
    /// Keys hash to this many shards; one relay at a time publishes a shard, in id order,
    /// which keeps the events of one key in order. Changing it reorders in-flight keys.
    public static let shardCount = 16

    /// Records `envelope` for publication on `topic` with `key` (the aggregate's id, so its
    /// events stay in order on one partition).
    public static func append(_ envelope: EventEnvelope, to topic: TopicSpec, key: String, in transaction: Transaction) async throws {
        let row = try Row(envelope, to: topic, key: key)
        transaction.wroteOutbox()
        try await transaction.execute(
            """
            INSERT INTO outbox (\(unescaped: columns))
            VALUES (\(row.eventID), \(row.source), \(row.topic), \(row.key), \(row.shard), \(row.eventType), \(row.district), \(row.envelope)::json)
            """)
    }

    /// The columns `Row` fills, in its order.
    public static let columns = "event_id, source, topic, partition_key, shard, event_type, district, envelope"

    /// One outbox row's values, for a hot path that writes the event in the same statement as
    /// the change it announces (a data-modifying CTE: one round trip instead of two):
    /// `INSERT INTO outbox (\(unescaped: Outbox.columns)) VALUES (\(row.eventID), ..., \(row.envelope)::json)`.
    public struct Row: Sendable {
        public let eventID: UUID
        public let source: String
        public let topic: String
        public let key: String
        public let shard: Int16
        public let eventType: String
        public let district: String
        public let envelope: String

        /// A new event's row, its envelope encoded in one pass (see `EventEnvelope.wireForm`).
        public init<P: EventPayload>(
            _ payload: P, district: DistrictCode, occurredAt: Date, causedBy cause: EventEnvelope? = nil, to topic: TopicSpec, key: String
        ) throws {
            eventID = UUID()
            source = topic.producer.rawValue
            self.topic = topic.name
            self.key = key
            shard = Outbox.shard(of: key)
            eventType = P.eventType
            self.district = district.rawValue
            envelope = String(
                decoding: try EventEnvelope.wireForm(payload, district: district, occurredAt: occurredAt, eventID: eventID, causedBy: cause),
                as: UTF8.self)
        }

        public init(_ envelope: EventEnvelope, to topic: TopicSpec, key: String) throws {
            eventID = envelope.eventID
            source = topic.producer.rawValue
            self.topic = topic.name
            self.key = key
            shard = Outbox.shard(of: key)
            eventType = envelope.type
            district = envelope.district.rawValue
            self.envelope = String(decoding: try envelope.encoded(), as: UTF8.self)
        }
    }

    /// A stable hash (FNV-1a), the same on every platform and run.
    public static func shard(of key: String) -> Int16 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int16(hash % UInt32(shardCount))
    }

    /// An outbox row claimed for publication.
    public struct PendingEvent: Sendable, Hashable {
        public var id: Int64
        public var topic: String
        public var key: String
        public var eventType: String
        public var envelope: String
    }

    /// Claims up to `limit` unpublished events of `source`, oldest first, from shards no other
    /// relay holds; the shard locks last until the transaction ends.
    public static func claim(source: ServiceName, limit: Int, maximumShards: Int, in transaction: Transaction) async throws -> [PendingEvent] {
        let lockSpace = Int32(0x0B0C) &* 16 &+ Int32(ServiceName.allCases.firstIndex(of: source)!)
        let offset = Int16.random(in: 0..<Int16(shardCount))
        let rows = try await transaction.query(
            """
            WITH pending AS (
                SELECT DISTINCT shard FROM outbox WHERE source = \(source.rawValue) AND published_at IS NULL
            ), claimed AS MATERIALIZED (
                SELECT shard FROM (SELECT shard FROM pending ORDER BY (shard + \(offset)) % \(Int16(shardCount))) ordered
                WHERE pg_try_advisory_xact_lock(\(lockSpace), shard)
                LIMIT \(maximumShards)
            )
            SELECT id, topic, partition_key, event_type, envelope::text FROM outbox
            WHERE source = \(source.rawValue) AND published_at IS NULL AND shard IN (SELECT shard FROM claimed)
            ORDER BY id
            LIMIT \(limit)
            """)
        var events: [PendingEvent] = []
        for try await (id, topic, key, type, envelope) in rows.decode((Int64, String, String, String, String).self) {
            events.append(PendingEvent(id: id, topic: topic, key: key, eventType: type, envelope: envelope))
        }
        return events
    }

    public static func markPublished(_ ids: [Int64], in transaction: Transaction) async throws {
        guard !ids.isEmpty else { return }
        try await transaction.execute("UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY(\(ids))")
    }

    public static func recordFailure(_ ids: [Int64], error: String, in transaction: Transaction) async throws {
        guard !ids.isEmpty else { return }
        try await transaction.execute("UPDATE outbox SET attempts = attempts + 1, last_error = \(error) WHERE id = ANY(\(ids))")
    }

    public struct Backlog: Sendable, Hashable {
        public var pending: Int
        public var oldestAgeSeconds: Double
    }

    /// Unpublished events and the age of the oldest, per source or overall.
    public static func backlog(source: ServiceName?, in transaction: Transaction) async throws -> Backlog {
        let rows = try await transaction.query(
            """
            SELECT count(*)::bigint, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
            FROM outbox WHERE published_at IS NULL AND (\(source?.rawValue)::text IS NULL OR source = \(source?.rawValue))
            """)
        for try await (count, age) in rows.decode((Int64, Double).self) {
            return Backlog(pending: Int(count), oldestAgeSeconds: age)
        }
        return Backlog(pending: 0, oldestAgeSeconds: 0)
    }

    /// Deletes published events older than `retention`, keeping the table small.
    public static func prune(olderThan retention: Duration, in transaction: Transaction) async throws {
        let seconds = Double(retention.components.seconds)
        try await transaction.execute("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => \(seconds))")
    }
}

/// What an idempotent consumer has applied: an event id is recorded in the same transaction as
/// its effects, so a redelivered event is recognised and has no second effect.
public enum ProcessedEvents {
    /// Records `eventIDs` for `consumer` and returns those not recorded before.
    public static func recordNew(_ eventIDs: [UUID], consumer: String, in transaction: Transaction) async throws -> Set<UUID> {
        guard !eventIDs.isEmpty else { return [] }
        let rows = try await transaction.query(
            """
            INSERT INTO processed_events (consumer, event_id)
            SELECT \(consumer), id FROM unnest(\(eventIDs)::uuid[]) AS id
            ON CONFLICT DO NOTHING
            RETURNING event_id
            """)
        var fresh: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { fresh.insert(id) }
        return fresh
    }

    /// Forgets `consumer`'s event ids older than `days`, ten thousand rows a statement so no
    /// delete holds the table long.
    public static func prune(consumer: String, olderThan days: Int, in database: Database) async throws {
        while true {
            let deleted = try await database.transaction(.none) { transaction in
                var count = 0
                for try await _ in try await transaction.query(
                    """
                    DELETE FROM processed_events WHERE ctid IN (
                        SELECT ctid FROM processed_events
                        WHERE consumer = \(consumer) AND processed_at < now() - \(days) * interval '1 day' LIMIT 10000)
                    RETURNING 1
                    """)
                { count += 1 }
                return count
            }
            if deleted < 10_000 { return }
        }
    }
}
