import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

struct MeetingInput: Decodable, Sendable {
    var stage: String?
    var heldOn: LocalDate?
    var form: String?
    var attendees: String?
    var summary: String?
}

struct TextInput: Decodable, Sendable {
    var text: String?
}

struct ExtensionInput: Decodable, Sendable {
    var deadline: LocalDate?
    var reason: String?
}

struct ReplyInput: Decodable, Sendable {
    var text: String?
    var category: String?
    var promisedDate: LocalDate?
    var attachments: [AttachmentInput]?
}

struct RecategorisationInput: Decodable, Sendable {
    var category: String?
    var note: String?
}

struct ExtensionDecisionInput: Decodable, Sendable {
    var decision: String?
    var note: String?
}

struct RecordedStep: Codable, Sendable {
    var id: UUID
    var assignmentID: UUID
    var kind: String
    var at: Date
    var attachments: [AttachmentMetadata]?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, assignmentID = "assignmentId", kind, at, attachments
    }
}

/// A supervised assignment as its steps need it.
struct HandledAssignment: Sendable {
    var id: UUID
    var proposal: UUID
    var unit: UUID
    var unitName: String
    var role: Assignment.Role
    var round: Int
    var state: SupervisedAssignmentState
    var deadline: LocalDate
    var opinionDue: LocalDate?
    var opinionGiven: Bool
}

/// What a handling unit records of its own assignment (unit tokens; another unit's assignment
/// is 404): the three meetings, a co-unit's opinion, progress, an extension request, the reply;
/// and the committee's decisions on extensions. Each step checks `HandlingRules` first.
struct HandlingRepository: Sendable {
    let database: Database
    let clock: ServiceClock

    static func unit(of claims: StaffClaims) throws -> UUID {
        guard claims.role == .handlingUnit, let unit = claims.unitID else { throw APIError.forbidden("a handling unit's token is required") }
        return unit
    }

    /// The assignment; with `forUpdate`, locked after its proposal's row (the one lock order of
    /// `ProposalStatuses`, which the timer pass keeps too).
    static func load(_ id: UUID, unit: UUID?, forUpdate: Bool, in transaction: Transaction) async throws -> HandledAssignment? {
        if forUpdate {
            for try await proposal in try await transaction.query(
                "SELECT proposal_id FROM supervised_assignments WHERE assignment_id = \(id)"
            ).decode(UUID.self) {
                try await ProposalStatuses.lock(proposal, in: transaction)
            }
        }
        var query: PostgresQuery = """
            SELECT assignment_id, proposal_id, unit_id, unit_name, role, round, state, deadline,
                   opinion_due, opinion_given_at IS NOT NULL
            FROM supervised_assignments WHERE assignment_id = \(id) AND (\(unit)::uuid IS NULL OR unit_id = \(unit))
            """
        if forUpdate { query.sql += " FOR UPDATE" }
        for try await (id, proposal, unit, name, role, round, state, deadline, opinionDue, opinionGiven)
            in try await transaction.query(query).decode((UUID, UUID, UUID, String, String, Int, String, LocalDate, LocalDate?, Bool).self)
        {
            guard let state = SupervisedAssignmentState(rawValue: state) else { continue }
            return HandledAssignment(
                id: id, proposal: proposal, unit: unit, unitName: name, role: Assignment.Role(rawValue: role) ?? .lead, round: round,
                state: state, deadline: deadline, opinionDue: opinionDue, opinionGiven: opinionGiven)
        }
        return nil
    }

    /// The unit's own assignment, locked, in the unit's district (with the district's settings and
    /// its today); 404 for anyone else's.
    private func own<Result: Sendable>(
        _ id: UUID, _ claims: StaffClaims, _ body: (HandledAssignment, LocalDate, SupervisionSettings, Transaction) async throws -> Result
    ) async throws -> Result {
        let unit = try Self.unit(of: claims)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            guard let assignment = try await Self.load(id, unit: unit, forUpdate: true, in: transaction) else { throw APIError.notFound }
            let settings = try await TimerRepository.settings(of: claims.district, in: transaction)
            let result = try await body(assignment, LocalDate.on(now, in: settings.zone), settings, transaction)
            if let step = result as? RecordedStep {
                try await AuditTrail.record(
                    step.kind, "assignment", id.uuidString.lowercased(), after: AuditTrail.json(step),
                    district: claims.district, at: now, in: transaction)
            }
            return result
        }
    }

    /// The proposal is replied (答复) once every part it waits for is answered: its lead units'
    /// replies, and the opinions of co-units the proposer sent back.
    static func markRepliedIfAnswered(_ proposal: UUID, by actor: String, at now: Date, in transaction: Transaction) async throws {
        var answered = false
        for try await all in try await transaction.query(
            """
            SELECT coalesce(bool_and(state = \(SupervisedAssignmentState.replied.rawValue)), false) FROM supervised_assignments
            WHERE proposal_id = \(proposal) AND state <> \(SupervisedAssignmentState.superseded.rawValue)
              AND (role = 'lead' OR satisfaction = 'dissatisfied')
            """
        ).decode(Bool.self) { answered = all }
        guard answered else { return }
        try await ProposalStatuses.move(proposal, by: actor, at: now, in: transaction) { status in
            status == .assigned || status == .rehandling ? .reply : nil
        }
    }

    /// A reply's attachments: office documents and pictures, up to 5 of 5 MiB each.
    static let replyAttachments = AttachmentLimits(mediaTypes: AttachmentLimits.officeDocuments, maximumBytes: 5 * 1024 * 1024, maximumCount: 5)

    static func refused(_ error: RuleRefusal) -> APIError {
        error.field.map { APIError.invalid($0, error.reason) } ?? APIError(.conflict, code: "refused", message: error.reason)
    }

    func meeting(_ id: UUID, _ input: MeetingInput, by claims: StaffClaims) async throws -> RecordedStep {
        let stages = ["before", "during", "after"]
        guard let stage = input.stage else { throw APIError.invalid("stage", "is required (before, during or after handling)") }
        guard stages.contains(stage) else { throw APIError.invalid("stage", "must be one of \(stages.joined(separator: ", "))") }
        guard let heldOn = input.heldOn else { throw APIError.invalid("heldOn", "is required (YYYY-MM-DD)") }
        let form = try FieldText.required(input.form, "form", limit: 50, multiline: false)
        let attendees = try FieldText.required(input.attendees, "attendees", limit: 500, multiline: true)
        let summary = try FieldText.required(input.summary, "summary", limit: 5_000, multiline: true)
        let now = clock.now
        return try await own(id, claims) { assignment, today, settings, transaction in
            guard assignment.state != .superseded else {
                throw APIError(.conflict, code: "refused", message: "the assignment was replaced by a reassignment")
            }
            guard heldOn <= today else { throw APIError.invalid("heldOn", "\(heldOn) is after today (\(today)); record a meeting once held") }
            let meeting = UUID()
            try await transaction.execute(
                """
                INSERT INTO handling_meetings (id, district, assignment_id, stage, held_on, form, attendees, summary, recorded_at, recorded_by)
                VALUES (\(meeting), \(claims.district.rawValue), \(id), \(stage), \(heldOn), \(form), \(attendees),
                        \(summary), \(now), \(claims.subject))
                """)
            return RecordedStep(id: meeting, assignmentID: id, kind: "meeting-" + stage, at: now)
        }
    }

    func progress(_ id: UUID, _ input: TextInput, by claims: StaffClaims) async throws -> RecordedStep {
        let text = try FieldText.required(input.text, "text", limit: 5_000, multiline: true)
        let now = clock.now
        return try await own(id, claims) { assignment, _, _, transaction in
            guard assignment.state == .handling else {
                throw APIError(.conflict, code: "refused", message: "the assignment is \(assignment.state.rawValue)")
            }
            let note = UUID()
            try await transaction.execute(
                """
                INSERT INTO progress_notes (id, district, assignment_id, text, noted_at, noted_by)
                VALUES (\(note), \(claims.district.rawValue), \(id), \(text), \(now), \(claims.subject))
                """)
            return RecordedStep(id: note, assignmentID: id, kind: "progress", at: now)
        }
    }

    /// A co-unit's opinion to the lead unit (会办意见), once.
    func opinion(_ id: UUID, _ input: TextInput, by claims: StaffClaims) async throws -> RecordedStep {
        let text = try FieldText.required(input.text, "text", limit: 10_000, multiline: true)
        let now = clock.now
        return try await own(id, claims) { assignment, today, settings, transaction in
            guard assignment.role == .coHandling else {
                throw APIError(.conflict, code: "refused", message: "the lead unit replies; opinions come from co-handling units")
            }
            guard assignment.state == .handling else {
                throw APIError(.conflict, code: "refused", message: "the assignment is \(assignment.state.rawValue)")
            }
            guard !assignment.opinionGiven else { throw APIError(.conflict, code: "refused", message: "the opinion was given already") }
            let opinion = UUID()
            try await transaction.execute(
                """
                INSERT INTO co_unit_opinions (id, district, assignment_id, proposal_id, text, given_at, given_by)
                VALUES (\(opinion), \(claims.district.rawValue), \(id), \(assignment.proposal), \(text), \(now), \(claims.subject))
                """)
            // The opinion is the co-unit's answer: its part is done (and its reminders with it) until
            // the proposer's evaluation, if dissatisfied, sends it back.
            try await transaction.execute(
                """
                UPDATE supervised_assignments SET opinion_given_at = \(now), state = \(SupervisedAssignmentState.replied.rawValue),
                       replied_at = \(now), updated_at = \(now)
                WHERE assignment_id = \(id)
                """)
            // A co-unit the proposer sent back is part of what the proposal waits for.
            try await Self.markRepliedIfAnswered(assignment.proposal, by: claims.subject, at: now, in: transaction)
            try await TimerRepository.cancelDeadlineTimers(of: id, at: now, in: transaction)
            let onTime = assignment.opinionDue.map { today <= $0 } ?? true
            try await Outbox.append(
                [
                    try Outbox.Row(
                        CoUnitOpinionGiven(assignmentID: id, proposalID: assignment.proposal, unitID: assignment.unit, onTime: onTime),
                        district: claims.district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: assignment.proposal.uuidString)
                ], in: transaction)
            return RecordedStep(id: opinion, assignmentID: id, kind: "opinion", at: now)
        }
    }

    func requestExtension(_ id: UUID, _ input: ExtensionInput, by claims: StaffClaims) async throws -> RecordedStep {
        guard let requested = input.deadline else { throw APIError.invalid("deadline", "is required: the deadline asked for (YYYY-MM-DD)") }
        let reason = try FieldText.required(input.reason, "reason", limit: 2_000, multiline: true)
        let now = clock.now
        return try await own(id, claims) { assignment, today, settings, transaction in
            var open = false
            for try await _ in try await transaction.query("SELECT 1 FROM extension_requests WHERE assignment_id = \(id) AND decision IS NULL") {
                open = true
            }
            do throws(RuleRefusal) {
                try HandlingRules.checkExtension(
                    state: assignment.state, deadline: assignment.deadline, requested: requested,
                    hasOpenRequest: open, today: today)
            } catch {
                throw Self.refused(error)
            }
            let request = UUID()
            try await transaction.execute(
                """
                INSERT INTO extension_requests (id, district, assignment_id, current_deadline, requested_deadline, reason, requested_at, requested_by)
                VALUES (\(request), \(claims.district.rawValue), \(id), \(assignment.deadline),
                        \(requested), \(reason), \(now), \(claims.subject))
                """)
            try await Outbox.append(
                [
                    try Outbox.Row(
                        ExtensionRequested(
                            requestID: request, assignmentID: id, proposalID: assignment.proposal, unitID: assignment.unit,
                            deadline: assignment.deadline, requested: requested),
                        district: claims.district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: assignment.proposal.uuidString)
                ], in: transaction)
            return RecordedStep(id: request, assignmentID: id, kind: "extension-request", at: now)
        }
    }

    /// The lead unit's reply (答复): A, B with a promised date (a follow-up review is planned
    /// for it), or C. Ends the deadline's reminders and escalation.
    func reply(_ id: UUID, _ input: ReplyInput, by claims: StaffClaims) async throws -> RecordedStep {
        let text = try FieldText.required(input.text, "text", limit: 20_000, multiline: true)
        guard let categoryText = input.category else { throw APIError.invalid("category", "is required: A, B or C") }
        guard let category = ReplyCategory(rawValue: categoryText) else { throw APIError.invalid("category", "must be A, B or C") }
        let files = try Attachments.validate(input.attachments, limits: Self.replyAttachments)
        let now = clock.now
        return try await own(id, claims) { assignment, today, settings, transaction in
            var coUnits: [HandlingRules.CoUnitOpinion] = []
            for try await (name, given, due) in try await transaction.query(
                """
                SELECT unit_name, opinion_given_at IS NOT NULL, opinion_due FROM supervised_assignments
                WHERE proposal_id = \(assignment.proposal) AND round = \(assignment.round) AND role = 'co-handling' AND state <> \(SupervisedAssignmentState.superseded.rawValue)
                """
            ).decode((String, Bool, LocalDate?).self) {
                coUnits.append(HandlingRules.CoUnitOpinion(unitName: name, given: given, due: due ?? assignment.deadline))
            }
            do throws(RuleRefusal) {
                try HandlingRules.checkReply(
                    role: assignment.role, state: assignment.state, coUnits: coUnits, category: category,
                    promised: input.promisedDate, today: today)
            } catch {
                throw Self.refused(error)
            }
            let reply = UUID()
            let onTime = today <= assignment.deadline
            try await transaction.execute(
                """
                INSERT INTO replies (id, district, assignment_id, proposal_id, text, category, promised_date, on_time, replied_at, replied_by)
                VALUES (\(reply), \(claims.district.rawValue), \(id), \(assignment.proposal), \(text), \(category.rawValue),
                        \(input.promisedDate)::date, \(onTime), \(now), \(claims.subject))
                """)
            for (position, file) in files.enumerated() {
                try await transaction.execute(
                    """
                    INSERT INTO reply_attachments (id, district, reply_id, position, name, media_type, size_bytes, sha256, content)
                    VALUES (\(UUID()), \(claims.district.rawValue), \(reply), \(position), \(file.metadata.name), \(file.metadata.mediaType),
                            \(file.metadata.size), decode(\(file.metadata.sha256), 'hex'), \(file.content))
                    """)
            }
            try await transaction.execute(
                """
                UPDATE supervised_assignments SET state = \(SupervisedAssignmentState.replied.rawValue), replied_at = \(now), updated_at = \(now)
                WHERE assignment_id = \(id)
                """)
            try await Self.markRepliedIfAnswered(assignment.proposal, by: claims.subject, at: now, in: transaction)
            try await TimerRepository.cancelDeadlineTimers(of: id, at: now, in: transaction)
            var timers = [SupervisionSchedule.evaluationWindowEnd(replied: today, settings: settings)]
            if let promised = input.promisedDate { timers.append(SupervisionSchedule.followUp(promised: promised, settings: settings)) }
            try await TimerRepository.insert(timers, assignment: id, proposal: assignment.proposal, district: claims.district, in: transaction)
            try await Outbox.append(
                [
                    try Outbox.Row(
                        AssignmentReplied(
                            replyID: reply, assignmentID: id, proposalID: assignment.proposal, unitID: assignment.unit,
                            category: category, promisedDate: input.promisedDate, onTime: onTime),
                        district: claims.district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: assignment.proposal.uuidString)
                ], in: transaction)
            return RecordedStep(id: reply, assignmentID: id, kind: "reply", at: now, attachments: files.map(\.metadata))
        }
    }

    /// The committee grants (the deadline moves, the timers are planned anew) or refuses.
    func decideExtension(_ requestID: UUID, _ input: ExtensionDecisionInput, by claims: StaffClaims) async throws -> RecordedStep {
        guard let decision = input.decision, ["granted", "refused"].contains(decision) else {
            throw APIError.invalid("decision", "must be granted or refused")
        }
        let note = try FieldText.optional(input.note, "note", limit: 2_000, multiline: true)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            var found: (UUID, LocalDate, String?)?
            for try await row in try await transaction.query(
                """
                SELECT assignment_id, requested_deadline, decision FROM extension_requests WHERE id = \(requestID) FOR UPDATE
                """
            ).decode((UUID, LocalDate, String?).self) { found = row }
            guard let (assignmentID, requested, previous) = found else { throw APIError.notFound }
            guard previous == nil else { throw APIError(.conflict, code: "refused", message: "the request was \(previous!) already") }
            guard let assignment = try await Self.load(assignmentID, unit: nil, forUpdate: true, in: transaction) else { throw APIError.notFound }
            try await transaction.execute(
                """
                UPDATE extension_requests SET decision = \(decision), decided_at = \(now), decided_by = \(claims.subject), decision_note = \(note)
                WHERE id = \(requestID)
                """)
            let granted = decision == "granted" && assignment.state == .handling
            if granted {
                let settings = try await TimerRepository.settings(of: claims.district, in: transaction)
                try await transaction.execute(
                    """
                    UPDATE supervised_assignments SET deadline = \(requested), extensions = extensions + 1,
                           escalation_level = NULL, updated_at = \(now)
                    WHERE assignment_id = \(assignmentID)
                    """)
                try await TimerRepository.cancelDeadlineTimers(of: assignmentID, at: now, in: transaction)
                try await TimerRepository.plan(
                    assignment: assignmentID, proposal: assignment.proposal, deadline: requested,
                    today: LocalDate.on(now, in: settings.zone), settings: settings, district: claims.district, in: transaction)
            }
            try await Outbox.append(
                [
                    try Outbox.Row(
                        ExtensionDecided(
                            requestID: requestID, assignmentID: assignmentID, proposalID: assignment.proposal, unitID: assignment.unit,
                            granted: granted, deadline: granted ? requested : assignment.deadline),
                        district: claims.district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: assignment.proposal.uuidString)
                ], in: transaction)
            let step = RecordedStep(id: requestID, assignmentID: assignmentID, kind: "extension-" + (granted ? "granted" : "refused"), at: now)
            try await AuditTrail.record(
                step.kind, "assignment", assignmentID.uuidString.lowercased(),
                after: AuditTrail.json(["note": note ?? "", "deadline": requested.description]),
                district: claims.district, at: now, in: transaction)
            return step
        }
    }

    /// The committee's category for a reply on review; the unit's own stays on record.
    func recategorise(_ replyID: UUID, _ input: RecategorisationInput, by claims: StaffClaims) async throws -> RecordedStep {
        guard let text = input.category, let category = ReplyCategory(rawValue: text) else {
            throw APIError.invalid("category", "must be A, B or C")
        }
        let note = try FieldText.required(input.note, "note", limit: 2_000, multiline: true)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            var found: (UUID, UUID, String, String?)?
            for try await row in try await transaction.query(
                """
                SELECT assignment_id, proposal_id, category, reviewed_category FROM replies WHERE id = \(replyID) FOR UPDATE
                """
            ).decode((UUID, UUID, String, String?).self) { found = row }
            guard let (assignment, proposal, original, reviewed) = found, let current = ReplyCategory(rawValue: reviewed ?? original) else {
                throw APIError.notFound
            }
            guard current != category else { throw APIError(.conflict, code: "refused", message: "the reply is \(category.rawValue) already") }
            try await transaction.execute(
                """
                UPDATE replies SET reviewed_category = \(category.rawValue), reviewed_at = \(now), reviewed_by = \(claims.subject), review_note = \(note)
                WHERE id = \(replyID)
                """)
            try await Outbox.append(
                [
                    try Outbox.Row(
                        ReplyRecategorised(replyID: replyID, assignmentID: assignment, proposalID: proposal, from: current, to: category),
                        district: claims.district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: proposal.uuidString)
                ], in: transaction)
            try await AuditTrail.record(
                "reply-recategorised", "reply", replyID.uuidString.lowercased(),
                before: AuditTrail.json(["category": current.rawValue]),
                after: AuditTrail.json(["category": category.rawValue, "note": note]),
                district: claims.district, at: now, in: transaction)
            return RecordedStep(id: replyID, assignmentID: assignment, kind: "recategorised-" + category.rawValue, at: now)
        }
    }

    /// A reply's attachment, for the committee or the unit that replied.
    func attachment(of replyID: UUID, at position: Int, for claims: StaffClaims) async throws -> (AttachmentMetadata, Data) {
        try await database.transaction(.district(claims.district)) { transaction in
            for try await (name, mediaType, size, sha256, content, unit) in try await transaction.query(
                """
                SELECT f.name, f.media_type, f.size_bytes, encode(f.sha256, 'hex'), f.content, a.unit_id
                FROM reply_attachments f JOIN replies r ON r.id = f.reply_id JOIN supervised_assignments a ON a.assignment_id = r.assignment_id
                WHERE f.reply_id = \(replyID) AND f.position = \(position)
                """
            ).decode((String, String, Int, String, Data, UUID).self) {
                if claims.role == .handlingUnit && claims.unitID != unit { break }
                return (AttachmentMetadata(name: name, mediaType: mediaType, size: size, sha256: sha256), content)
            }
            throw APIError.notFound
        }
    }
}
