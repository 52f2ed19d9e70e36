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
    var proposalID: UUID
    var unitID: UUID
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

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, proposalID = "proposalId", unitID = "unitId", unitName, role, round, status, createdAt, createdBy, notes, confirmBy, confirmedAt,
            assignedOn, deadline, contestUntil
    }
}

/// Reading and writing cases and their assignment rounds. Everything a step changes (the
/// rows, the case's state, the proposal's status, the history and the events) is collected in
/// a `RoundWrites` and written in a few statements of column arrays, in the caller's transaction.
enum CaseRepository {
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
        a.confirm_by, a.confirmed_at, a.assigned_on, a.deadline, a.contest_until
        """

    static func assignments(where condition: PostgresQuery, forUpdate: Bool = false, in transaction: Transaction) async throws -> [AssignmentRecord] {
        let query = PostgresQuery(
            "SELECT \(assignmentColumns) FROM assignments a JOIN handling_units u ON u.id = a.unit_id WHERE", condition: condition,
            tail: forUpdate ? "FOR UPDATE OF a" : "ORDER BY a.round, a.role DESC, u.code")
        var records: [AssignmentRecord] = []
        let rows = try await transaction.query(query)
        for try await row in rows {
            let columns = row.makeRandomAccess()
            func date(_ index: Int) throws -> LocalDate? { try columns[index].decode(LocalDate?.self) }
            records.append(
                AssignmentRecord(
                    id: try columns[0].decode(UUID.self), proposalID: try columns[1].decode(UUID.self),
                    unitID: try columns[2].decode(UUID.self), unitName: try columns[3].decode(String.self),
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
