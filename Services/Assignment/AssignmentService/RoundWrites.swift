import Foundation
import Models
import PostgresNIO
import ServiceKit
import Similarity
import Storage

/// Everything one or more assignment steps write, gathered to be written together.
struct RoundWrites {
    let district: DistrictCode
    let now: Date

    struct NewAssignment {
        var id: UUID
        var proposalID: UUID
        var unitID: UUID
        var role: Assignment.Role
        var round: Int
        var status: AssignmentStatus
        var createdBy: String
        var notes: String
        var confirmBy: LocalDate?
        var assignedOn: LocalDate?
        var deadline: LocalDate?
        var contestUntil: LocalDate?
    }

    struct CaseChange {
        var proposalID: UUID
        var state: String
        var round: Int
        var handledBy: [UUID]
    }

    var assignments: [NewAssignment] = []
    var cases: [CaseChange] = []
    /// Lifecycle moves, each chosen from the proposal's status when written (`ProposalStatuses`).
    var lifecycle: [ProposalStatuses.Move] = []
    var history: [(proposalID: UUID, actor: String, action: String, detail: String)] = []
    var events: [Outbox.Row] = []

    init(district: DistrictCode, now: Date) {
        self.district = district
        self.now = now
    }

    mutating func record(_ proposalID: UUID, actor: String, action: String, detail: some Encodable) throws {
        history.append((proposalID, actor, action, try HandlingUnitRepository.json(detail)))
    }

    mutating func announce<P: EventPayload>(_ payload: P, proposal: UUID, causedBy cause: EventEnvelope? = nil) throws {
        events.append(
            try Outbox.Row(
                payload, district: district, occurredAt: now, causedBy: cause, to: TopicCatalogue.assignmentEvents, key: proposal.uuidString))
    }

    /// A new round for `record`: final assignments (deadline and contest window from today) or,
    /// with `confirmBy`, assignments proposed for confirmation (预交办). Returns the units as
    /// events carry them.
    mutating func addRound(
        for record: CaseRecord, lead: UUID, coUnits: [UUID], names: [UUID: String], rules: DistrictRules,
        explicitDeadline: LocalDate?, keepDeadline: LocalDate? = nil, confirmBy: LocalDate?, notes: String, actor: String
    ) -> (round: Int, units: [AssignedUnit]) {
        let round = record.round + 1
        let terms = rules.finalTerms(kind: record.kind, isKey: record.isKey, ownLimit: record.ownLimit, explicitDeadline: explicitDeadline)
        var units: [AssignedUnit] = []
        for (unit, role) in [(lead, Assignment.Role.lead)] + coUnits.map({ ($0, Assignment.Role.coHandling) }) {
            let proposed = confirmBy != nil
            let row = NewAssignment(
                id: UUID(), proposalID: record.proposalID, unitID: unit, role: role, round: round,
                status: proposed ? .proposed : .active, createdBy: actor, notes: notes, confirmBy: confirmBy,
                assignedOn: proposed ? nil : rules.today,
                deadline: proposed ? explicitDeadline : (keepDeadline ?? terms.deadline),
                contestUntil: proposed ? confirmBy : terms.contestUntil)
            assignments.append(row)
            units.append(
                AssignedUnit(
                    assignmentID: row.id, unitID: unit, unitName: names[unit] ?? "", role: role, status: row.status,
                    assignedOn: row.assignedOn, deadline: row.deadline, contestUntil: row.contestUntil))
        }
        cases.append(
            CaseChange(
                proposalID: record.proposalID, state: confirmBy == nil ? "assigned" : "pre-assigned",
                round: round, handledBy: [lead] + coUnits))
        if confirmBy == nil { lifecycle.append(.init(record.proposalID, by: actor, ProposalTransition.finalAssignment)) }
        return (round, units)
    }

    func write(in transaction: Transaction) async throws {
        if !assignments.isEmpty {
            func day(_ value: LocalDate?) -> String { value?.description ?? "" }
            try await transaction.execute(
                """
                INSERT INTO assignments (id, district, proposal_id, unit_id, role, round, status, created_at, created_by, notes,
                                         confirm_by, assigned_on, deadline, contest_until)
                SELECT id, \(district.rawValue), proposal_id, unit_id, role, round, status, \(now), created_by, notes,
                       nullif(confirm_by, '')::date, nullif(assigned_on, '')::date, nullif(deadline, '')::date, nullif(contest_until, '')::date
                FROM unnest(\(assignments.map(\.id))::uuid[], \(assignments.map(\.proposalID))::uuid[], \(assignments.map(\.unitID))::uuid[],
                            \(assignments.map(\.role.rawValue))::text[], \(assignments.map(\.round))::int[], \(assignments.map(\.status.rawValue))::text[],
                            \(assignments.map(\.createdBy))::text[], \(assignments.map(\.notes))::text[], \(assignments.map { day($0.confirmBy) })::text[],
                            \(assignments.map { day($0.assignedOn) })::text[], \(assignments.map { day($0.deadline) })::text[],
                            \(assignments.map { day($0.contestUntil) })::text[])
                     AS n(id, proposal_id, unit_id, role, round, status, created_by, notes, confirm_by, assigned_on, deadline, contest_until)
                """)
        }
        if !cases.isEmpty {
            try await transaction.execute(
                """
                UPDATE assignment_cases c SET state = n.state, round = n.round,
                       handled_by = string_to_array(n.handled_by, ',')::uuid[],
                       change_seq = nextval('assignment_case_changes'), updated_at = \(now)
                FROM unnest(\(cases.map(\.proposalID))::uuid[], \(cases.map(\.state))::text[], \(cases.map(\.round))::int[],
                            \(cases.map { $0.handledBy.map(\.uuidString).joined(separator: ",") })::text[])
                     AS n(id, state, round, handled_by)
                WHERE c.proposal_id = n.id
                """)
        }
        try await ProposalStatuses.moveAll(lifecycle, at: now, in: transaction)
        for entry in history {
            try await AuditTrail.record(
                entry.action, "proposal", entry.proposalID.uuidString.lowercased(), after: entry.detail,
                district: district, at: now, in: transaction)
        }
        if !history.isEmpty {
            try await transaction.execute(
                """
                INSERT INTO assignment_history (district, proposal_id, at, actor, action, detail)
                SELECT \(district.rawValue), proposal_id, \(now), actor, action, detail::jsonb
                FROM unnest(\(history.map(\.proposalID))::uuid[], \(history.map(\.actor))::text[], \(history.map(\.action))::text[],
                            \(history.map(\.detail))::text[]) AS h(proposal_id, actor, action, detail)
                """)
        }
        try await Outbox.append(events, in: transaction)
    }
}
