import Synchronization

/// One holder at a time per key; the others wait their turn, in order.
///
/// Used where concurrent requests would each do the same expensive work: fifty first page views
/// of a district each loading its 20,000 groups at once took 38 s between them; one at a time, the
/// first loads and the rest read only what changed since.
public final class Turns<Key: Hashable & Sendable>: Sendable {
    /// A key is present while someone holds its turn; its value is who waits, first first.
    private let waiting = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

    public init() {}

    public func take<T>(_ key: Key, _ body: () async throws -> T) async rethrows -> T {
        await enter(key)
        defer { leave(key) }
        return try await body()
    }

    private func enter(_ key: Key) async {
        await withCheckedContinuation { continuation in
            let free = waiting.withLock { waiting -> Bool in
                guard waiting[key] != nil else {
                    waiting[key] = []
                    return true
                }
                waiting[key]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func leave(_ key: Key) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiting[key] = queue
            return first
        }
        next?.resume()
    }
}
