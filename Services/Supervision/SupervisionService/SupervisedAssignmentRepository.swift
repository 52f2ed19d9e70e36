import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// What is recorded of one assignment's handling, as the committee and the unit read it: timers,
/// the three meetings, the co-units' opinions, progress notes, extension requests and replies
/// with their attachments' metadata.
enum SupervisedAssignmentRepository {
    /// The district's assignments in `state`, deadline first; with `dueBefore`, only those whose
    /// deadline is before that day (overdue).
    static func list(in state: SupervisedAssignmentState, dueBefore day: LocalDate?, in transaction: Transaction) async throws -> [TrackedAssignment]
    {
        let condition: PostgresQuery =
            if let day { "state = \(state.rawValue) AND deadline < \(day)" } else { "state = \(state.rawValue)" }
        return try await assignments(where: condition, order: "deadline, case_number", in: transaction)
    }

    /// A handling unit's assignments that are not superseded, deadline first.
    static func list(of unit: UUID, in transaction: Transaction) async throws -> [TrackedAssignment] {
        try await assignments(
            where: "unit_id = \(unit) AND state <> \(SupervisedAssignmentState.superseded.rawValue)", order: "deadline, case_number", in: transaction)
    }

    /// The parts of the key proposals a supervising leader leads, not superseded, the furthest escalated first.
    static func list(ledBy leader: String, in transaction: Transaction) async throws -> [TrackedAssignment] {
        try await assignments(
            where: "supervising_leader = \(leader) AND state <> \(SupervisedAssignmentState.superseded.rawValue)",
            order: """
                CASE escalation_level WHEN 'chairpersons-meeting' THEN 0 WHEN 'supervising-leader' THEN 1
                                      WHEN 'formal-notice' THEN 2 WHEN 'reminder' THEN 3 ELSE 4 END, deadline, case_number
                """, in: transaction)
    }

    static let columns = """
        assignment_id, proposal_id, case_number, unit_id, unit_name, role, round, is_key, supervising_leader,
        assigned_on, deadline, state, escalation_level
        """

    /// At most 500 assignments matching `condition`, without their records.
    private static func assignments(where condition: PostgresQuery, order: String = "case_number", in transaction: Transaction) async throws
        -> [TrackedAssignment]
    {
        let rows = try await transaction.query(
            PostgresQuery("SELECT \(columns) FROM supervised_assignments WHERE", condition: condition, tail: "ORDER BY \(order) LIMIT 500"))
        var found: [TrackedAssignment] = []
        for try await row in rows {
            let columns = row.makeRandomAccess()
            found.append(
                TrackedAssignment(
                    assignmentID: try columns[0].decode(UUID.self), proposalID: try columns[1].decode(UUID.self),
                    caseNumber: try columns[2].decode(String.self), unitID: try columns[3].decode(UUID.self),
                    unitName: try columns[4].decode(String.self), role: try columns[5].decode(String.self), round: try columns[6].decode(Int.self),
                    isKey: try columns[7].decode(Bool.self), supervisingLeader: try columns[8].decode(String?.self),
                    assignedOn: try columns[9].decode(LocalDate.self), deadline: try columns[10].decode(LocalDate.self),
                    state: try columns[11].decode(String.self), escalationLevel: try columns[12].decode(String?.self),
                    timers: nil, meetings: nil, replies: nil, coUnitOpinions: nil, progressNotes: nil, extensionRequests: nil))
        }
        return found
    }

    /// One assignment of the transaction's district with its records; nil for an unknown id, or,
    /// with `unit`, for an assignment of another unit.
    static func detail(of id: UUID, unit: UUID?, in transaction: Transaction) async throws -> TrackedAssignment? {
        guard
            var assignment = try await assignments(where: "assignment_id = \(id) AND (\(unit)::uuid IS NULL OR unit_id = \(unit))", in: transaction)
                .first
        else { return nil }
        var timers: [TimerView] = []
        for try await (kind, step, day, dueAt, firedAt, cancelledAt, outcome) in try await transaction.query(
            """
            SELECT kind, step, day, due_at, fired_at, cancelled_at, outcome FROM supervision_timers
            WHERE assignment_id = \(id) ORDER BY due_at, id
            """
        ).decode((String, Int, LocalDate, Date, Date?, Date?, String?).self) {
            timers.append(TimerView(kind: kind, step: step, day: day, dueAt: dueAt, firedAt: firedAt, cancelledAt: cancelledAt, outcome: outcome))
        }
        assignment.timers = timers
        for try await (title, district) in try await transaction.query(
            """
            SELECT p.title, d.name FROM proposals p JOIN districts d ON d.code = p.district WHERE p.id = \(assignment.proposalID)
            """
        ).decode((String, String).self) {
            assignment.proposalTitle = title
            assignment.districtName = district
        }
        var meetings: [MeetingView] = []
        for try await (stage, heldOn, form, attendees, summary) in try await transaction.query(
            """
            SELECT stage, held_on, form, attendees, summary FROM handling_meetings
            WHERE assignment_id = \(id) ORDER BY held_on, recorded_at
            """
        ).decode((String, LocalDate, String, String, String).self) {
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
            WHERE a.proposal_id = \(assignment.proposalID) AND a.round = \(assignment.round)
              AND (\(assignment.role) = 'lead' OR \(unit)::uuid IS NULL OR o.assignment_id = \(id))
            ORDER BY o.given_at
            """
        ).decode((UUID, String, String, Date).self) {
            opinions.append(OpinionView(assignmentID: assignmentID, unitName: unitName, text: text, givenAt: givenAt))
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
            SELECT id, text, category, reviewed_category, promised_date, on_time, replied_at FROM replies
            WHERE assignment_id = \(id) ORDER BY replied_at
            """
        ).decode((UUID, String, String, String?, LocalDate?, Bool, Date).self) {
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
            SELECT e.id, e.assignment_id, a.case_number, a.unit_name, e.current_deadline,
                   e.requested_deadline, e.reason, e.requested_at, e.decision, e.decided_at, e.decision_note
            FROM extension_requests e JOIN supervised_assignments a ON a.assignment_id = e.assignment_id
            WHERE (\(assignment)::uuid IS NULL OR e.assignment_id = \(assignment))
              AND (\(state) = 'all' OR (\(state) = 'pending' AND e.decision IS NULL) OR e.decision = \(state))
            ORDER BY e.requested_at, e.id LIMIT 500
            """
        ).decode((UUID, UUID, String, String, LocalDate, LocalDate, String, Date, String?, Date?, String?).self) {
            found.append(
                ExtensionRequestView(
                    id: row.0, assignmentID: row.1, caseNumber: row.2, unitName: row.3, currentDeadline: row.4, requestedDeadline: row.5,
                    reason: row.6, requestedAt: row.7, decision: row.8, decidedAt: row.9, decisionNote: row.10))
        }
        return found
    }
}
