import Foundation
import Hummingbird
import Models
import ServiceKit
import Storage

/// The staff API of the review queue (`/v1/triage`): lists, one clue with its similar clues,
/// routing decisions for a clue or a group, merging and splitting groups, and the rules.
/// Staff tokens are scoped to one district; another district's ids answer 404.
struct TriageController: Sendable {
    let database: Database
    let registrar: ClueRegistrar
    let sequences: TrackingSequences
    let signer: StaffTokenSigner

    /// Who works the review queue: the clue-handling group (提案线索处理组), the proposals committee, administrators.
    static let reviewers: Set<StaffClaims.Role> = [.clueHandler, .proposalsCommittee, .administrator]
    static let ruleEditors: Set<StaffClaims.Role> = [.clueHandler, .administrator]

    var queue: ReviewQueueRepository { ReviewQueueRepository(database: database, groups: registrar.groups) }
    var decisions: TriageDecisionRepository { TriageDecisionRepository(database: database, registrar: registrar, sequences: sequences) }
    var rules: RuleSetRepository { RuleSetRepository(database: database, registrar: registrar) }

    func register(on router: Router<AppRequestContext>) {
        let triage = router.group("/v1/triage").add(middleware: StaffAuthenticator(signer: signer, roles: Self.reviewers))
        triage.get("/clues", use: listClues)
        triage.get("/clues/:id", use: openClue)
        triage.post("/clues/:id/decision", use: decideClue)
        triage.get("/groups", use: listGroups)
        triage.get("/groups/:id", use: openGroup)
        triage.post("/groups/:id/decision", use: decideGroup)
        triage.post("/groups/:id/merge", use: merge)
        triage.post("/groups/:id/split", use: split)
        triage.get("/rules", use: currentRules)
        triage.get("/rules/versions", use: ruleVersions)
        triage.get("/rules/versions/:version", use: ruleVersion)
        triage.post("/rules/classify", use: classify)
        router.group("/v1/triage/settings").add(middleware: StaffAuthenticator(signer: signer, roles: [.administrator, .proposalsCommittee]))
            .get(use: currentSettings)
            .put(use: saveSettings)
        router.group("/v1/triage/rules").add(middleware: StaffAuthenticator(signer: signer, roles: Self.ruleEditors))
            .put(use: saveRules)
    }

    @Sendable func listClues(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let filter = try QueueFilter(request.queryValues)
        return try jsonResponse(["clues": try await queue.clues(in: claims.district, matching: filter)])
    }

    @Sendable func openClue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let review = try await queue.review(try context.uuid(), in: claims.district) else { throw APIError.notFound }
        return try jsonResponse(review)
    }

    @Sendable func decideClue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: DecisionInput.self, context: context, limit: 64 * 1024)
        return try jsonResponse(try await decisions.route(.clue(id), input: input, by: claims))
    }

    @Sendable func listGroups(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let filter = try QueueFilter(query)
        var minimumVoices = 1
        if let text = query["minVoices"] {
            guard let value = Int(text), (1...1_000_000).contains(value) else { throw APIError.invalid("minVoices", "must be a positive number") }
            minimumVoices = value
        }
        return try jsonResponse(["groups": try await queue.groups(in: claims.district, matching: filter, minimumVoices: minimumVoices)])
    }

    struct GroupView: Encodable {
        var group: GroupSummary
        var clues: [QueuedClue]
    }

    @Sendable func openGroup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let (group, clues) = try await queue.group(try context.uuid(), in: claims.district) else { throw APIError.notFound }
        return try jsonResponse(GroupView(group: group, clues: clues))
    }

    @Sendable func decideGroup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: DecisionInput.self, context: context, limit: 64 * 1024)
        return try jsonResponse(try await decisions.route(.group(id), input: input, by: claims))
    }

    @Sendable func merge(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: MergeInput.self, context: context, limit: 64 * 1024)
        return try jsonResponse(try await decisions.merge(input, into: id, by: claims))
    }

    @Sendable func split(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: SplitInput.self, context: context, limit: 256 * 1024)
        return try jsonResponse(try await decisions.split(id, input: input, by: claims), status: .created)
    }

    @Sendable func currentRules(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let current = try await rules.current(of: try context.staffClaims().district) else { throw APIError.notFound }
        return try jsonResponse(current)
    }

    var districtSettings: TriageSettingsRepository { TriageSettingsRepository(database: database) }

    @Sendable func currentSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(try await districtSettings.current(of: try context.staffClaims().district))
    }

    @Sendable func saveSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: TriageSettingsInput.self, context: context, limit: 8_192)
        return try jsonResponse(try await districtSettings.save(input, of: claims.district))
    }

    /// One saved version with its definition (0: the built-in rules), to compare with another.
    @Sendable func ruleVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let version = context.parameters.get("version").flatMap(Int.init), version >= 0,
            let found = try await rules.current(of: try context.staffClaims().district, version: version)
        else { throw APIError.notFound }
        return try jsonResponse(found)
    }

    @Sendable func ruleVersions(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(["versions": try await rules.versions(of: try context.staffClaims().district)])
    }

    @Sendable func saveRules(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: RuleSetInput.self, context: context, limit: 1024 * 1024)
        return try jsonResponse(try await rules.save(input, by: claims), status: .created)
    }

    @Sendable func classify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let sample = try await request.decodeJSON(as: ClassificationSample.self, context: context, limit: 1024 * 1024)
        return try jsonResponse(try await rules.explain(sample, in: claims.district))
    }
}
