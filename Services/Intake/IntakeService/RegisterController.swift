import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// `/v1/intake/register`: the register for the district's staff to read, its administrators to keep.
struct RegisterController: Sendable {
    let repository: RegisterRepository
    let signer: StaffTokenSigner

    func register(on router: Router<AppRequestContext>) {
        router.group("/v1/intake/register")
            .add(middleware: StaffAuthenticator(signer: signer, roles: SubmissionPolicy.staffRoles))
            .get(use: list)
        router.group("/v1/intake/register")
            .add(middleware: StaffAuthenticator(signer: signer, roles: [.administrator]))
            .put("/entries/:code", use: save)
            .post("/import", use: importCSV)
            .get("/unmatched", use: unmatched)
            .post("/mappings", use: map)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(["entries": try await repository.entries(of: try context.staffClaims().district)])
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code") else { throw APIError.notFound }
        let input = try await request.decodeJSON(as: RegisterEntryInput.self, context: context, limit: 16 * 1024)
        return try jsonResponse(try await repository.save(code, input, by: try context.staffClaims()))
    }

    @Sendable func importCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("text/csv") else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported-media-type", message: "send the register as text/csv (UTF-8)", field: "Content-Type")
        }
        let body = try await request.collectBody(limit: 2 * 1024 * 1024)
        guard let csv = body.getString(at: body.readerIndex, length: body.readableBytes) else { throw APIError.invalid("file", "文件须为 UTF-8 编码") }
        return try jsonResponse(try await repository.importCSV(csv, by: try context.staffClaims()))
    }

    @Sendable func unmatched(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(["receivers": try await repository.unmatched(in: try context.staffClaims().district)])
    }

    struct MappingInput: Decodable, Sendable {
        var kind: String?
        var receivedName: String?
        var code: String?
    }

    @Sendable func map(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: MappingInput.self, context: context, limit: 16 * 1024)
        guard let kind = input.kind.flatMap(Receiver.Kind.init(rawValue:)) else { throw APIError.invalid("kind", "must be member or studio") }
        guard let name = input.receivedName, !name.isEmpty else { throw APIError.invalid("receivedName", "is required") }
        guard let code = input.code, !code.isEmpty else { throw APIError.invalid("code", "is required: the register entry meant") }
        let credited = try await repository.map(kind: kind, receivedName: name, to: code, by: try context.staffClaims())
        return try jsonResponse(["credited": credited])
    }
}
