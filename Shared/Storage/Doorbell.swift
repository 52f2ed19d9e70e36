import Synchronization

/// Rung when a transaction that wrote outbox rows commits, so the process's outbox relay
/// publishes them at once rather than at its next look (and need not look often while idle).
/// A ring with no one waiting is kept for the next wait, so none is lost between two waits.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits begun but not yet registered, and those of them cancelled meanwhile (they
        /// return at once when they come to register).
        var starting: Set<Int> = []
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let waiters = state.withLock { state in
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            if waiters.isEmpty { state.rung = true }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the bell rings (or has rung since the last wait), or after `timeout`.
    public func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing() async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.starting.insert(state.nextID)
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    state.starting.remove(id)
                    if state.rung || state.cancelled.remove(id) != nil {
                        state.rung = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                if state.starting.contains(id) { state.cancelled.insert(id) }
                return state.waiters.removeValue(forKey: id)
            }
            waiter?.resume()
        }
    }
}
