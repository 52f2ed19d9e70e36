import EventPipeline
import Logging
import ServiceLifecycle
import Storage

/// Forgets what intake keeps only for a while: answers to idempotency keys (a day) and
/// rate-limit windows (a day). Several instances may prune at once; the deletes do not conflict.
struct IntakeHousekeeping: Service {
    let database: Database
    let logger: Logger
    var interval: Duration = .seconds(600)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await database.transaction(.allDistricts) { transaction in
                    try await IdempotentRequests.prune(olderThan: .seconds(86_400), in: transaction)
                    try await transaction.execute("DELETE FROM rate_limit_windows WHERE window_start < now() - interval '1 day'")
                    try await transaction.execute("DELETE FROM request_nonces WHERE expires_at < now()")
                }
            } catch {
                logger.warning("housekeeping failed; will try again", metadata: ["error": "\(error)"])
            }
            await pause(interval)
        }
    }
}
