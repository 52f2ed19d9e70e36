import Foundation
import Synchronization

/// A remembered value at hand, or the load to wait for.
enum Next<Value: Sendable> {
    case answer(Value)
    case wait(Task<Value, any Error>)
}

/// Values kept per key for `lifetime`, loaded once however many ask at the same time. An
/// expired value is still answered while one load replaces it, so a popular page never makes
/// its readers wait for its renewal.
public final class Remembered<Value: Sendable>: Sendable {
    struct Entry {
        var value: Value?
        var expires: ContinuousClock.Instant
        var loading: Task<Value, any Error>?
    }

    private let lifetime: Duration
    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(lifetime: Duration, capacity: Int) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    public func value(for key: String, load: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await value(for: key, renew: { _ in try await load() })
    }

    /// The same, with the expired value (nil at first) handed to the load, which may return it
    /// again when a cheap check shows it still holds.
    public func value(for key: String, renew: @escaping @Sendable (Value?) async throws -> Value) async throws -> Value {
        guard lifetime > .zero else { return try await renew(nil) }
        let now = ContinuousClock.now
        let next: Next<Value> = entries.withLock { entries in
            var entry = entries[key] ?? Entry(value: nil, expires: now, loading: nil)
            if let value = entry.value, entry.expires > now { return .answer(value) }
            let task = entry.loading ?? startLoad(key, previous: entry.value, renew)
            entry.loading = task
            if entries[key] == nil, entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now || $0.value.loading != nil }
            }
            entries[key] = entry
            if let stale = entry.value { return .answer(stale) }
            return .wait(task)
        }
        switch next {
        case .answer(let value): return value
        case .wait(let task): return try await task.value
        }
    }

    private func startLoad(_ key: String, previous: Value?, _ renew: @escaping @Sendable (Value?) async throws -> Value) -> Task<Value, any Error> {
        let lifetime = self.lifetime
        return Task { [entries = self] in
            do {
                let value = try await renew(previous)
                entries.store(key, Entry(value: value, expires: ContinuousClock.now + lifetime, loading: nil))
                return value
            } catch {
                entries.store(key, nil)
                throw error
            }
        }
    }

    /// Nil when nothing is kept (a lifetime of zero): the caller takes another way.
    public func valueIfKept(for key: String, renew: @escaping @Sendable (Value?) async throws -> Value) async throws -> Value? {
        guard lifetime > .zero else { return nil }
        return try await value(for: key, renew: renew)
    }

    /// Drops what is kept for `key`, so the next asker loads it afresh (after a change made here).
    public func forget(_ key: String) {
        store(key, nil)
    }

    private func store(_ key: String, _ entry: Entry?) {
        entries.withLock { $0[key] = entry }
    }
}
