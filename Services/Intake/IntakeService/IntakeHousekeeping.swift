import EventPipeline
import Logging
import Storage

/// Forgets what intake keeps only for a while: answers to idempotency keys (a day) and
/// rate-limit windows (two hours: the longest window is an hour). Several instances may prune at once; the deletes do not conflict.
enum IntakeHousekeeping {
    static func job(database: Database, logger: Logger) -> PeriodicJob {
        PeriodicJob("intake housekeeping", every: .seconds(600), logger: logger) {
            try await database.transaction(.allDistricts) { transaction in
                try await IdempotentRequests.prune(olderThan: .seconds(86_400), in: transaction)
                try await transaction.execute("DELETE FROM rate_limit_windows WHERE window_start < now() - interval '2 hours'")
                try await transaction.execute("DELETE FROM request_nonces WHERE expires_at < now()")
            }
        }
    }
}
