import ServiceKit
import Synchronization
import Testing

@testable import PublicityService

/// The portal's caches: loaded once however many ask, answered stale while renewing, and a
/// renewal sees the value it replaces (the list order keeps it when its stamp is unchanged).
struct RememberedTests {
    final class Loads: Sendable {
        let count = Mutex(0)
        let previous = Mutex<[Int?]>([])
    }

    @Test func concurrentAsksLoadOnceAndRenewalsSeeTheValueTheyReplace() async throws {
        let remembered = Remembered<Int>(lifetime: .milliseconds(300), capacity: 4)
        let loads = Loads()
        let renew: @Sendable (Int?) async throws -> Int = { previous in
            loads.previous.withLock { $0.append(previous) }
            try await Task.sleep(for: .milliseconds(20))
            return loads.count.withLock { count in
                count += 1
                return count
            }
        }
        let first = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await remembered.value(for: "list", renew: renew) } }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(first == [1], "twenty readers at once share one load")
        try await Task.sleep(for: .milliseconds(400))
        // Expired: the stale value is answered at once while one renewal runs.
        #expect(try await remembered.value(for: "list", renew: renew) == 1)
        let deadline = ContinuousClock.now + .seconds(10)
        var renewed = 1
        while renewed == 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            renewed = try await remembered.value(for: "list", renew: renew)
        }
        #expect(renewed == 2)
        #expect(loads.previous.withLock { $0 } == [nil, 1], "the renewal was handed the value it replaces")
    }

    @Test func withoutALifetimeEveryAskLoads() async throws {
        let remembered = Remembered<Int>(lifetime: .zero, capacity: 4)
        let loads = Loads()
        for _ in 0..<3 {
            _ = try await remembered.value(for: "page") {
                loads.count.withLock {
                    $0 += 1; return $0
                }
            }
        }
        #expect(loads.count.withLock { $0 } == 3)
        #expect(try await remembered.valueIfKept(for: "page") { _ in 0 } == nil, "the list order is not kept either")
    }
}
