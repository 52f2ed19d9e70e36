import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// The body of `POST /v1/assignment/proposals/:id/assignment` and `.../reassignment`.
struct AssignmentInput: Decodable, Sendable {
    var lead: UUID?
    var coUnits: [UUID]?
    /// An explicit last day for the reply; by default the district's limit for the proposal.
    var deadline: LocalDate?
    var notes: String?
    /// Propose to the units first (预交办); the district's setting by default.
    var preAssign: Bool?
}

struct ContestDecisionInput: Decodable, Sendable {
    var note: String?
}

struct KeyProposalInput: Decodable, Sendable {
    var supervisingLeader: String?
    /// The key proposal's own reply limit, instead of the district's.
    var limit: DeadlineRule?
}

struct DeadlineInput: Decodable, Sendable {
    var deadline: LocalDate?
    var reason: String?
}

struct ContestRecord: Codable, Sendable, Hashable {
    var id: UUID
    var assignmentID: UUID
    var proposalID: UUID
    var reason: String
    var suggestedUnit: String?
    var contestedAt: Date
    var contestedBy: String
    var resolution: String?
    var resolvedAt: Date?
    var resolvedBy: String?
    var resolutionNote: String?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, assignmentID = "assignmentId", proposalID = "proposalId", reason, suggestedUnit, contestedAt, contestedBy, resolution, resolvedAt,
            resolvedBy, resolutionNote
    }
}

struct HistoryEntry: Codable, Sendable {
    var at: Date
    var actor: String
    var action: String
    var detail: JSONValue
}

/// A case as the committee opens it.
struct CaseView: Codable, Sendable {
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
    var suggestion: Suggestion
    var assignments: [AssignmentRecord]
    var contests: [ContestRecord]
    var history: [HistoryEntry]

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, title, kind, domain, state, filedAt, isKey, supervisingLeader, ownLimit, round, suggestion,
            assignments, contests, history
    }
}

struct QueueEntry: Codable, Sendable {
    var proposalID: UUID
    var caseNumber: String
    var title: String
    var kind: ProposalKind
    var domain: String?
    var state: String
    var filedAt: Date
    var isKey: Bool
    var suggestedLead: UnitSuggestion?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, title, kind, domain, state, filedAt, isKey, suggestedLead
    }
}

/// The proposals committee's work: the queue, assigning, reassigning, contests, key proposals
/// and deadlines. Each step checks the rules, then writes its rows, history and events in one
/// transaction.
struct AssignmentRepository: Sendable {
    let database: Database
    let suggestions: SuggestionRepository

    static func conflict(_ message: String, code: String = "illegal-state") -> APIError {
        APIError(.conflict, code: code, message: message)
    }

    func queue(in district: DistrictCode, state: String?, limit: Int, offset: Int) async throws -> [QueueEntry] {
        let states = ["awaiting-assignment", "pre-assigned", "assigned", "contested"]
        if let state, !states.contains(state) { throw APIError.invalid("state", "must be one of \(states.joined(separator: ", "))") }
        return try await database.transaction(.district(district)) { transaction in
            var entries: [QueueEntry] = []
            let rows = try await transaction.query(
                """
                SELECT proposal_id, case_number, title, kind, domain, state, filed_at, is_key, suggestion::text FROM assignment_cases
                WHERE state = \(state ?? "awaiting-assignment") ORDER BY filed_at, case_number LIMIT \(limit) OFFSET \(offset)
                """)
            for try await (id, caseNumber, title, kind, domain, state, filedAt, isKey, suggestion)
                in rows.decode((UUID, String, String, String, String?, String, Date, Bool, String).self)
            {
                let parsed = try? JSONDecoder().decode(Suggestion.self, from: Data(suggestion.utf8))
                entries.append(
                    QueueEntry(
                        proposalID: id, caseNumber: caseNumber, title: title, kind: ProposalKind(rawValue: kind) ?? .citizen, domain: domain,
                        state: state, filedAt: filedAt, isKey: isKey, suggestedLead: parsed?.lead.first))
            }
            return entries
        }
    }

    func open(_ id: UUID, in district: DistrictCode, freshSuggestion: Bool) async throws -> CaseView {
        try await database.transaction(.district(district)) { transaction in
            guard var record = try await CaseRepository.load(id, forUpdate: false, in: transaction) else { throw APIError.notFound }
            if freshSuggestion { record.suggestion = try await suggestions.suggest(for: record, district: district, in: transaction) }
            return try await Self.view(of: record, in: transaction)
        }
    }

    static func view(of record: CaseRecord, in transaction: Transaction) async throws -> CaseView {
        let assignments = try await CaseRepository.assignments(where: "a.proposal_id = \(record.proposalID)", in: transaction)
        let contests = try await Self.contests(where: "proposal_id = \(record.proposalID)", in: transaction)
        var history: [HistoryEntry] = []
        for try await (at, actor, action, detail) in try await transaction.query(
            """
            SELECT at, actor, action, detail::text FROM assignment_history WHERE proposal_id = \(record.proposalID) ORDER BY id
            """
        ).decode((Date, String, String, String).self) {
            history.append(
                HistoryEntry(
                    at: at, actor: actor, action: action,
                    detail: (try? JSONDecoder().decode(JSONValue.self, from: Data(detail.utf8))) ?? .null))
        }
        return CaseView(
            proposalID: record.proposalID, caseNumber: record.caseNumber, title: record.title, kind: record.kind, domain: record.domain,
            state: record.state, filedAt: record.filedAt, isKey: record.isKey, supervisingLeader: record.supervisingLeader,
            ownLimit: record.ownLimit, round: record.round, suggestion: record.suggestion, assignments: assignments,
            contests: contests, history: history)
    }

    static func contests(where condition: PostgresQuery, forUpdate: Bool = false, in transaction: Transaction) async throws -> [ContestRecord] {
        let query = PostgresQuery(
            """
            SELECT id, assignment_id, proposal_id, reason, suggested_unit, contested_at, contested_by, resolution, resolved_at,
                   resolved_by, resolution_note FROM assignment_contests WHERE
            """, condition: condition, tail: forUpdate ? "FOR UPDATE" : "ORDER BY contested_at")
        var contests: [ContestRecord] = []
        for try await (id, assignment, proposal, reason, suggested, at, by, resolution, resolvedAt, resolvedBy, note)
            in try await transaction.query(query).decode(
                (UUID, UUID, UUID, String, String?, Date, String, String?, Date?, String?, String?).self)
        {
            contests.append(
                ContestRecord(
                    id: id, assignmentID: assignment, proposalID: proposal, reason: reason, suggestedUnit: suggested, contestedAt: at,
                    contestedBy: by, resolution: resolution, resolvedAt: resolvedAt, resolvedBy: resolvedBy, resolutionNote: note))
        }
        return contests
    }

    /// The checked units and deadline of an assignment request.
    static func checked(_ input: AssignmentInput, rules: DistrictRules, in transaction: Transaction) async throws -> (
        lead: UUID, coUnits: [UUID], names: [UUID: String]
    ) {
        guard let lead = input.lead else { throw APIError.invalid("lead", "is required: the lead unit's id") }
        let coUnits = input.coUnits ?? []
        let units = try await HandlingUnitRepository.all(in: transaction)
        let directory = Dictionary(uniqueKeysWithValues: units.map { ($0.id, AssignmentRules.Unit(id: $0.id, name: $0.name, isActive: $0.active)) })
        do throws(RuleRefusal) {
            try AssignmentRules.check(lead: lead, coUnits: coUnits, deadline: input.deadline, today: rules.today, directory: directory)
        } catch {
            throw APIError.invalid(error.field ?? "lead", error.reason)
        }
        return (lead, coUnits, Dictionary(uniqueKeysWithValues: units.map { ($0.id, $0.name) }))
    }

    func assign(_ id: UUID, _ input: AssignmentInput, by claims: StaffClaims, now: Date = Date()) async throws -> CaseView {
        let district = claims.district
        let notes = try FieldText.optional(input.notes, "notes", limit: 2_000, multiline: true) ?? ""
        return try await database.transaction(.district(district)) { transaction in
            try await CaseRepository.lockHandlers(of: district, in: transaction)
            guard let record = try await CaseRepository.load(id, forUpdate: true, in: transaction) else { throw APIError.notFound }
            guard record.state == "awaiting-assignment" else {
                throw Self.conflict("the proposal is \(record.state); a new assignment is a reassignment")
            }
            let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
            let (lead, coUnits, names) = try await Self.checked(input, rules: rules, in: transaction)
            let preAssign = input.preAssign ?? (rules.settings.preAssignmentWorkingDays != nil)
            let confirmBy = preAssign ? rules.calendar.adding(workingDays: rules.settings.preAssignmentWorkingDays ?? 3, to: rules.today) : nil
            var writes = RoundWrites(district: district, now: now)
            let (round, units) = writes.addRound(
                for: record, lead: lead, coUnits: coUnits, names: names, rules: rules, explicitDeadline: input.deadline,
                confirmBy: confirmBy, notes: notes, actor: claims.subject)
            try writes.record(
                id, actor: claims.subject, action: preAssign ? "pre-assigned" : "assigned",
                detail: RoundDetail(round: round, units: units, automatic: false, note: notes.isEmpty ? nil : notes))
            if let confirmBy {
                try writes.announce(
                    ProposalPreAssigned(proposalID: id, caseNumber: record.caseNumber, round: round, units: units, confirmBy: confirmBy), proposal: id
                )
            } else {
                try writes.announce(
                    ProposalAssigned(
                        proposalID: id, caseNumber: record.caseNumber, kind: record.kind, round: round, units: units, isKey: record.isKey,
                        supervisingLeader: record.supervisingLeader, automatic: false, confirmedPreAssignment: false), proposal: id)
            }
            try await writes.write(in: transaction)
            return try await Self.view(of: try await CaseRepository.load(id, forUpdate: false, in: transaction)!, in: transaction)
        }
    }

    /// A new round replacing the current one; resolves the proposal's open contests.
    func reassign(_ id: UUID, _ input: AssignmentInput, by claims: StaffClaims, now: Date = Date()) async throws -> CaseView {
        let district = claims.district
        let note = try FieldText.optional(input.notes, "notes", limit: 2_000, multiline: true) ?? ""
        return try await database.transaction(.district(district)) { transaction in
            try await CaseRepository.lockHandlers(of: district, in: transaction)
            guard let record = try await CaseRepository.load(id, forUpdate: true, in: transaction) else { throw APIError.notFound }
            guard record.state != "awaiting-assignment" else { throw Self.conflict("the proposal has not been assigned yet; assign it first") }
            let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
            let (lead, coUnits, names) = try await Self.checked(input, rules: rules, in: transaction)
            let current = try await CaseRepository.assignments(where: "a.proposal_id = \(id) AND a.round = \(record.round)", in: transaction)
            let open = try await Self.contests(where: "proposal_id = \(id) AND resolution IS NULL", forUpdate: true, in: transaction)
            // Keep: the lead's deadline of the round replaced stands (the proposer's wait does not grow).
            let kept =
                rules.settings.reassignmentDeadline == .keep && input.deadline == nil
                ? current.first { $0.role == .lead }?.deadline : nil
            try await transaction.execute(
                """
                UPDATE assignments SET status = 'superseded' WHERE proposal_id = \(id) AND status <> 'superseded'
                """)
            try await transaction.execute(
                """
                UPDATE assignment_contests SET resolution = 'reassigned', resolved_at = \(now), resolved_by = \(claims.subject),
                       resolution_note = \(note)
                WHERE proposal_id = \(id) AND resolution IS NULL
                """)
            var writes = RoundWrites(district: district, now: now)
            let (round, units) = writes.addRound(
                for: record, lead: lead, coUnits: coUnits, names: names, rules: rules, explicitDeadline: input.deadline,
                keepDeadline: kept, confirmBy: nil, notes: note, actor: claims.subject)
            try writes.record(
                id, actor: claims.subject, action: "reassigned", detail: RoundDetail(round: round, units: units, automatic: false, note: note))
            try writes.announce(
                ProposalReassigned(
                    proposalID: id, caseNumber: record.caseNumber, round: round, units: units, superseded: current.map(\.id),
                    resolvedContests: open.map(\.id), deadlineRule: kept == nil ? .restart : .keep, note: note), proposal: id)
            try await writes.write(in: transaction)
            return try await Self.view(of: try await CaseRepository.load(id, forUpdate: false, in: transaction)!, in: transaction)
        }
    }

    /// The contested assignment stands: back to active (or proposed, during a pre-assignment).
    func rejectContest(_ contestID: UUID, _ input: ContestDecisionInput, by claims: StaffClaims, now: Date = Date()) async throws -> CaseView {
        let district = claims.district
        let note = try FieldText.required(input.note, "note", limit: 2_000, multiline: true)
        return try await database.transaction(.district(district)) { transaction in
            guard let contest = try await Self.contests(where: "id = \(contestID)", forUpdate: true, in: transaction).first else {
                throw APIError.notFound
            }
            guard contest.resolution == nil else { throw Self.conflict("the contest was \(contest.resolution!) already") }
            guard let record = try await CaseRepository.load(contest.proposalID, forUpdate: true, in: transaction),
                let assignment = try await CaseRepository.assignments(where: "a.id = \(contest.assignmentID)", forUpdate: true, in: transaction).first
            else { throw APIError.notFound }
            let restored: AssignmentStatus = assignment.assignedOn == nil ? .proposed : .active
            try await transaction.execute("UPDATE assignments SET status = \(restored.rawValue) WHERE id = \(assignment.id)")
            try await transaction.execute(
                """
                UPDATE assignment_contests SET resolution = 'rejected', resolved_at = \(now), resolved_by = \(claims.subject), resolution_note = \(note)
                WHERE id = \(contestID)
                """)
            let stillContested = try await CaseRepository.assignments(
                where: "a.proposal_id = \(record.proposalID) AND a.round = \(record.round) AND a.status = 'contested'", in: transaction)
            var writes = RoundWrites(district: district, now: now)
            if stillContested.isEmpty {
                let state = restored == .proposed ? "pre-assigned" : "assigned"
                try await transaction.execute(
                    "UPDATE assignment_cases SET state = \(state), updated_at = \(now) WHERE proposal_id = \(record.proposalID)")
                if restored == .active { writes.lifecycle.append(.init(record.proposalID, by: claims.subject, { _ in .rejectContest })) }
            }
            try writes.record(
                record.proposalID, actor: claims.subject, action: "contest-rejected",
                detail: ["contest": contestID.uuidString, "unit": assignment.unitName, "note": note])
            try writes.announce(
                ContestRejected(
                    contestID: contestID, assignmentID: assignment.id, proposalID: record.proposalID,
                    unitID: assignment.unitID, note: note), proposal: record.proposalID)
            try await writes.write(in: transaction)
            return try await Self.view(of: try await CaseRepository.load(record.proposalID, forUpdate: false, in: transaction)!, in: transaction)
        }
    }

    /// Makes a proposal a key proposal (重点提案) with its supervising leader (领衔督办) and,
    /// optionally, its own limit; final assignments get their deadlines recomputed from the day
    /// they were assigned.
    func markKey(_ id: UUID, _ input: KeyProposalInput, by claims: StaffClaims, now: Date = Date()) async throws -> CaseView {
        let district = claims.district
        let leader = try FieldText.required(input.supervisingLeader, "supervisingLeader", limit: 50, multiline: false)
        if let problem = input.limit?.problem { throw APIError.invalid("limit", problem) }
        return try await database.transaction(.district(district)) { transaction in
            guard let record = try await CaseRepository.load(id, forUpdate: true, in: transaction) else { throw APIError.notFound }
            let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
            try await transaction.execute(
                """
                UPDATE assignment_cases SET is_key = true, supervising_leader = \(leader),
                       own_limit = \(try input.limit.map { try HandlingUnitRepository.json($0) })::jsonb, updated_at = \(now)
                WHERE proposal_id = \(id)
                """)
            var writes = RoundWrites(district: district, now: now)
            try writes.record(
                id, actor: claims.subject, action: "marked-key",
                detail: ["supervisingLeader": leader, "limit": input.limit?.description ?? "the district's"])
            try writes.announce(ProposalMarkedKey(proposalID: id, supervisingLeader: leader, limit: input.limit), proposal: id)
            let limit = rules.settings.limit(kind: record.kind, isKey: true, own: input.limit)
            let active = try await CaseRepository.assignments(
                where: "a.proposal_id = \(id) AND a.round = \(record.round) AND a.status IN ('active', 'contested')", forUpdate: true, in: transaction
            )
            for assignment in active {
                guard let assignedOn = assignment.assignedOn else { continue }
                let deadline = limit.deadline(from: assignedOn, calendar: rules.calendar)
                guard deadline != assignment.deadline else { continue }
                try await transaction.execute("UPDATE assignments SET deadline = \(deadline) WHERE id = \(assignment.id)")
                try writes.announce(
                    AssignmentDeadlineChanged(
                        assignmentID: assignment.id, proposalID: id, unitID: assignment.unitID, previous: assignment.deadline, deadline: deadline,
                        reason: "key proposal, limit \(limit)"), proposal: id)
            }
            try await writes.write(in: transaction)
            return try await Self.view(of: try await CaseRepository.load(id, forUpdate: false, in: transaction)!, in: transaction)
        }
    }

    func changeDeadline(_ assignmentID: UUID, _ input: DeadlineInput, by claims: StaffClaims, now: Date = Date()) async throws -> AssignmentRecord {
        let district = claims.district
        guard let deadline = input.deadline else { throw APIError.invalid("deadline", "is required (YYYY-MM-DD)") }
        let reason = try FieldText.required(input.reason, "reason", limit: 500, multiline: true)
        return try await database.transaction(.district(district)) { transaction in
            guard let assignment = try await CaseRepository.assignments(where: "a.id = \(assignmentID)", forUpdate: true, in: transaction).first
            else {
                throw APIError.notFound
            }
            guard assignment.status == .active || assignment.status == .contested else {
                throw Self.conflict("the assignment is \(assignment.status.rawValue); only a final assignment has a deadline to change")
            }
            let rules = try await DistrictRules.load(for: district, now: now, in: transaction)
            guard deadline > rules.today else { throw APIError.invalid("deadline", "\(deadline) is not after today (\(rules.today))") }
            try await transaction.execute("UPDATE assignments SET deadline = \(deadline) WHERE id = \(assignmentID)")
            var writes = RoundWrites(district: district, now: now)
            try writes.record(
                assignment.proposalID, actor: claims.subject, action: "deadline-changed",
                detail: [
                    "unit": assignment.unitName, "previous": assignment.deadline?.description ?? "", "deadline": deadline.description,
                    "reason": reason,
                ])
            try writes.announce(
                AssignmentDeadlineChanged(
                    assignmentID: assignmentID, proposalID: assignment.proposalID, unitID: assignment.unitID, previous: assignment.deadline,
                    deadline: deadline, reason: reason), proposal: assignment.proposalID)
            try await writes.write(in: transaction)
            return try await CaseRepository.assignments(where: "a.id = \(assignmentID)", in: transaction)[0]
        }
    }
}
