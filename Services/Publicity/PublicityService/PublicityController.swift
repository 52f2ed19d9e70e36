import Foundation
import Hummingbird
import Models
import ServiceKit
import Storage

/// The staff API of publicity (`/v1/publicity`, staff tokens of one district): where the
/// district's notifications go, what happened to them (operators see the dead-lettered ones and
/// send them again), the showcase of excellent proposals, and integrations' status callbacks.
struct PublicityController: Sendable {
    let database: Database
    let signer: StaffTokenSigner
    let targets: NotificationTargets
    /// The channels this deployment can send through; an endpoint for any other is refused.
    var adapters: Set<String> = ["webhook"]

    static let staffRoles: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator, .clueHandler]

    func register(on router: Router<AppRequestContext>) {
        let staff = router.group("/v1/publicity").add(middleware: StaffAuthenticator(signer: signer, roles: Self.staffRoles))
        staff.get("/notifications", use: notifications)
        staff.post("/notifications/:id/retry", use: retry)
        staff.get("/notification-endpoints", use: endpoints)
        // Where residents' names and phone numbers are sent is an administrator's decision.
        let administrators = router.group("/v1/publicity").add(middleware: StaffAuthenticator(signer: signer, roles: [.administrator]))
        administrators.put("/notification-endpoints/:channel", use: saveEndpoint)
        administrators.put("/integrations/:key/callback", use: saveCallback)
        staff.post("/showcase", use: addToShowcase)
        staff.delete("/showcase/:id", use: removeFromShowcase)
    }

    var notificationRepository: NotificationRepository { NotificationRepository(database: database) }
    var showcaseRepository: ShowcaseRepository { ShowcaseRepository(database: database) }

    @Sendable func notifications(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let state = try QueryParameters.choice(query, "state", NotificationState.self)
        // One event's deliveries (where a proposer's evaluation link went).
        let event = try QueryParameters.uuid(query, "eventId")
        let limit = try QueryParameters.integer(query, "limit", default: 100, range: 1...500)
        let (items, counts) = try await notificationRepository.list(of: claims.district, state: state, event: event, limit: limit)
        struct Answer: Encodable { var counts: [String: Int]; var notifications: [NotificationRepository.NotificationView] }
        return try jsonResponse(Answer(counts: counts, notifications: items))
    }

    /// Sends a dead-lettered notification again from its first attempt.
    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        switch try await notificationRepository.retry(id, in: claims.district) {
        case .unknown: throw APIError.notFound
        case .queued:
            return try jsonResponse(["id": id.uuidString, "state": NotificationState.pending.rawValue], status: .accepted)
        case .pruned:
            throw APIError(.conflict, code: "content-deleted", message: "its content was deleted after the retention period; it cannot be sent again")
        case .notDeadLettered(let state):
            throw APIError(.conflict, code: "not-dead-lettered", message: "only a dead-lettered notification is sent again; this one is \(state)")
        }
    }

    struct EndpointInput: Decodable {
        var url: String?
        var secret: String?
        var active: Bool?
    }

    static let channels: Set<String> = ["webhook", "sms", "wechat"]

    @Sendable func endpoints(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        return try jsonResponse(["endpoints": try await notificationRepository.endpoints(of: claims.district)])
    }

    /// Sets where a channel's notifications go and the secret that signs them (never shown again).
    @Sendable func saveEndpoint(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let channel = context.parameters.get("channel"), Self.channels.contains(channel) else {
            throw APIError.invalid("channel", "channel is one of " + Self.channels.sorted().joined(separator: ", "))
        }
        // Accepted, every notice to it would be dead-lettered: refuse it now, where someone sees why.
        guard adapters.contains(channel) else {
            throw APIError.invalid("channel", "this deployment has no \(channel) adapter; notices cannot be sent through it")
        }
        let input = try await request.decodeJSON(as: EndpointInput.self, context: context, limit: 8_192)
        let url = try target(input.url, field: "url")
        guard let secret = input.secret, (16...200).contains(secret.count) else {
            throw APIError.invalid("secret", "secret is 16 to 200 characters")
        }
        try await notificationRepository.saveEndpoint(channel: channel, url: url, secret: secret, active: input.active ?? true, in: claims.district)
        return try jsonResponse(["channel": channel, "url": url, "active": (input.active ?? true) ? "true" : "false"])
    }

    /// Sets (or, with a null url, clears) where an integration of this district hears of its clues.
    @Sendable func saveCallback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let key = context.parameters.get("key"), (1...100).contains(key.count) else { throw APIError.notFound }
        struct Input: Decodable { var url: String? }
        let input = try await request.decodeJSON(as: Input.self, context: context, limit: 8_192)
        let url = try input.url.map { try target($0, field: "url") }
        let updated = try await notificationRepository.saveCallback(key: key, url: url, in: claims.district)
        guard updated else { throw APIError.notFound }
        return try jsonResponse(["key": key, "callbackUrl": url ?? ""])
    }

    func target(_ text: String?, field: String) throws(APIError) -> String {
        guard let text else { throw APIError.invalid(field, "\(field) is required") }
        switch targets.check(text) {
        case .success: return text
        case .failure(let refusal): throw APIError.invalid(field, "\(field) \(refusal)")
        }
    }

    struct ShowcaseInput: Decodable {
        var proposalID: String?
        var citation: String?

        /// The wire spells identifiers `…Id`.
        enum CodingKeys: String, CodingKey {
            case proposalID = "proposalId", citation
        }
    }

    @Sendable func addToShowcase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: ShowcaseInput.self, context: context, limit: 16_384)
        guard let proposal = input.proposalID.flatMap(UUID.init(uuidString:)) else {
            throw APIError.invalid("proposalId", "proposalId is a proposal's id")
        }
        let citation = try FieldText.required(input.citation, "citation", limit: 500, multiline: true)
        let added = try await showcaseRepository.add(proposal, citation: citation, by: claims)
        guard added else { throw APIError.notFound }
        return try jsonResponse(["proposalId": proposal.uuidString.lowercased(), "citation": citation], status: .created)
    }

    @Sendable func removeFromShowcase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let removed = try await showcaseRepository.remove(id, in: claims.district)
        guard removed else { throw APIError.notFound }
        return Response(status: .noContent)
    }
}
