import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

extension SupervisionController {
    static func year(_ query: [String: String], default fallback: Int) throws -> Int {
        try QueryParameters.integer(query, "year", default: fallback, range: 2000...2100)
    }

    /// `GET /v1/supervision/municipal?year=2026`: the member districts side by side and the through-train arrivals.
    @Sendable func municipalOverview(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let year = try Self.year(request.queryValues, default: LocalDate.on(clock.now, in: .chinaTime).year)
        return try jsonResponse(try await MunicipalRepository(database: database).overview(of: claims.district, year: year))
    }

    /// `GET /v1/supervision/municipal/districts/:code/proposals?year=2026`.
    @Sendable func municipalProposals(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let code = context.parameters.get("code") else { throw APIError.notFound }
        let year = try Self.year(request.queryValues, default: LocalDate.on(clock.now, in: .chinaTime).year)
        return try jsonResponse([
            "proposals": try await MunicipalRepository(database: database).proposals(of: code, municipal: claims.district, year: year)
        ]
        )
    }

    /// `GET /v1/supervision/municipal/proposals/:id`: read-only.
    @Sendable func municipalProposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let proposal = try await MunicipalRepository(database: database).proposal(try context.uuid(), municipal: claims.district) else {
            throw APIError.notFound
        }
        return try jsonResponse(proposal)
    }
}
