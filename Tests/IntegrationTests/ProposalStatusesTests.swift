import Foundation
import Models
import Storage
import TestSupport
import Testing

/// `ProposalStatuses.moveAll`, the lifecycle writer for many proposals at once (assignment's
/// batches): the same statuses and history rows as `move` one at a time, in the moves' order.
struct ProposalStatusesTests {
    static let haizhu = DistrictCode(rawValue: "haizhu")!

    func filed(_ count: Int, in store: TestDatabase) async throws -> [UUID] {
        let ids = (0..<count).map { _ in UUID() }
        try await store.database.transaction(.district(Self.haizhu)) { transaction in
            for (number, id) in ids.enumerated() {
                try await transaction.execute(
                    """
                    INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, drafted_by, case_number)
                    VALUES (\(id), 'haizhu', 'filed', '路灯', '概要', '理由', '建议', '[]', 'member-1', \("HZ-14-2026-\(number + 1)"))
                    """)
            }
        }
        return ids
    }

    func history(of id: UUID, in store: TestDatabase) async throws -> (status: String, steps: [String]) {
        try await store.database.transaction(.district(Self.haizhu)) { transaction in
            var status = ""
            for try await text in try await transaction.query("SELECT status FROM proposals WHERE id = \(id)").decode(String.self) { status = text }
            var steps: [String] = []
            for try await (from, transition, to, actor) in try await transaction.query(
                "SELECT from_status, transition, to_status, actor FROM proposal_transitions WHERE proposal_id = \(id) ORDER BY id"
            ).decode((String, String, String, String).self) { steps.append("\(from) \(transition) \(to) by \(actor)") }
            return (status, steps)
        }
    }

    @Test func movesManyProposalsInTheirOrderWithTheirHistory() async throws {
        let store = try await TestDatabase()
        let ids = try await filed(3, in: store)
        try await store.database.transaction(.district(Self.haizhu)) { transaction in
            try await ProposalStatuses.moveAll(
                [
                    .init(ids[0], by: "assignment-service", ProposalTransition.finalAssignment),
                    .init(ids[1], by: "assignment-service", ProposalTransition.finalAssignment),
                    // The second move of a proposal sees the status the first left.
                    .init(ids[0], by: "unit-1", { $0 == .assigned ? .contest : nil }),
                    // A step that chooses nothing writes nothing.
                    .init(ids[2], by: "unit-2", { _ in nil }),
                ], at: Date(), in: transaction)
        }
        let first = try await history(of: ids[0], in: store)
        #expect(first.status == "contested")
        #expect(first.steps == ["filed assign assigned by assignment-service", "assigned contest contested by unit-1"])
        let second = try await history(of: ids[1], in: store)
        #expect(second.status == "assigned")
        #expect(second.steps == ["filed assign assigned by assignment-service"])
        let third = try await history(of: ids[2], in: store)
        #expect(third.status == "filed")
        #expect(third.steps.isEmpty)
    }

    @Test func anIllegalOrUnknownMoveWritesNothing() async throws {
        let store = try await TestDatabase()
        let ids = try await filed(2, in: store)
        await #expect(throws: IllegalTransition.self) {
            try await store.database.transaction(.district(Self.haizhu)) { transaction in
                try await ProposalStatuses.moveAll(
                    [.init(ids[0], by: "a", ProposalTransition.finalAssignment), .init(ids[1], by: "b", { _ in .close })],
                    at: Date(), in: transaction)
            }
        }
        await #expect(throws: ProposalStatuses.UnknownProposal.self) {
            try await store.database.transaction(.district(Self.haizhu)) { transaction in
                try await ProposalStatuses.moveAll(
                    [.init(ids[0], by: "a", ProposalTransition.finalAssignment), .init(UUID(), by: "b", ProposalTransition.finalAssignment)],
                    at: Date(), in: transaction)
            }
        }
        for id in ids {
            let untouched = try await history(of: id, in: store)
            #expect(untouched.status == "filed")
            #expect(untouched.steps.isEmpty)
        }
    }
}
