import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// `/v1/reference-topics` and `/v1/proposals`: claiming, cultivation, review and filing. Every
/// route takes a staff token; the district is always the token's.
struct CultivationController: Sendable {
    let database: Database
    let signer: StaffTokenSigner

    /// Who may claim reference topics (认领).
    static let claimants: Set<StaffClaims.Role> = [.member, .specialCommittee, .memberStudio, .handlingUnit, .administrator]
    /// Who may draft proposals.
    static let drafters: Set<StaffClaims.Role> = claimants.union([.proposalsCommittee])
    /// Who reviews and files (审查立案).
    static let reviewers: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]
    /// Who reads every proposal of the district; members, studios and units read their own.
    static let readersOfAll: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator, .clueHandler, .specialCommittee]

    /// The drafter a caller's reading is limited to; nil for those who read every proposal.
    static func ownOnly(_ claims: StaffClaims) -> String? { readersOfAll.contains(claims.role) ? nil : claims.subject }

    var store: CultivationRepository { CultivationRepository(database: database) }

    func register(on router: Router<AppRequestContext>) {
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer))
            .get("/reference-topics", use: topics)
            .delete("/reference-topics/:id/claims/mine", use: release)
            .get("/proposals", use: proposals)
            .get("/proposals/:id", use: proposal)
            .put("/proposals/:id", use: edit)
            .post("/proposals/:id/submit", use: submit)
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.claimants))
            .post("/reference-topics/:id/claims", use: claim)
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.drafters))
            .post("/proposals", use: draft)
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.reviewers))
            .post("/proposals/:id/review", use: review)
    }

    @Sendable func topics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let status = try QueryParameters.choice(request.queryValues, "status", ReferenceTopicStatus.self)
        let topics = try await store.topics(in: claims.district, status: status, caller: claims.subject)
        return try jsonResponse(["referenceTopics": topics])
    }

    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: NewTopicClaim.self, context: context, limit: 16 * 1024)
        return try jsonResponse(try await store.claim(id, input: input, by: claims), status: .created)
    }

    @Sendable func release(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        return try jsonResponse(try await store.release(id, by: claims))
    }

    @Sendable func draft(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: ProposalDraftInput.self, context: context, limit: 256 * 1024)
        return try jsonResponse(try await store.draft(input, by: claims), status: .created)
    }

    @Sendable func edit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: ProposalEditInput.self, context: context, limit: 256 * 1024)
        return try jsonResponse(try await store.edit(id, input: input, by: claims))
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        return try jsonResponse(try await store.submit(id, by: claims))
    }

    @Sendable func review(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: ProposalReviewInput.self, context: context, limit: 16 * 1024)
        return try jsonResponse(try await store.review(id, input: input, by: claims))
    }

    @Sendable func proposals(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let status = try QueryParameters.choice(query, "status", ProposalStatus.self)
        let limit = try QueryParameters.integer(query, "limit", default: 200, range: 1...1_000)
        let offset = try QueryParameters.integer(query, "offset", default: 0, range: 0...1_000_000)
        let reviewOverdue = try QueryParameters.flag(query, "reviewOverdue")
        let proposals = try await store.proposals(
            in: claims.district, status: status, draftedBy: Self.ownOnly(claims), reviewOverdue: reviewOverdue,
            limit: limit, offset: offset)
        return try jsonResponse(["proposals": proposals])
    }

    @Sendable func proposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        guard let proposal = try await store.proposal(id, in: claims.district),
            Self.ownOnly(claims).map({ $0 == proposal.draftedBy }) ?? true
        else { throw APIError.notFound }
        return try jsonResponse(proposal)
    }
}
