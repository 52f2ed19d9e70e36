import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// What is recorded of one assignment's handling, as the committee and the unit read it: timers,
/// the three meetings, the co-units' opinions, progress notes, extension requests and replies
/// with their attachments' metadata.
enum AssignmentRecords {
    /// One assignment of the transaction's district with its records; nil for an unknown id, or,
    /// with `unit`, for an assignment of another unit.
    static func detail(of id: UUID, unit: UUID?, in transaction: Transaction) async throws -> TrackedAssignment? {
        var sql = PostgresQuery(unsafeSQL: "SELECT \(SupervisionController.columns) FROM supervised_assignments WHERE ")
        let condition: PostgresQuery = "assignment_id = \(id) AND (\(unit)::uuid IS NULL OR unit_id = \(unit))"
        sql.sql += condition.sql
        sql.binds = condition.binds
        guard var assignment = try await SupervisionController.assignments(try await transaction.query(sql)).first else { return nil }
        var timers: [TimerView] = []
        for try await (kind, step, day, dueAt, firedAt, cancelledAt, outcome) in try await transaction.query(
            """
            SELECT kind, step, to_char(day, 'YYYY-MM-DD'), due_at, fired_at, cancelled_at, outcome FROM supervision_timers
            WHERE assignment_id = \(id) ORDER BY due_at, id
            """
        ).decode((String, Int, String, Date, Date?, Date?, String?).self) {
            timers.append(TimerView(kind: kind, step: step, day: day, dueAt: dueAt, firedAt: firedAt, cancelledAt: cancelledAt, outcome: outcome))
        }
        assignment.timers = timers
        for try await (title, district) in try await transaction.query(
            """
            SELECT p.title, d.name FROM proposals p JOIN districts d ON d.code = p.district WHERE p.id = \(assignment.proposalId)
            """
        ).decode((String, String).self) {
            assignment.proposalTitle = title
            assignment.districtName = district
        }
        var meetings: [MeetingView] = []
        for try await (stage, heldOn, form, attendees, summary) in try await transaction.query(
            """
            SELECT stage, to_char(held_on, 'YYYY-MM-DD'), form, attendees, summary FROM handling_meetings
            WHERE assignment_id = \(id) ORDER BY held_on, recorded_at
            """
        ).decode((String, String, String, String, String).self) {
            meetings.append(MeetingView(stage: stage, heldOn: heldOn, form: form, attendees: attendees, summary: summary))
        }
        assignment.meetings = meetings
        // A co-unit reads its own opinion; the lead unit and the committee read every co-unit's
        // of the same proposal and round.
        var opinions: [OpinionView] = []
        for try await (assignmentID, unitName, text, givenAt) in try await transaction.query(
            """
            SELECT o.assignment_id, a.unit_name, o.text, o.given_at FROM co_unit_opinions o
            JOIN supervised_assignments a ON a.assignment_id = o.assignment_id
            WHERE a.proposal_id = \(assignment.proposalId) AND a.round = \(assignment.round)
              AND (\(assignment.role) = 'lead' OR \(unit)::uuid IS NULL OR o.assignment_id = \(id))
            ORDER BY o.given_at
            """
        ).decode((UUID, String, String, Date).self) {
            opinions.append(OpinionView(assignmentId: assignmentID, unitName: unitName, text: text, givenAt: givenAt))
        }
        assignment.coUnitOpinions = opinions
        var notes: [NoteView] = []
        for try await (text, notedAt) in try await transaction.query(
            """
            SELECT text, noted_at FROM progress_notes WHERE assignment_id = \(id) ORDER BY noted_at
            """
        ).decode((String, Date).self) {
            notes.append(NoteView(text: text, notedAt: notedAt))
        }
        assignment.progressNotes = notes
        assignment.extensionRequests = try await extensionRequests(state: "all", assignment: id, in: transaction)
        var replies: [ReplyView] = []
        for try await (replyID, text, category, reviewed, promised, onTime, at) in try await transaction.query(
            """
            SELECT id, text, category, reviewed_category, to_char(promised_date, 'YYYY-MM-DD'), on_time, replied_at FROM replies
            WHERE assignment_id = \(id) ORDER BY replied_at
            """
        ).decode((UUID, String, String, String?, String?, Bool, Date).self) {
            replies.append(
                ReplyView(
                    id: replyID, text: text, category: category, reviewedCategory: reviewed, promisedDate: promised,
                    onTime: onTime, repliedAt: at, attachments: []))
        }
        for index in replies.indices {
            for try await (name, mediaType, size, sha256) in try await transaction.query(
                """
                SELECT name, media_type, size_bytes, encode(sha256, 'hex') FROM reply_attachments WHERE reply_id = \(replies[index].id) ORDER BY position
                """
            ).decode((String, String, Int, String).self) {
                replies[index].attachments.append(AttachmentMetadata(name: name, mediaType: mediaType, size: size, sha256: sha256))
            }
        }
        assignment.replies = replies
        return assignment
    }

    /// Extension requests by state (`pending`, `granted`, `refused` or `all`), of one assignment
    /// or of the whole district, oldest first.
    static func extensionRequests(state: String, assignment: UUID? = nil, in transaction: Transaction) async throws -> [ExtensionRequestView] {
        var found: [ExtensionRequestView] = []
        for try await row in try await transaction.query(
            """
            SELECT e.id, e.assignment_id, a.case_number, a.unit_name, to_char(e.current_deadline, 'YYYY-MM-DD'),
                   to_char(e.requested_deadline, 'YYYY-MM-DD'), e.reason, e.requested_at, e.decision, e.decided_at, e.decision_note
            FROM extension_requests e JOIN supervised_assignments a ON a.assignment_id = e.assignment_id
            WHERE (\(assignment)::uuid IS NULL OR e.assignment_id = \(assignment))
              AND (\(state) = 'all' OR (\(state) = 'pending' AND e.decision IS NULL) OR e.decision = \(state))
            ORDER BY e.requested_at, e.id LIMIT 500
            """
        ).decode((UUID, UUID, String, String, String, String, String, Date, String?, Date?, String?).self) {
            found.append(
                ExtensionRequestView(
                    id: row.0, assignmentId: row.1, caseNumber: row.2, unitName: row.3, currentDeadline: row.4, requestedDeadline: row.5,
                    reason: row.6, requestedAt: row.7, decision: row.8, decidedAt: row.9, decisionNote: row.10))
        }
        return found
    }
}
