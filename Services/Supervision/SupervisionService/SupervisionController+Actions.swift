import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

extension SupervisionController {
    @Sendable func recordAction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: SupervisionActionInput.self, context: context, limit: 64 * 1024)
        let action = try await SupervisionActionRepository(database: database, clock: clock).record(
            try context.uuid(), input, by: try context.staffClaims())
        return try jsonResponse(action, status: .created)
    }

    @Sendable func listActions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        return try jsonResponse([
            "actions": try await SupervisionActionRepository(database: database, clock: clock).list(try context.uuid(), in: claims.district)
        ])
    }
}
