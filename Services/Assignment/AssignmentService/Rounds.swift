import Foundation
import Models
import PostgresNIO
import ServiceKit
import Similarity
import Storage

/// A filed proposal as assignment keeps it.
struct CaseRecord: Sendable {
    var proposalID: UUID
    var caseNumber: String
    var title: String
    var kind: ProposalKind
    var domain: String?
    var state: String
    var filedAt: Date
    var isKey: Bool
    var supervisingLeader: String?
    var ownLimit: DeadlineRule?
    var round: Int
    var handledBy: [UUID]
    var suggestion: Suggestion
}

/// One unit's part in one round, as stored.
struct AssignmentRecord: Codable, Sendable, Hashable {
    var id: UUID
    var proposalId: UUID
    var unitId: UUID
    var unitName: String
    var role: Assignment.Role
    var round: Int
    var status: AssignmentStatus
    var createdAt: Date
    var createdBy: String
    var notes: String
    var confirmBy: LocalDate?
    var confirmedAt: Date?
    var assignedOn: LocalDate?
    var deadline: LocalDate?
    var contestUntil: LocalDate?
}

/// Reading and writing cases and their assignment rounds. Everything a step changes (the
/// rows, the case's state, the proposal's status, the history and the events) is collected in
/// a `RoundWrites` and written in a few statements of column arrays, in the caller's transaction.
enum Cases {
    /// Changes to which units handled a district's proposals are made one transaction at a
    /// time, so that `change_seq` order is commit order and every instance's index of past
    /// proposals, reading changes after the last it saw, misses none.
    static func lockHandlers(of district: DistrictCode, in transaction: Transaction) async throws {
        try await transaction.lock("assignment-cases:" + district.rawValue)
    }

    static func load(_ id: UUID, forUpdate: Bool, in transaction: Transaction) async throws -> CaseRecord? {
        let lock: PostgresQuery = forUpdate ? "FOR UPDATE" : ""
        var query: PostgresQuery = """
            SELECT proposal_id, case_number, title, kind, domain, state, filed_at, is_key, supervising_leader, own_limit::text,
                   round, handled_by, suggestion::text
            FROM assignment_cases WHERE proposal_id = \(id)
            """
        query.sql += " " + lock.sql
        let rows = try await transaction.query(query)
        for try await (id, caseNumber, title, kind, domain, state, filedAt, isKey, leader, ownLimit, round, handledBy, suggestion)
            in rows.decode((UUID, String, String, String, String?, String, Date, Bool, String?, String?, Int, [UUID], String).self)
        {
            return CaseRecord(
                proposalID: id, caseNumber: caseNumber, title: title, kind: ProposalKind(rawValue: kind) ?? .citizen, domain: domain,
                state: state, filedAt: filedAt, isKey: isKey, supervisingLeader: leader,
                ownLimit: try ownLimit.map { try JSONDecoder().decode(DeadlineRule.self, from: Data($0.utf8)) },
                round: round, handledBy: handledBy,
                suggestion: (try? JSONDecoder().decode(Suggestion.self, from: Data(suggestion.utf8))) ?? .empty)
        }
        return nil
    }

    static let assignmentColumns = """
        a.id, a.proposal_id, a.unit_id, u.name, a.role, a.round, a.status, a.created_at, a.created_by, a.notes,
        to_char(a.confirm_by, 'YYYY-MM-DD'), a.confirmed_at, to_char(a.assigned_on, 'YYYY-MM-DD'),
        to_char(a.deadline, 'YYYY-MM-DD'), to_char(a.contest_until, 'YYYY-MM-DD')
        """

    static func assignments(where condition: PostgresQuery, forUpdate: Bool = false, in transaction: Transaction) async throws -> [AssignmentRecord] {
        var query = PostgresQuery(unsafeSQL: "SELECT \(assignmentColumns) FROM assignments a JOIN handling_units u ON u.id = a.unit_id WHERE ")
        query.sql += condition.sql
        query.binds = condition.binds
        query.sql += forUpdate ? " FOR UPDATE OF a" : " ORDER BY a.round, a.role DESC, u.code"
        var records: [AssignmentRecord] = []
        let rows = try await transaction.query(query)
        for try await row in rows {
            let columns = row.makeRandomAccess()
            func date(_ index: Int) throws -> LocalDate? { try columns[index].decode(String?.self).flatMap(LocalDate.init) }
            records.append(
                AssignmentRecord(
                    id: try columns[0].decode(UUID.self), proposalId: try columns[1].decode(UUID.self),
                    unitId: try columns[2].decode(UUID.self), unitName: try columns[3].decode(String.self),
                    role: Assignment.Role(rawValue: try columns[4].decode(String.self)) ?? .lead,
                    round: try columns[5].decode(Int.self),
                    status: AssignmentStatus(rawValue: try columns[6].decode(String.self)) ?? .active,
                    createdAt: try columns[7].decode(Date.self), createdBy: try columns[8].decode(String.self),
                    notes: try columns[9].decode(String.self), confirmBy: try date(10), confirmedAt: try columns[11].decode(Date?.self),
                    assignedOn: try date(12), deadline: try date(13), contestUntil: try date(14)))
        }
        return records
    }

    /// The names of the given units (any state), for events.
    static func unitNames(_ ids: [UUID], in transaction: Transaction) async throws -> [UUID: String] {
        var names: [UUID: String] = [:]
        for try await (id, name) in try await transaction.query("SELECT id, name FROM handling_units WHERE id = ANY(\(ids))").decode(
            (UUID, String).self)
        {
            names[id] = name
        }
        return names
    }
}

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
    var lifecycle: [(proposal: UUID, actor: String, step: @Sendable (ProposalStatus) -> ProposalTransition?)] = []
    var history: [(proposalID: UUID, actor: String, action: String, detail: String)] = []
    var events: [Outbox.Row] = []

    init(district: DistrictCode, now: Date) {
        self.district = district
        self.now = now
    }

    mutating func record(_ proposalID: UUID, actor: String, action: String, detail: some Encodable) throws {
        history.append((proposalID, actor, action, try UnitDirectory.json(detail)))
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
        if confirmBy == nil { lifecycle.append((record.proposalID, actor, ProposalTransition.finalAssignment)) }
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
        for move in lifecycle {
            try await ProposalStatuses.move(move.proposal, by: move.actor, at: now, in: transaction, move.step)
        }
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
