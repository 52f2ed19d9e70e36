import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

extension SupervisionController {
    /// `?format=` of a report: JSON (the default) or a CSV download.
    enum ReportFormat: String, CaseIterable { case json, csv }

    /// `GET /v1/supervision/evaluation?from=2026-01-01&to=2026-12-31[&format=csv]`.
    @Sendable func evaluation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let report = try await ReportRepository(database: database).evaluation(
            of: claims.district, from: try QueryParameters.required(QueryParameters.date(query, "from"), "from", "YYYY-MM-DD"),
            to: try QueryParameters.required(QueryParameters.date(query, "to"), "to", "YYYY-MM-DD"))
        switch try QueryParameters.choice(query, "format", ReportFormat.self) ?? .json {
        case .json:
            return try jsonResponse(report)
        case .csv:
            return csvResponse(UnitEvaluator.csv(report.units), filename: "unit-evaluation-\(report.from)-\(report.to).csv")
        }
    }

    /// `GET /v1/supervision/quotas?month=2026-11[&behind=true]`.
    @Sendable func quotas(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let first = try QueryParameters.required(QueryParameters.month(query, "month"), "month", "YYYY-MM")
        var standings = try await ReportRepository(database: database).quotas(of: claims.district, year: first.year, month: first.month)
        if try QueryParameters.flag(query, "behind") { standings = standings.filter { $0.shortfall > 0 } }
        return try jsonResponse(["standings": standings])
    }

    /// `POST /v1/supervision/quotas/reminders?month=2026-11`: remind those behind, once per month.
    @Sendable func remindQuotas(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let first = try QueryParameters.required(QueryParameters.month(request.queryValues, "month"), "month", "YYYY-MM")
        let reminded = try await ReportRepository(database: database).remind(
            of: claims.district, year: first.year, month: first.month, now: clock.now)
        return try jsonResponse(["reminded": reminded])
    }
}
