import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// `/v1/themed-calls`, `/v1/districts`, `/v1/channels`.
struct DirectoryController: Sendable {
    let directory: DirectoryRepository
    let signer: StaffTokenSigner

    static let callManagers: Set<StaffClaims.Role> = [.clueHandler, .proposalsCommittee, .administrator]

    func register(on router: Router<AppRequestContext>) {
        let v1 = router.group("/v1")
        v1.get("/districts") { _, _ in try jsonResponse(["districts": try await directory.districts()]) }
        v1.get("/channels") { _, _ in try jsonResponse(["channels": try await directory.channels()]) }
        v1.get("/themed-calls", use: list)
        v1.group("/themed-calls")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.callManagers))
            .post(use: create)
            .post("/:id/close", use: close)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = request.uri.queryParameters["district"].map(String.init) else {
            throw APIError.invalid("district", "is required (a district code)")
        }
        guard let district = DistrictCode(rawValue: code), try await directory.district(district) != nil else {
            throw APIError.invalid("district", "no district \(code) is configured")
        }
        let includeClosed = try QueryParameters.flag(request.queryValues, "includeClosed")
        return try jsonResponse(["themedCalls": try await directory.calls(in: district, includeClosed: includeClosed)])
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard case .staff(let claims) = context.caller else { throw APIError.unauthorized }
        let input = try await request.decodeJSON(as: NewThemedCall.self, context: context, limit: 64 * 1024)
        return try jsonResponse(try await directory.create(input, by: claims), status: .created)
    }

    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard case .staff(let claims) = context.caller else { throw APIError.unauthorized }
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound }
        guard let call = try await directory.close(id, in: claims.district) else { throw APIError.notFound }
        return try jsonResponse(call)
    }
}
