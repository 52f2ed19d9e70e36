import Foundation
import Storage

/// The outbox per producing service: events not yet published and how long the oldest waited.
public struct OutboxBacklog: Sendable, Hashable, Codable {
    public var source: String
    public var unsent: Int
    /// Age of the oldest unsent event, in seconds; nil when nothing waits.
    public var oldestUnsentSeconds: Double?
    /// Unsent events whose last publish attempt failed (with the latest error).
    public var failing: Int
    public var lastError: String?
    public var publishedLastHour: Int

    public init(
        source: String, unsent: Int = 0, oldestUnsentSeconds: Double? = nil, failing: Int = 0, lastError: String? = nil, publishedLastHour: Int = 0
    ) {
        self.source = source
        self.unsent = unsent
        self.oldestUnsentSeconds = oldestUnsentSeconds
        self.failing = failing
        self.lastError = lastError
        self.publishedLastHour = publishedLastHour
    }
}

public enum OutboxStatus {
    public static func read(_ database: Database) async throws -> [OutboxBacklog] {
        try await database.transaction(.none) { transaction in
            var rows: [OutboxBacklog] = []
            for try await (source, unsent, oldest, failing, lastError, published) in try await transaction.query(
                """
                SELECT source,
                       count(*) FILTER (WHERE published_at IS NULL)::integer,
                       extract(epoch FROM now() - min(created_at) FILTER (WHERE published_at IS NULL))::float8,
                       count(*) FILTER (WHERE published_at IS NULL AND attempts > 0)::integer,
                       (array_agg(last_error ORDER BY id DESC) FILTER (WHERE published_at IS NULL AND last_error IS NOT NULL))[1],
                       count(*) FILTER (WHERE published_at > now() - interval '1 hour')::integer
                FROM outbox
                WHERE published_at IS NULL OR published_at > now() - interval '1 hour'
                GROUP BY source ORDER BY source
                """
            ).decode((String, Int, Double?, Int, String?, Int).self) {
                rows.append(
                    OutboxBacklog(
                        source: source, unsent: unsent, oldestUnsentSeconds: oldest, failing: failing, lastError: lastError,
                        publishedLastHour: published))
            }
            return rows
        }
    }
}
