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
struct UnitDesk: Sendable {
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
            let assignments = try await Cases.assignments(where: condition, in: transaction)
            return try await Self.views(of: assignments, withContests: false, in: transaction)
        }
    }

    func open(_ id: UUID, _ claims: StaffClaims) async throws -> UnitAssignmentView {
        let unit = try Self.unit(of: claims)
        return try await database.transaction(.district(claims.district)) { transaction in
            let assignments = try await Cases.assignments(where: "a.id = \(id) AND a.unit_id = \(unit)", in: transaction)
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
            WHERE proposal_id = ANY(\(Array(Set(assignments.map(\.proposalId)))))
            """
        ).decode((UUID, String, String, Bool, String?).self) {
            cases[id] = (number, title, isKey, leader)
        }
        var views: [UnitAssignmentView] = []
        for assignment in assignments {
            guard let (number, title, isKey, leader) = cases[assignment.proposalId] else { continue }
            let contests =
                withContests
                ? try await AssignmentDesk.contests(where: "assignment_id = \(assignment.id)", in: transaction) : []
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
            guard let assignment = try await Cases.assignments(where: "a.id = \(id) AND a.unit_id = \(unit)", forUpdate: true, in: transaction).first
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
                VALUES (\(contestID), \(district.rawValue), \(id), \(assignment.proposalId), \(reason), \(suggested), \(now), \(claims.subject))
                """)
            try await transaction.execute(
                """
                UPDATE assignment_cases SET state = 'contested', updated_at = \(now) WHERE proposal_id = \(assignment.proposalId)
                """)
            var writes = RoundWrites(district: district, now: now)
            if assignment.status == .active {
                // A second unit's contest finds the proposal contested already.
                writes.lifecycle.append((assignment.proposalId, claims.subject, { $0 == .contested ? nil : .contest }))
            }
            try writes.record(
                assignment.proposalId, actor: claims.subject, action: "contested",
                detail: ["unit": assignment.unitName, "reason": reason, "suggestedUnit": suggested ?? ""])
            try writes.announce(
                AssignmentContested(
                    contestID: contestID, assignmentID: id, proposalID: assignment.proposalId,
                    unitID: unit, reason: reason), proposal: assignment.proposalId)
            try await writes.write(in: transaction)
            let updated = try await Cases.assignments(where: "a.id = \(id)", in: transaction)
            return try await Self.views(of: updated, withContests: true, in: transaction)[0]
        }
    }

    /// Confirms a proposed assignment; when every unit of the round has, the round is final.
    func confirm(_ id: UUID, by claims: StaffClaims, now: Date = Date()) async throws -> UnitAssignmentView {
        let unit = try Self.unit(of: claims)
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            guard let assignment = try await Cases.assignments(where: "a.id = \(id) AND a.unit_id = \(unit)", forUpdate: true, in: transaction).first
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
            try writes.record(assignment.proposalId, actor: claims.subject, action: "confirmed", detail: ["unit": assignment.unitName])
            let round = try await Cases.assignments(
                where: "a.proposal_id = \(assignment.proposalId) AND a.round = \(assignment.round)", in: transaction)
            if round.allSatisfy({ $0.status == .proposed && ($0.confirmedAt != nil || $0.id == id) }) {
                try await PreAssignments.finalize(assignment.proposalId, district: district, now: now, writes: &writes, in: transaction)
            }
            try await writes.write(in: transaction)
            let updated = try await Cases.assignments(where: "a.id = \(id)", in: transaction)
            return try await Self.views(of: updated, withContests: true, in: transaction)[0]
        }
    }
}

/// Pre-assignments (预交办) become final when every unit confirmed, or when the confirmation
/// window passed without a contest.
enum PreAssignments {
    /// Makes the current round's proposed assignments final from today.
    static func finalize(_ proposalID: UUID, district: DistrictCode, now: Date, writes: inout RoundWrites, in transaction: Transaction) async throws {
        guard let record = try await Cases.load(proposalID, forUpdate: true, in: transaction), record.state == "pre-assigned" else { return }
        let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
        let proposed = try await Cases.assignments(
            where: "a.proposal_id = \(proposalID) AND a.round = \(record.round) AND a.status = 'proposed'", forUpdate: true, in: transaction)
        guard !proposed.isEmpty else { return }
        var units: [AssignedUnit] = []
        for assignment in proposed {
            let terms = rules.finalTerms(kind: record.kind, isKey: record.isKey, ownLimit: record.ownLimit, explicitDeadline: assignment.deadline)
            try await transaction.execute(
                """
                UPDATE assignments SET status = 'active', assigned_on = \(rules.today.description)::date,
                       deadline = \(terms.deadline.description)::date, contest_until = \(terms.contestUntil.description)::date
                WHERE id = \(assignment.id)
                """)
            units.append(
                AssignedUnit(
                    assignmentID: assignment.id, unitID: assignment.unitId, unitName: assignment.unitName, role: assignment.role,
                    status: .active, assignedOn: rules.today, deadline: terms.deadline, contestUntil: terms.contestUntil))
        }
        try await transaction.execute("UPDATE assignment_cases SET state = 'assigned', updated_at = \(now) WHERE proposal_id = \(proposalID)")
        writes.lifecycle.append((proposalID, "assignment-service", ProposalTransition.finalAssignment))
        try writes.record(
            proposalID, actor: "assignment-service", action: "assigned",
            detail: RoundDetail(round: record.round, units: units, automatic: false, note: "pre-assignment final"))
        try writes.announce(
            ProposalAssigned(
                proposalID: proposalID, caseNumber: record.caseNumber, kind: record.kind, round: record.round, units: units,
                isKey: record.isKey, supervisingLeader: record.supervisingLeader, automatic: false, confirmedPreAssignment: true),
            proposal: proposalID)
    }

    /// Finalizes, in every district, the pre-assignments whose window passed with no contest.
    /// Rows are claimed with SKIP LOCKED, so several instances share the work and none twice.
    static func sweep(database: Database, now: Date = Date()) async throws -> Int {
        let districts = try await database.transaction(.allDistricts) { transaction in
            var codes: [DistrictCode] = []
            for try await code in try await transaction.query(
                """
                SELECT DISTINCT district FROM assignments WHERE status = 'proposed' AND confirm_by < \(now)::date + 1
                """
            ).decode(String.self) {
                if let code = DistrictCode(rawValue: code) { codes.append(code) }
            }
            return codes
        }
        var finalized = 0
        for district in districts {
            finalized += try await database.transaction(.district(district)) { transaction in
                let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
                // Proposals whose proposed round is past its window and has no contested row.
                var due: [UUID] = []
                for try await id in try await transaction.query(
                    """
                    SELECT c.proposal_id FROM assignment_cases c
                    WHERE c.state = 'pre-assigned'
                      AND EXISTS (SELECT 1 FROM assignments a WHERE a.proposal_id = c.proposal_id AND a.round = c.round
                                  AND a.status = 'proposed' AND a.confirm_by < \(rules.today.description)::date)
                    ORDER BY c.filed_at LIMIT 200
                    FOR UPDATE SKIP LOCKED
                    """
                ).decode(UUID.self) { due.append(id) }
                var writes = RoundWrites(district: district, now: now)
                for id in due { try await finalize(id, district: district, now: now, writes: &writes, in: transaction) }
                try await writes.write(in: transaction)
                return due.count
            }
        }
        return finalized
    }
}
