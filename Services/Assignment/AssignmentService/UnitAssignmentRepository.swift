import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

struct ContestInput: Decodable, Sendable {
    var reason: String?
    /// The unit that should handle it instead, if the contesting unit knows.
    var suggestedUnit: String?
}

/// An assignment as its handling unit sees it.
struct UnitAssignmentView: Codable, Sendable {
    var assignment: AssignmentRecord
    var caseNumber: String
    var title: String
    var isKey: Bool
    var supervisingLeader: String?
    var contests: [ContestRecord]
}

/// What a handling unit does with its own assignments (unit tokens): list them, confirm a
/// proposed one (预交办), contest one within the window. Another unit's assignment is 404.
struct UnitAssignmentRepository: Sendable {
    let database: Database

    static func unit(of claims: StaffClaims) throws -> UUID {
        guard claims.role == .handlingUnit, let unit = claims.unitID else {
            throw APIError.forbidden("a handling unit's token is required")
        }
        return unit
    }

    func mine(_ claims: StaffClaims, includeSuperseded: Bool) async throws -> [UnitAssignmentView] {
        let unit = try Self.unit(of: claims)
        return try await database.transaction(.district(claims.district)) { transaction in
            let condition: PostgresQuery =
                includeSuperseded
                ? "a.unit_id = \(unit)" : "a.unit_id = \(unit) AND a.status <> 'superseded'"
            let assignments = try await CaseRepository.assignments(where: condition, in: transaction)
            return try await Self.views(of: assignments, withContests: false, in: transaction)
        }
    }

    func open(_ id: UUID, _ claims: StaffClaims) async throws -> UnitAssignmentView {
        let unit = try Self.unit(of: claims)
        return try await database.transaction(.district(claims.district)) { transaction in
            let assignments = try await CaseRepository.assignments(where: "a.id = \(id) AND a.unit_id = \(unit)", in: transaction)
            guard let view = try await Self.views(of: assignments, withContests: true, in: transaction).first else { throw APIError.notFound }
            return view
        }
    }

    static func views(of assignments: [AssignmentRecord], withContests: Bool, in transaction: Transaction) async throws -> [UnitAssignmentView] {
        guard !assignments.isEmpty else { return [] }
        var cases: [UUID: (String, String, Bool, String?)] = [:]
        for try await (id, number, title, isKey, leader) in try await transaction.query(
            """
            SELECT proposal_id, case_number, title, is_key, supervising_leader FROM assignment_cases
            WHERE proposal_id = ANY(\(Array(Set(assignments.map(\.proposalID)))))
            """
        ).decode((UUID, String, String, Bool, String?).self) {
            cases[id] = (number, title, isKey, leader)
        }
        var views: [UnitAssignmentView] = []
        for assignment in assignments {
            guard let (number, title, isKey, leader) = cases[assignment.proposalID] else { continue }
            let contests =
                withContests
                ? try await AssignmentRepository.contests(where: "assignment_id = \(assignment.id)", in: transaction) : []
            views.append(
                UnitAssignmentView(
                    assignment: assignment, caseNumber: number, title: title, isKey: isKey,
                    supervisingLeader: leader, contests: contests))
        }
        return views
    }

    func contest(_ id: UUID, _ input: ContestInput, by claims: StaffClaims, now: Date = Date()) async throws -> UnitAssignmentView {
        let unit = try Self.unit(of: claims)
        let reason = try FieldText.required(input.reason, "reason", limit: 2_000, multiline: true)
        let suggested = try FieldText.optional(input.suggestedUnit, "suggestedUnit", limit: 100, multiline: false)
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            guard
                let assignment = try await CaseRepository.assignments(where: "a.id = \(id) AND a.unit_id = \(unit)", forUpdate: true, in: transaction)
                    .first
            else {
                throw APIError.notFound
            }
            let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
            let lastDay = assignment.status == .proposed ? assignment.confirmBy : assignment.contestUntil
            do throws(RuleRefusal) {
                try AssignmentRules.checkContest(status: assignment.status, lastDay: lastDay, today: rules.today)
            } catch {
                throw APIError(.conflict, code: "contest-refused", message: error.reason)
            }
            let contestID = UUID()
            try await transaction.execute("UPDATE assignments SET status = 'contested' WHERE id = \(id)")
            try await transaction.execute(
                """
                INSERT INTO assignment_contests (id, district, assignment_id, proposal_id, reason, suggested_unit, contested_at, contested_by)
                VALUES (\(contestID), \(district.rawValue), \(id), \(assignment.proposalID), \(reason), \(suggested), \(now), \(claims.subject))
                """)
            try await transaction.execute(
                """
                UPDATE assignment_cases SET state = 'contested', updated_at = \(now) WHERE proposal_id = \(assignment.proposalID)
                """)
            var writes = RoundWrites(district: district, now: now)
            if assignment.status == .active {
                // A second unit's contest finds the proposal contested already.
                writes.lifecycle.append(.init(assignment.proposalID, by: claims.subject, { $0 == .contested ? nil : .contest }))
            }
            try writes.record(
                assignment.proposalID, actor: claims.subject, action: "contested",
                detail: ["unit": assignment.unitName, "reason": reason, "suggestedUnit": suggested ?? ""])
            try writes.announce(
                AssignmentContested(
                    contestID: contestID, assignmentID: id, proposalID: assignment.proposalID,
                    unitID: unit, reason: reason), proposal: assignment.proposalID)
            try await writes.write(in: transaction)
            let updated = try await CaseRepository.assignments(where: "a.id = \(id)", in: transaction)
            return try await Self.views(of: updated, withContests: true, in: transaction)[0]
        }
    }

    /// Confirms a proposed assignment; when every unit of the round has, the round is final.
    func confirm(_ id: UUID, by claims: StaffClaims, now: Date = Date()) async throws -> UnitAssignmentView {
        let unit = try Self.unit(of: claims)
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            guard
                let assignment = try await CaseRepository.assignments(where: "a.id = \(id) AND a.unit_id = \(unit)", forUpdate: true, in: transaction)
                    .first
            else {
                throw APIError.notFound
            }
            guard assignment.status == .proposed else {
                throw APIError(
                    .conflict, code: "illegal-state", message: "only a proposed assignment is confirmed; this one is \(assignment.status.rawValue)")
            }
            guard assignment.confirmedAt == nil else {
                throw APIError(.conflict, code: "illegal-state", message: "confirmed already")
            }
            try await transaction.execute("UPDATE assignments SET confirmed_at = \(now) WHERE id = \(id)")
            var writes = RoundWrites(district: district, now: now)
            try writes.record(assignment.proposalID, actor: claims.subject, action: "confirmed", detail: ["unit": assignment.unitName])
            let round = try await CaseRepository.assignments(
                where: "a.proposal_id = \(assignment.proposalID) AND a.round = \(assignment.round)", in: transaction)
            if round.allSatisfy({ $0.status == .proposed && ($0.confirmedAt != nil || $0.id == id) }) {
                try await PreAssignments.finalize(assignment.proposalID, district: district, now: now, writes: &writes, in: transaction)
            }
            try await writes.write(in: transaction)
            let updated = try await CaseRepository.assignments(where: "a.id = \(id)", in: transaction)
            return try await Self.views(of: updated, withContests: true, in: transaction)[0]
        }
    }
}
