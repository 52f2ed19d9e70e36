import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// Pre-assignments (预交办) become final when every unit confirmed, or when the confirmation
/// window passed without a contest.
enum PreAssignments {
    /// Makes the current round's proposed assignments final from today.
    static func finalize(_ proposalID: UUID, district: DistrictCode, now: Date, writes: inout RoundWrites, in transaction: Transaction) async throws {
        guard let record = try await CaseRepository.load(proposalID, forUpdate: true, in: transaction), record.state == "pre-assigned" else { return }
        let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
        let proposed = try await CaseRepository.assignments(
            where: "a.proposal_id = \(proposalID) AND a.round = \(record.round) AND a.status = 'proposed'", forUpdate: true, in: transaction)
        guard !proposed.isEmpty else { return }
        var units: [AssignedUnit] = []
        for assignment in proposed {
            let terms = rules.finalTerms(kind: record.kind, isKey: record.isKey, ownLimit: record.ownLimit, explicitDeadline: assignment.deadline)
            try await transaction.execute(
                """
                UPDATE assignments SET status = 'active', assigned_on = \(rules.today),
                       deadline = \(terms.deadline), contest_until = \(terms.contestUntil)
                WHERE id = \(assignment.id)
                """)
            units.append(
                AssignedUnit(
                    assignmentID: assignment.id, unitID: assignment.unitID, unitName: assignment.unitName, role: assignment.role,
                    status: .active, assignedOn: rules.today, deadline: terms.deadline, contestUntil: terms.contestUntil))
        }
        try await transaction.execute("UPDATE assignment_cases SET state = 'assigned', updated_at = \(now) WHERE proposal_id = \(proposalID)")
        writes.lifecycle.append(.init(proposalID, by: "assignment-service", ProposalTransition.finalAssignment))
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
                                  AND a.status = 'proposed' AND a.confirm_by < \(rules.today))
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
