import Foundation
import PostgresNIO

/// Requests carrying an `Idempotency-Key`: the first answer is stored in the same transaction as
/// the request's effects, and a retry with the same key and body gets that answer again.
public enum IdempotentRequests {
    public enum Claim: Sendable, Hashable {
        /// First use of the key: go on, then `record` the answer before committing.
        case fresh
        /// The same key and body were answered before: send this answer again.
        case replay(status: Int, body: Data)
        /// The key was used for a different request.
        case conflict
    }

    /// Claims `key` for `caller`. A concurrent request with the same key waits here on the
    /// unique index until the first commits, then sees its answer.
    public static func claim(caller: String, key: String, requestHash: Data, district: String, in transaction: Transaction) async throws -> Claim {
        let inserted = try await transaction.query(
            """
            INSERT INTO idempotency_keys (caller, key, district, request_hash, response_status, response_body)
            VALUES (\(caller), \(key), \(district), \(requestHash), 0, ''::bytea)
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        for try await _ in inserted { return .fresh }
        let rows = try await transaction.query(
            """
            SELECT request_hash, response_status, response_body FROM idempotency_keys
            WHERE caller = \(caller) AND key = \(key)
            """)
        for try await (hash, status, body) in rows.decode((Data, Int, Data).self) {
            return hash == requestHash && status > 0 ? .replay(status: status, body: body) : .conflict
        }
        // Held for another district, invisible here: a different request all the same.
        return .conflict
    }

    public static func record(caller: String, key: String, status: Int, body: Data, in transaction: Transaction) async throws {
        try await transaction.execute(
            """
            UPDATE idempotency_keys SET response_status = \(status), response_body = \(body)
            WHERE caller = \(caller) AND key = \(key)
            """)
    }

    /// Forgets answers older than `retention`; retries come within minutes, not days.
    public static func prune(olderThan retention: Duration, in transaction: Transaction) async throws {
        let seconds = Double(retention.components.seconds)
        try await transaction.execute("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => \(seconds))")
    }
}
