import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// `/v1/inbox`: the signed-in person's notices (any staff role; each sees their audience's).
struct InboxController: Sendable {
    let inbox: StaffNoticeRepository
    let signer: StaffTokenSigner

    func register(on router: Router<AppRequestContext>) {
        let staff = router.group("/v1/inbox").add(middleware: StaffAuthenticator(signer: signer, roles: Set(StaffClaims.Role.allCases)))
        staff.get(use: list)
        staff.post("/read", use: read)
    }

    /// `?unread=true`, `limit` (1–200, 50), `offset`.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let unreadOnly = try QueryParameters.flag(query, "unread")
        let limit = try QueryParameters.integer(query, "limit", default: 50, range: 1...200)
        let offset = try QueryParameters.integer(query, "offset", default: 0, range: 0...100_000)
        return try jsonResponse(try await inbox.page(for: claims, unreadOnly: unreadOnly, limit: limit, offset: offset))
    }

    /// `{"ids": [...]}` marks those read; `{"all": true}` all of them.
    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        struct Input: Decodable { var ids: [UUID]?; var all: Bool? }
        let input = try await request.decodeJSON(as: Input.self, context: context, limit: 64 * 1024)
        guard input.all == true || !(input.ids ?? []).isEmpty else {
            throw APIError.invalid("ids", "ids names the notices to mark read, or all is true")
        }
        let marked = try await inbox.markRead(input.all == true ? nil : input.ids, for: claims)
        return try jsonResponse(["marked": marked])
    }
}
