import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

extension SupervisionController {
    /// The period of a record: `from` and `to`, by default the current year.
    func period(_ query: [String: String], in district: DistrictCode) async throws -> ClosedRange<LocalDate> {
        let today = LocalDate.on(
            clock.now,
            in: try await database.transaction(.district(district)) {
                try await TimerRepository.settings(of: district, in: $0).zone
            })
        let from = try QueryParameters.date(query, "from") ?? LocalDate(year: today.year, month: 1, day: 1)!
        let to = try QueryParameters.date(query, "to") ?? LocalDate(year: today.year, month: 12, day: 31)!
        guard from <= to else { throw APIError.invalid("from", "from must not be after to") }
        guard from.days(until: to) <= 366 else { throw APIError.invalid("to", "a period is at most a year") }
        return from...to
    }

    /// `GET /v1/supervision/members?from=&to=[&format=csv]`: every member's and studio's record.
    @Sendable func memberRecords(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let period = try await period(query, in: claims.district)
        let records = try await MemberRecordRepository(database: database).records(of: claims.district, period: period)
        switch try QueryParameters.choice(query, "format", ReportFormat.self) ?? .json {
        case .json: return try jsonResponse(["records": records])
        case .csv: return csvResponse(PerformanceRecords.csv(records), filename: "member-records-\(period.lowerBound)-\(period.upperBound).csv")
        }
    }

    /// `GET /v1/supervision/members/:code?from=&to=`: one record with its clues.
    @Sendable func memberRecord(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let code = context.parameters.get("code") else { throw APIError.notFound }
        return try await recordResponse(of: code, request: request, claims: claims)
    }

    /// `GET /v1/supervision/my/record?from=&to=`: the signed-in member's or studio's own record.
    @Sendable func myRecord(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let code = claims.register else {
            throw APIError(.notFound, code: "not-registered", message: "this account is not linked to a register entry; ask the administrator")
        }
        return try await recordResponse(of: code, request: request, claims: claims)
    }

    private func recordResponse(of code: String, request: Request, claims: StaffClaims) async throws -> Response {
        let query = request.queryValues
        let period = try await period(query, in: claims.district)
        guard let page = try await MemberRecordRepository(database: database).record(of: code, in: claims.district, period: period) else {
            throw APIError.notFound
        }
        switch try QueryParameters.choice(query, "format", ReportFormat.self) ?? .json {
        case .json: return try jsonResponse(page)
        case .csv:
            return csvResponse(PerformanceRecords.csv([page.record]), filename: "record-\(code)-\(period.lowerBound)-\(period.upperBound).csv")
        }
    }
}
