import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

struct FollowUpResultInput: Decodable, Sendable {
    var result: String?
    var note: String?
}

struct FollowUpReviewView: Codable, Sendable {
    var id: UUID
    var assignmentID: UUID
    var proposalID: UUID
    var caseNumber: String
    var unitID: UUID
    var unitName: String
    var promised: LocalDate
    var askedAt: Date
    var result: String?
    var note: String?
    var recordedAt: Date?
    var recordedBy: String?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, assignmentID = "assignmentId", proposalID = "proposalId", caseNumber, unitID = "unitId", unitName, promised, askedAt, result, note,
            recordedAt, recordedBy
    }
}

/// Follow-up reviews (回头看) of B replies: on the promised date the timer pass asks for one
/// (whether or not the proposal has closed since); the lead unit or the committee records what
/// was found, which the unit evaluation counts and the public timeline shows.
struct FollowUpReviewRepository: Sendable {
    let database: Database
    let clock: ServiceClock

    /// Called by the timer pass, with the proposal locked: the review to answer.
    static func ask(_ timer: TimerRepository.Due, district: DistrictCode, now: Date, in transaction: Transaction) async throws {
        try await transaction.execute(
            """
            INSERT INTO follow_up_reviews (id, district, assignment_id, proposal_id, case_number, unit_id, unit_name, promised, asked_at)
            VALUES (\(UUID()), \(district.rawValue), \(timer.assignment), \(timer.proposal), \(timer.caseNumber), \(timer.unit),
                    \(timer.unitName), \(timer.day), \(now))
            ON CONFLICT (assignment_id, promised) DO NOTHING
            """)
    }

    /// The district's reviews (`unit`: that unit's only); `open` true for those waiting for a
    /// result, false for those recorded, nil for both. Oldest question first.
    func list(of district: DistrictCode, unit: UUID?, open: Bool?) async throws -> [FollowUpReviewView] {
        try await database.transaction(.district(district)) { transaction in
            try await Self.views(id: nil, unit: unit, open: open, in: transaction)
        }
    }

    private static func views(id: UUID?, unit: UUID?, open: Bool?, in transaction: Transaction) async throws -> [FollowUpReviewView] {
        var reviews: [FollowUpReviewView] = []
        for try await row in try await transaction.query(
            """
            SELECT id, assignment_id, proposal_id, case_number, unit_id, unit_name, promised, asked_at,
                   result, note, recorded_at, recorded_by
            FROM follow_up_reviews
            WHERE (\(id)::uuid IS NULL OR id = \(id)) AND (\(unit)::uuid IS NULL OR unit_id = \(unit))
              AND (\(open)::boolean IS NULL OR (result IS NULL) = \(open)::boolean)
            ORDER BY asked_at, case_number
            LIMIT 500
            """
        ).decode((UUID, UUID, UUID, String, UUID, String, LocalDate, Date, String?, String?, Date?, String?).self) {
            reviews.append(
                FollowUpReviewView(
                    id: row.0, assignmentID: row.1, proposalID: row.2, caseNumber: row.3, unitID: row.4, unitName: row.5,
                    promised: row.6, askedAt: row.7, result: row.8, note: row.9, recordedAt: row.10, recordedBy: row.11))
        }
        return reviews
    }

    /// Records the result, once (409 after). `unit`: a unit records its own reviews only (404 for
    /// another's).
    func record(_ id: UUID, _ input: FollowUpResultInput, unit: UUID?, by claims: StaffClaims) async throws -> FollowUpReviewView {
        let results = FollowUpResult.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = input.result else { throw APIError.invalid("result", "is required: one of \(results)") }
        guard let result = FollowUpResult(rawValue: text) else { throw APIError.invalid("result", "must be one of \(results)") }
        let note = try FieldText.optional(input.note, "note", limit: 5_000, multiline: true)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            var found: (assignment: UUID, proposal: UUID, unit: UUID, promised: LocalDate, recorded: Bool)?
            for try await (assignment, proposal, owner, promised, recorded) in try await transaction.query(
                """
                SELECT assignment_id, proposal_id, unit_id, promised, result IS NOT NULL
                FROM follow_up_reviews WHERE id = \(id) AND (\(unit)::uuid IS NULL OR unit_id = \(unit))
                FOR UPDATE
                """
            ).decode((UUID, UUID, UUID, LocalDate, Bool).self) {
                found = (assignment, proposal, owner, promised, recorded)
            }
            guard let review = found else { throw APIError.notFound }
            guard !review.recorded else { throw APIError(.conflict, code: "refused", message: "the follow-up review's result is recorded already") }
            try await transaction.execute(
                """
                UPDATE follow_up_reviews SET result = \(result.rawValue), note = \(note), recorded_at = \(now), recorded_by = \(claims.subject)
                WHERE id = \(id)
                """)
            try await AuditTrail.record(
                "follow-up-recorded", "follow-up-review", id.uuidString.lowercased(),
                after: AuditTrail.json(["result": result.rawValue, "note": note ?? ""]),
                district: claims.district, at: now, in: transaction)
            try await Outbox.append(
                [
                    try Outbox.Row(
                        FollowUpRecorded(
                            reviewID: id, assignmentID: review.assignment, proposalID: review.proposal, unitID: review.unit,
                            promised: review.promised, result: result),
                        district: claims.district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: review.proposal.uuidString)
                ],
                in: transaction)
            guard let view = try await Self.views(id: id, unit: nil, open: nil, in: transaction).first else { throw APIError.notFound }
            return view
        }
    }
}
