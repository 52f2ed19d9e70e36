import Logging
import ServiceLifecycle

/// Runs `work` after `firstAfter` and then every `interval` until the service group stops; a failure is
/// logged once (and its end once) and tried again at the next turn. The one loop for the
/// services' housekeeping and watchers.
public struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let firstAfter: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    /// `firstAfter`: housekeeping that can wait should, so a starting instance does not open a
    /// connection for every job at once.
    public init(
        _ name: String, every interval: Duration, firstAfter: Duration = .zero, logger: Logger, work: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.interval = interval
        self.firstAfter = firstAfter
        self.logger = logger
        self.work = work
    }

    public func run() async throws {
        var failing = false
        if firstAfter > .zero { await pause(firstAfter) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await work()
                if failing { logger.info("\(name) works again") }
                failing = false
            } catch {
                if !failing {
                    logger.warning("\(name) failed; will try again every \(interval)", metadata: ["error": "\(String(reflecting: error))"])
                }
                failing = true
            }
            await pause(interval)
        }
    }
}
