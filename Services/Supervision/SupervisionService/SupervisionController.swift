import Foundation
import Hummingbird
import Models
import ServiceKit
import Storage

struct TrackedAssignment: Codable, Sendable {
    var assignmentID: UUID
    var proposalID: UUID
    var caseNumber: String
    var unitID: UUID
    var unitName: String
    var role: String
    var round: Int
    var isKey: Bool
    var supervisingLeader: String?
    var assignedOn: LocalDate
    var deadline: LocalDate
    var state: String
    var escalationLevel: String?
    var timers: [TimerView]?
    var meetings: [MeetingView]?
    var replies: [ReplyView]?
    /// The co-units' opinions on the same proposal and round (what the lead unit's reply must
    /// take in), and this assignment's progress notes and extension requests.
    var coUnitOpinions: [OpinionView]?
    var progressNotes: [NoteView]?
    var extensionRequests: [ExtensionRequestView]?
    /// The proposer's evaluation link of the proposal (the committee's view only).
    var evaluationLink: EvaluationRepository.LinkStatus?
    /// For the printed documents: the proposal's title and the district's name.
    var proposalTitle: String?
    var districtName: String?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", caseNumber, unitID = "unitId", unitName, role, round, isKey, supervisingLeader,
            assignedOn, deadline, state, escalationLevel, timers, meetings, replies, coUnitOpinions, progressNotes, extensionRequests, evaluationLink,
            proposalTitle, districtName
    }
}

struct OpinionView: Codable, Sendable {
    var assignmentID: UUID
    var unitName: String
    var text: String
    var givenAt: Date

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", unitName, text, givenAt
    }
}

struct NoteView: Codable, Sendable {
    var text: String
    var notedAt: Date
}

struct ExtensionRequestView: Codable, Sendable {
    var id: UUID
    var assignmentID: UUID
    var caseNumber: String
    var unitName: String
    var currentDeadline: LocalDate
    var requestedDeadline: LocalDate
    var reason: String
    var requestedAt: Date
    var decision: String?
    var decidedAt: Date?
    var decisionNote: String?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, assignmentID = "assignmentId", caseNumber, unitName, currentDeadline, requestedDeadline, reason, requestedAt, decision, decidedAt,
            decisionNote
    }
}

struct MeetingView: Codable, Sendable {
    var stage: String
    var heldOn: LocalDate
    var form: String
    var attendees: String
    var summary: String
}

struct ReplyView: Codable, Sendable {
    var id: UUID
    var text: String
    var category: String
    /// The committee's category on review, where it changed it.
    var reviewedCategory: String?
    var promisedDate: LocalDate?
    var onTime: Bool
    var repliedAt: Date
    var attachments: [AttachmentMetadata]
}

struct TimerView: Codable, Sendable {
    var kind: String
    var step: Int
    var day: LocalDate
    var dueAt: Date
    var firedAt: Date?
    var cancelledAt: Date?
    var outcome: String?
}

/// The supervision API (`/v1/supervision`): what is being handled, what is overdue, each
/// assignment's timers, and the district's supervision settings. Another district's ids are 404.
struct SupervisionController: Sendable {
    /// `?state=` of the follow-up reviews: waiting for a result, or recorded.
    enum FollowUpState: String, CaseIterable { case open, recorded }
    /// `?state=` of the extension requests.
    enum ExtensionRequestFilter: String, CaseIterable { case pending, granted, refused, all }

    let database: Database
    let clock: ServiceClock
    let signer: StaffTokenSigner

    static let committee: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]

    func register(on router: Router<AppRequestContext>) {
        let staff = router.group("/v1/supervision").add(middleware: StaffAuthenticator(signer: signer, roles: Self.committee))
        staff.get("/assignments", use: list)
        staff.get("/assignments/:id", use: open)
        staff.get("/settings", use: currentSettings)
        staff.put("/settings", use: saveSettings)
        staff.get("/extensions", use: extensions)
        staff.post("/extensions/:id/decision", use: decideExtension)
        staff.post("/replies/:id/category", use: recategorise)
        staff.get("/replies/:id/attachments/:position", use: attachment)
        staff.post("/assignments/:id/evaluation", use: evaluateForProposer)
        staff.post("/proposals/:id/evaluation-link", use: evaluationLink)
        staff.post("/proposals/:id/closing", use: close)
        staff.get("/evaluation", use: evaluation)
        staff.get("/quotas", use: quotas)
        staff.post("/quotas/reminders", use: remindQuotas)
        staff.post("/proposals/:id/actions", use: recordAction)
        staff.get("/proposals/:id/actions", use: listActions)
        staff.get("/follow-ups", use: followUps)
        staff.post("/follow-ups/:id/result", use: recordFollowUp)

        // Performance records: the committee's office and leaders read everyone's, a member or studio its own.
        router.group("/v1/supervision/members")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.committee.union([.clueHandler, .specialCommittee, .supervisingLeader])))
            .get(use: memberRecords)
            .get(":code", use: memberRecord)
        router.group("/v1/supervision/my/record").add(middleware: StaffAuthenticator(signer: signer, roles: [.member, .memberStudio]))
            .get(use: myRecord)
        // The municipal committee's view of its member districts.
        router.group("/v1/supervision/municipal")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.committee.union([.supervisingLeader])))
            .get(use: municipalOverview)
            .get("/districts/:code/proposals", use: municipalProposals)
            .get("/proposals/:id", use: municipalProposal)

        // The proposer's own link: the token is the credential.
        router.get("/v1/supervision/evaluations/:token", use: evaluationForm)
        router.post("/v1/supervision/evaluations/:token", use: evaluateByLink)

        // A supervising leader's key proposals, by the name the proposals give the leader.
        router.group("/v1/supervision/led").add(middleware: StaffAuthenticator(signer: signer, roles: [.supervisingLeader]))
            .get(use: led)

        // Reply templates: the committee keeps the district's, a unit its own.
        let templates = router.group("/v1/supervision/reply-templates")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.committee.union([.handlingUnit])))
        templates.get(use: listTemplates)
        templates.post(use: createTemplate)
        templates.put(":id", use: saveTemplate)
        templates.delete(":id", use: deleteTemplate)

        let unit = router.group("/v1/supervision/my").add(middleware: StaffAuthenticator(signer: signer, roles: [.handlingUnit]))
        unit.get("/assignments/:id/reply-draft", use: replyDraft)
        unit.get("/assignments", use: myAssignments)
        unit.get("/assignments/:id", use: myAssignment)
        unit.post("/assignments/:id/meetings", use: meeting)
        unit.post("/assignments/:id/progress", use: progress)
        unit.post("/assignments/:id/opinion", use: opinion)
        unit.post("/assignments/:id/extension", use: requestExtension)
        unit.post("/assignments/:id/reply", use: reply)
        unit.get("/replies/:id/attachments/:position", use: attachment)
        unit.get("/follow-ups", use: followUps)
        unit.post("/follow-ups/:id/result", use: recordFollowUp)
    }

    var followUpReviews: FollowUpReviewRepository { FollowUpReviewRepository(database: database, clock: clock) }
    var replyTemplates: ReplyTemplateRepository { ReplyTemplateRepository(database: database, clock: clock) }

    @Sendable func listTemplates(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(["templates": try await replyTemplates.list(for: try context.staffClaims())])
    }

    @Sendable func createTemplate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: ReplyTemplateInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await replyTemplates.save(nil, input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func saveTemplate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: ReplyTemplateInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await replyTemplates.save(try context.uuid(), input, by: try context.staffClaims()))
    }

    @Sendable func deleteTemplate(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await replyTemplates.delete(try context.uuid(), by: try context.staffClaims())
        return Response(status: .noContent)
    }

    /// `?template=ID`: the reply text to start from, the template filled with this assignment's case.
    @Sendable func replyDraft(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let template = try QueryParameters.uuid(request.queryValues, "template") else {
            throw APIError.invalid("template", "template is required (a template's id)")
        }
        let text = try await replyTemplates.draft(template, for: try context.uuid(), by: try context.staffClaims())
        return try jsonResponse(["text": text])
    }

    /// `?state=open` (waiting for a result), `recorded`, or both when absent; a unit sees its own.
    @Sendable func followUps(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let open = try QueryParameters.choice(request.queryValues, "state", FollowUpState.self).map { $0 == .open }
        let unit = claims.role == .handlingUnit ? try HandlingRepository.unit(of: claims) : nil
        return try jsonResponse(["followUps": try await followUpReviews.list(of: claims.district, unit: unit, open: open)])
    }

    @Sendable func recordFollowUp(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: FollowUpResultInput.self, context: context, limit: Self.bodyLimit)
        let unit = claims.role == .handlingUnit ? try HandlingRepository.unit(of: claims) : nil
        return try jsonResponse(try await followUpReviews.record(try context.uuid(), input, unit: unit, by: claims))
    }

    var handling: HandlingRepository { HandlingRepository(database: database, clock: clock) }
    var evaluations: EvaluationRepository { EvaluationRepository(database: database, clock: clock, signer: signer) }

    @Sendable func evaluateForProposer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: EvaluationInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(
            try await evaluations.evaluate(assignment: try context.uuid(), input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func evaluationLink(_ request: Request, context: AppRequestContext) async throws -> Response {
        let proposal = try context.uuid()
        return try jsonResponse(try await evaluations.link(for: proposal, by: try context.staffClaims()), status: .created)
    }

    @Sendable func evaluationForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let token = context.parameters.get("token"), (20...100).contains(token.count) else { throw APIError.notFound }
        return try jsonResponse(try await evaluations.form(token: token))
    }

    @Sendable func evaluateByLink(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let token = context.parameters.get("token"), (20...100).contains(token.count) else { throw APIError.notFound }
        let input = try await request.decodeJSON(as: EvaluationInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await evaluations.evaluate(token: token, input), status: .created)
    }

    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: ClosingInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await evaluations.close(try context.uuid(), input, by: try context.staffClaims()))
    }
    static let bodyLimit = 64 * 1024

    @Sendable func myAssignments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let unit = try HandlingRepository.unit(of: claims)
        let found = try await database.transaction(.district(claims.district)) { transaction in
            try await SupervisedAssignmentRepository.list(of: unit, in: transaction)
        }
        return try jsonResponse(["assignments": found])
    }

    @Sendable func meeting(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: MeetingInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await handling.meeting(try context.uuid(), input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func progress(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: TextInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await handling.progress(try context.uuid(), input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func opinion(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: TextInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await handling.opinion(try context.uuid(), input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func requestExtension(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: ExtensionInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await handling.requestExtension(try context.uuid(), input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func attachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let position = context.parameters.get("position").flatMap(Int.init), position >= 0 else { throw APIError.notFound }
        let (metadata, content) = try await handling.attachment(of: try context.uuid(), at: position, for: try context.staffClaims())
        return Attachments.download(metadata, content: content)
    }

    @Sendable func reply(_ request: Request, context: AppRequestContext) async throws -> Response {
        // Up to five attachments of 5 MiB each, base64 in the body.
        let input = try await request.decodeJSON(as: ReplyInput.self, context: context, limit: 36 * 1024 * 1024)
        return try jsonResponse(try await handling.reply(try context.uuid(), input, by: try context.staffClaims()), status: .created)
    }

    @Sendable func recategorise(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: RecategorisationInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await handling.recategorise(try context.uuid(), input, by: try context.staffClaims()))
    }

    @Sendable func decideExtension(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: ExtensionDecisionInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await handling.decideExtension(try context.uuid(), input, by: try context.staffClaims()))
    }

    /// `?state=handling` (default), `replied`, `closed`, `superseded`; `overdue=true` for those past their deadline.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let state = try QueryParameters.choice(query, "state", SupervisedAssignmentState.self) ?? .handling
        let overdue = try QueryParameters.flag(query, "overdue")
        let now = clock.now
        let found = try await database.transaction(.district(claims.district)) { transaction in
            // Overdue by the district's own calendar day.
            let today = LocalDate.on(now, in: try await TimerRepository.settings(of: claims.district, in: transaction).zone)
            return try await SupervisedAssignmentRepository.list(in: state, dueBefore: overdue ? today : nil, in: transaction)
        }
        return try jsonResponse(["assignments": found])
    }

    /// The parts of the key proposals this leader leads, not superseded, the furthest escalated first.
    @Sendable func led(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let name = claims.name, !name.isEmpty else { throw APIError.forbidden("the token names no leader") }
        let found = try await database.transaction(.district(claims.district)) { transaction in
            try await SupervisedAssignmentRepository.list(ledBy: name, in: transaction)
        }
        return try jsonResponse(["assignments": found])
    }

    @Sendable func open(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let found = try await database.transaction(.district(claims.district)) { transaction -> TrackedAssignment? in
            guard var record = try await SupervisedAssignmentRepository.detail(of: id, unit: nil, in: transaction) else { return nil }
            record.evaluationLink = try await EvaluationRepository.status(of: record.proposalID, in: transaction)
            return record
        }
        guard let found else { throw APIError.notFound }
        return try jsonResponse(found)
    }

    /// A handling unit's own assignment with its records; the lead unit sees its co-units' opinions.
    @Sendable func myAssignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let unit = try HandlingRepository.unit(of: claims)
        let id = try context.uuid()
        let found = try await database.transaction(.district(claims.district)) { transaction in
            try await SupervisedAssignmentRepository.detail(of: id, unit: unit, in: transaction)
        }
        guard let found else { throw APIError.notFound }
        return try jsonResponse(found)
    }

    /// Extension requests of the district, waiting ones by default, oldest first.
    @Sendable func extensions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let state = try QueryParameters.choice(request.queryValues, "state", ExtensionRequestFilter.self) ?? .pending
        let found = try await database.transaction(.district(claims.district)) { transaction in
            try await SupervisedAssignmentRepository.extensionRequests(state: state.rawValue, in: transaction)
        }
        return try jsonResponse(["extensionRequests": found])
    }

    @Sendable func currentSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let settings = try await database.transaction(.district(claims.district)) { try await TimerRepository.settings(of: claims.district, in: $0) }
        return try jsonResponse(settings)
    }

    /// New settings apply to timers planned from now on; those planned already keep their days.
    @Sendable func saveSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let settings = try await request.decodeJSON(as: SupervisionSettings.self, context: context, limit: 64 * 1024)
        if let problem = settings.problems.first { throw APIError.invalid(problem.field, problem.message) }
        try await database.transaction(.district(claims.district)) {
            try await TimerRepository.storedSettings.save(settings, for: claims.district, in: $0)
        }
        return try jsonResponse(settings)
    }
}
