import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

struct SupervisionActionInput: Decodable, Sendable {
    var kind: String?
    var heldOn: LocalDate?
    var participants: String?
    var summary: String?
}

struct SupervisionAction: Codable, Sendable {
    var id: UUID
    var proposalID: UUID
    var kind: String
    var heldOn: LocalDate
    var participants: String
    var summary: String
    var recordedAt: Date
    var recordedBy: String

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, proposalID = "proposalId", kind, heldOn, participants, summary, recordedAt, recordedBy
    }
}

/// Supervision activities on a proposal (五督办), recorded by the committee.
struct SupervisionActionRepository: Sendable {
    let database: Database
    let clock: ServiceClock

    static let kinds = ["leader-led", "chairpersons-meeting", "special-committee", "sector-group", "media"]

    func record(_ proposal: UUID, _ input: SupervisionActionInput, by claims: StaffClaims) async throws -> SupervisionAction {
        guard let kind = input.kind else { throw APIError.invalid("kind", "is required (\(Self.kinds.joined(separator: ", ")))") }
        guard Self.kinds.contains(kind) else { throw APIError.invalid("kind", "must be one of \(Self.kinds.joined(separator: ", "))") }
        guard let heldOn = input.heldOn else { throw APIError.invalid("heldOn", "is required (YYYY-MM-DD)") }
        let participants = try FieldText.required(input.participants, "participants", limit: 1_000, multiline: true)
        let summary = try FieldText.required(input.summary, "summary", limit: 10_000, multiline: true)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            var known = false
            for try await _ in try await transaction.query("SELECT 1 FROM supervised_assignments WHERE proposal_id = \(proposal) LIMIT 1") {
                known = true
            }
            guard known else { throw APIError.notFound }
            let settings = try await TimerRepository.settings(of: claims.district, in: transaction)
            guard heldOn <= LocalDate.on(now, in: settings.zone) else {
                throw APIError.invalid("heldOn", "\(heldOn) is in the future; record an activity once held")
            }
            let action = SupervisionAction(
                id: UUID(), proposalID: proposal, kind: kind, heldOn: heldOn, participants: participants,
                summary: summary, recordedAt: now, recordedBy: claims.subject)
            try await transaction.execute(
                """
                INSERT INTO supervision_actions (id, district, proposal_id, kind, held_on, participants, summary, recorded_at, recorded_by)
                VALUES (\(action.id), \(claims.district.rawValue), \(proposal), \(kind), \(heldOn), \(participants),
                        \(summary), \(now), \(claims.subject))
                """)
            try await AuditTrail.record(
                "supervision-action", "proposal", proposal.uuidString.lowercased(), after: AuditTrail.json(action),
                district: claims.district, at: now, in: transaction)
            return action
        }
    }

    func list(_ proposal: UUID, in district: DistrictCode) async throws -> [SupervisionAction] {
        try await database.transaction(.district(district)) { transaction in
            var actions: [SupervisionAction] = []
            for try await (id, kind, heldOn, participants, summary, at, by) in try await transaction.query(
                """
                SELECT id, kind, held_on, participants, summary, recorded_at, recorded_by FROM supervision_actions
                WHERE proposal_id = \(proposal) ORDER BY held_on, recorded_at
                """
            ).decode((UUID, String, LocalDate, String, String, Date, String).self) {
                actions.append(
                    SupervisionAction(
                        id: id, proposalID: proposal, kind: kind, heldOn: heldOn, participants: participants,
                        summary: summary, recordedAt: at, recordedBy: by))
            }
            return actions
        }
    }
}
