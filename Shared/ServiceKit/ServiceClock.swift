import Foundation
import Synchronization

/// What time it is for a service: the system clock in production; tests start it on a day of
/// their choosing and move it forward (deadlines, timers, session limits) instead of waiting.
public final class ServiceClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    public init() {}

    /// A clock that reads `start` now and runs on from it (tests fix the day they run on, so
    /// their weekdays, holidays and month ends are the same whatever today is).
    public init(startingAt start: Date) {
        offset.withLock { $0 = start.timeIntervalSinceNow }
    }

    public static let system = ServiceClock()

    public var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    /// Moves this clock forward (tests only: the system clock is never moved).
    public func advance(by interval: TimeInterval) {
        offset.withLock { $0 += interval }
    }
}
