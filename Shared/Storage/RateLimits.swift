import PostgresNIO

/// Fixed-window request counters in PostgreSQL, so every instance of a service counts together.
public enum RateLimits {
    public enum Decision: Sendable, Hashable {
        case allowed
        case exceeded(retryAfterSeconds: Int)
    }

    /// Counts one request against `bucket`, allowing `limit` per `windowSeconds`.
    public static func hit(_ bucket: String, limit: Int, windowSeconds: Int, in transaction: Transaction) async throws -> Decision {
        let rows = try await transaction.query(
            """
            WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS seconds),
                 current_window AS (SELECT to_timestamp(floor(seconds / \(windowSeconds)) * \(windowSeconds)) AS start FROM clock)
            INSERT INTO rate_limit_windows (bucket, window_start, hits)
            SELECT \(bucket), start, 1 FROM current_window
            ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
            RETURNING hits, ceil(extract(epoch FROM window_start) + \(windowSeconds) - (SELECT seconds FROM clock))::int
            """)
        var counted: (hits: Int, remaining: Int)?
        for try await row in rows.decode((Int, Int).self) { counted = row }
        guard let (hits, remaining) = counted else { return .allowed }
        if hits == 1 {
            // A new window began: the bucket's old windows are no longer needed.
            try await transaction.execute(
                "DELETE FROM rate_limit_windows WHERE bucket = \(bucket) AND window_start < now() - make_interval(secs => \(Double(windowSeconds)))")
        }
        let decision: Decision = hits > limit ? .exceeded(retryAfterSeconds: max(1, remaining)) : .allowed
        return decision
    }

    /// Whether `bucket` is over `limit` in the current window, without counting a request.
    public static func isExceeded(_ bucket: String, limit: Int, windowSeconds: Int, in transaction: Transaction) async throws -> Bool {
        for try await hits in try await transaction.query(
            """
            SELECT hits FROM rate_limit_windows
            WHERE bucket = \(bucket)
              AND window_start = to_timestamp(floor(extract(epoch FROM clock_timestamp()) / \(windowSeconds)) * \(windowSeconds))
            """
        ).decode(Int.self) {
            return hits >= limit
        }
        return false
    }
}
