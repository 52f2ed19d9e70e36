import Foundation
import Models
import ServiceKit

/// Group commit for clues that nothing but the district's rules can refuse (the common case:
/// an integration's or a studio's clue without key, call, contact or attachment). Requests that
/// arrive while a transaction of their district is being committed wait for the next one, which
/// stores all of them in four round trips. At low load a clue goes alone, without waiting; under
/// load the cost per clue falls with the group size. Each clue is answered only after the
/// transaction holding it committed; if that transaction fails, every clue in it fails and none
/// is stored.
actor GroupCommit {
    struct Item: Sendable {
        var clue: ValidClue
        var submittedBy: String
        var receivedAt: Date
    }

    typealias Store = @Sendable ([Item], DistrictCode) async throws -> [Result<AcceptOutcome, APIError>]

    private struct Waiting {
        var item: Item
        var continuation: CheckedContinuation<AcceptOutcome, any Error>
    }

    /// Clues per transaction, and transactions of one district at once (one forms while one commits).
    static let maximumGroup = 64
    static let concurrentGroups = 2

    private let store: Store
    private var waiting: [DistrictCode: [Waiting]] = [:]
    private var running: [DistrictCode: Int] = [:]

    init(store: @escaping Store) {
        self.store = store
    }

    func accept(_ item: Item) async throws -> AcceptOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let district = item.clue.district
            waiting[district, default: []].append(Waiting(item: item, continuation: continuation))
            if running[district, default: 0] < Self.concurrentGroups {
                running[district, default: 0] += 1
                Task { await self.commitGroups(of: district) }
            }
        }
    }

    private func commitGroups(of district: DistrictCode) async {
        while let group = nextGroup(of: district) {
            do {
                let results = try await store(group.map(\.item), district)
                for (index, waiting) in group.enumerated() {
                    // Every waiting request is answered, whatever the store returned.
                    let result =
                        index < results.count
                        ? results[index] : .failure(APIError(.internalServerError, code: "internal", message: "no result for this clue"))
                    waiting.continuation.resume(with: result.mapError { $0 as any Error })
                }
            } catch {
                for waiting in group { waiting.continuation.resume(throwing: error) }
            }
        }
        running[district, default: 1] -= 1
    }

    private func nextGroup(of district: DistrictCode) -> [Waiting]? {
        guard var queue = waiting[district], !queue.isEmpty else { return nil }
        let group = Array(queue.prefix(Self.maximumGroup))
        queue.removeFirst(group.count)
        waiting[district] = queue.isEmpty ? nil : queue
        return group
    }
}
