import ClassificationRules
import Foundation
import Logging
import Models
import Storage
import Synchronization
import TestSupport
import Testing

@testable import TriageService

/// Grouping across instances, made deterministic: one transaction has registered a clue and
/// not committed yet when another registers its near-duplicate. The second must wait for the
/// first and join its group (without the district's grouping lock it would start a group of
/// its own, since it cannot see the first's uncommitted group).
@Suite(.timeLimit(.minutes(2)))
struct GroupingConcurrencyTests {
    @Test func aNearDuplicateRegisteredWhileTheFirstIsUncommittedJoinsItsGroup() async throws {
        let store = try await TestDatabase()
        let registrar = ClueRegistrar(rules: RuleBook(logger: TestEnvironment.logger))
        let haizhu = DistrictCode(rawValue: "haizhu")!
        func clue(_ title: String) -> IncomingClue {
            IncomingClue(
                id: UUID(), trackingNumber: "HZ-2026-\(Int.random(in: 100_000...999_999))", channel: "web", receivedAt: Date(),
                sourceCategory: "online-platform", themedCallID: nil,
                text: ClueText(title: title, situation: PilotClues.ebike.situation, suggestions: PilotClues.ebike.suggestions),
                linkedFromClueID: nil, cause: nil)
        }
        let first = clue(PilotClues.ebike.title)
        let second = clue(PilotClues.ebikeParaphrase.title)
        let order = Mutex<[String]>([])
        let (registered, signal) = AsyncStream<Void>.makeStream()

        async let holder: Void = store.database.transaction(.district(haizhu)) { transaction in
            try await registrar.register([first], in: haizhu, transaction: transaction)
            signal.yield()
            // Hold the transaction open while the other one tries.
            try await Task.sleep(for: .milliseconds(700))
            order.withLock { $0.append("first committing") }
        }
        for await _ in registered { break }
        try await store.database.transaction(.district(haizhu)) { transaction in
            try await registrar.register([second], in: haizhu, transaction: transaction)
            order.withLock { $0.append("second registered") }
        }
        try await holder

        #expect(order.withLock { $0 } == ["first committing", "second registered"], "the second waited for the first")
        let groups = try await store.integer("SELECT count(DISTINCT group_id)::int FROM triage_clues")
        #expect(groups == 1)
        #expect(try await store.integer("SELECT voices FROM clue_groups") == 2)
    }
}
