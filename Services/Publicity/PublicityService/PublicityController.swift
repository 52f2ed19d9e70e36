import Foundation
import Hummingbird
import Models
import PostgresNIO
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

    struct NotificationView: Codable {
        var id: UUID
        var event: String
        var recipient: String
        var channel: String
        var target: String
        var state: String
        var attempts: Int
        var nextAttemptAt: Date
        var lastError: String?
        var createdAt: Date
        var deliveredAt: Date?
    }

    @Sendable func notifications(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let state = try QueryParameters.choice(query, "state", NotificationState.self)?.rawValue
        // One event's deliveries (where a proposer's evaluation link went).
        let event = try QueryParameters.uuid(query, "eventId")
        let limit = try QueryParameters.integer(query, "limit", default: 100, range: 1...500)
        let (items, counts) = try await database.transaction(.district(claims.district)) { transaction in
            var items: [NotificationView] = []
            let rows = try await transaction.query(
                """
                SELECT id, event, recipient, channel, target, state, attempts, next_attempt_at, last_error, created_at, delivered_at
                FROM notifications WHERE (\(state)::text IS NULL OR state = \(state)) AND (\(event)::uuid IS NULL OR event_id = \(event))
                ORDER BY created_at DESC, id LIMIT \(limit)
                """)
            for try await row in rows.decode((UUID, String, String, String, String, String, Int, Date, String?, Date, Date?).self) {
                items.append(
                    NotificationView(
                        id: row.0, event: row.1, recipient: row.2, channel: row.3, target: row.4, state: row.5, attempts: row.6,
                        nextAttemptAt: row.7, lastError: row.8, createdAt: row.9, deliveredAt: row.10))
            }
            var counts = Dictionary(uniqueKeysWithValues: NotificationState.allCases.map { ($0.rawValue, 0) })
            for try await (state, count) in try await transaction.query("SELECT state, count(*)::int FROM notifications GROUP BY state").decode(
                (String, Int).self)
            {
                counts[state] = count
            }
            return (items, counts)
        }
        struct Answer: Encodable { var counts: [String: Int]; var notifications: [NotificationView] }
        return try jsonResponse(Answer(counts: counts, notifications: items))
    }

    /// Sends a dead-lettered notification again from its first attempt.
    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let state = try await database.transaction(.district(claims.district)) { transaction -> String? in
            let rows = try await transaction.query("SELECT state, body_pruned_at IS NOT NULL FROM notifications WHERE id = \(id) FOR UPDATE")
            var state: String?
            for try await (value, pruned) in rows.decode((String, Bool).self) { state = pruned ? "pruned" : value }
            guard state == NotificationState.dead.rawValue else { return state }
            try await transaction.execute(
                """
                UPDATE notifications SET state = \(NotificationState.pending.rawValue), attempts = 0, next_attempt_at = now(), last_error = NULL WHERE id = \(id)
                """)
            try await AuditTrail.record(
                "notification-retried", "notification", id.uuidString.lowercased(), district: claims.district, in: transaction)
            return NotificationState.pending.rawValue
        }
        switch state {
        case nil: throw APIError.notFound
        case NotificationState.pending.rawValue?:
            return try jsonResponse(["id": id.uuidString, "state": NotificationState.pending.rawValue], status: .accepted)
        case "pruned"?:
            throw APIError(.conflict, code: "content-deleted", message: "its content was deleted after the retention period; it cannot be sent again")
        case let other?:
            throw APIError(.conflict, code: "not-dead-lettered", message: "only a dead-lettered notification is sent again; this one is \(other)")
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
        struct Endpoint: Encodable { var channel: String; var url: String; var active: Bool; var updatedAt: Date }
        let endpoints = try await database.transaction(.district(claims.district)) { transaction in
            var endpoints: [Endpoint] = []
            for try await (channel, url, active, updatedAt) in try await transaction.query(
                "SELECT channel, url, active, updated_at FROM notification_endpoints ORDER BY channel"
            ).decode((String, String, Bool, Date).self) {
                endpoints.append(Endpoint(channel: channel, url: url, active: active, updatedAt: updatedAt))
            }
            return endpoints
        }
        return try jsonResponse(["endpoints": endpoints])
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
        try await database.transaction(.district(claims.district)) { transaction in
            var before: [String: String]?
            for try await (oldURL, active) in try await transaction.query(
                "SELECT url, active FROM notification_endpoints WHERE channel = \(channel) FOR UPDATE"
            ).decode((String, Bool).self) { before = ["url": oldURL, "active": String(active)] }
            // The secret is never recorded, only that one was set.
            try await AuditTrail.record(
                "endpoint-saved", "notification-endpoint", channel, before: before.flatMap { AuditTrail.json($0) },
                after: AuditTrail.json(["url": url, "active": String(input.active ?? true), "secret": "(set)"]),
                district: claims.district, in: transaction)
            try await transaction.execute(
                """
                INSERT INTO notification_endpoints (district, channel, url, secret, active, updated_at)
                VALUES (\(claims.district.rawValue), \(channel), \(url), \(secret), \(input.active ?? true), now())
                ON CONFLICT (district, channel) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, active = EXCLUDED.active, updated_at = now()
                """)
        }
        return try jsonResponse(["channel": channel, "url": url, "active": (input.active ?? true) ? "true" : "false"])
    }

    /// Sets (or, with a null url, clears) where an integration of this district hears of its clues.
    @Sendable func saveCallback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let key = context.parameters.get("key"), (1...100).contains(key.count) else { throw APIError.notFound }
        struct Input: Decodable { var url: String? }
        let input = try await request.decodeJSON(as: Input.self, context: context, limit: 8_192)
        let url = try input.url.map { try target($0, field: "url") }
        let updated = try await database.transaction(.district(claims.district)) { transaction in
            let rows = try await transaction.query(
                """
                UPDATE integration_keys SET callback_url = \(url) WHERE key_id = \(key) AND \(claims.district.rawValue) = ANY(districts) RETURNING key_id
                """)
            var found = false
            for try await _ in rows { found = true }
            if found {
                try await AuditTrail.record(
                    "callback-saved", "integration-callback", key, after: AuditTrail.json(["url": url ?? ""]),
                    district: claims.district, in: transaction)
            }
            return found
        }
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
        var proposalId: String?
        var citation: String?
    }

    @Sendable func addToShowcase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: ShowcaseInput.self, context: context, limit: 16_384)
        guard let proposal = input.proposalId.flatMap(UUID.init(uuidString:)) else {
            throw APIError.invalid("proposalId", "proposalId is a proposal's id")
        }
        let citation = try FieldText.required(input.citation, "citation", limit: 500, multiline: true)
        let added = try await database.transaction(.district(claims.district)) { transaction in
            // Only a proposal of this district on the public list can be shown.
            let rows = try await transaction.query(
                """
                INSERT INTO showcase_entries (proposal_id, district, citation, added_by)
                SELECT proposal_id, district, \(citation), \(claims.subject) FROM public_proposals
                WHERE proposal_id = \(proposal) AND district = \(claims.district.rawValue)
                ON CONFLICT (proposal_id) DO UPDATE SET citation = EXCLUDED.citation, added_by = EXCLUDED.added_by, added_at = now()
                RETURNING proposal_id
                """)
            var added = false
            for try await _ in rows { added = true }
            if added {
                try await AuditTrail.record(
                    "showcase-added", "proposal", proposal.uuidString.lowercased(),
                    after: AuditTrail.json(["citation": citation]), district: claims.district, in: transaction)
            }
            return added
        }
        guard added else { throw APIError.notFound }
        return try jsonResponse(["proposalId": proposal.uuidString.lowercased(), "citation": citation], status: .created)
    }

    @Sendable func removeFromShowcase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let removed = try await database.transaction(.district(claims.district)) { transaction in
            var removed = false
            for try await _ in try await transaction.query("DELETE FROM showcase_entries WHERE proposal_id = \(id) RETURNING proposal_id") {
                removed = true
            }
            if removed {
                try await AuditTrail.record("showcase-removed", "proposal", id.uuidString.lowercased(), district: claims.district, in: transaction)
            }
            return removed
        }
        guard removed else { throw APIError.notFound }
        return Response(status: .noContent)
    }
}
