import Foundation
import Hummingbird
import Models
import ServiceKit

/// The assignment API (`/v1/assignment`). The proposals committee works the queue, assigns,
/// reassigns, decides contests, marks key proposals, and keeps the unit directory, settings and
/// holiday calendar; handling units (unit tokens, under `/v1/assignment/my`) see, confirm and
/// contest only their own assignments. Another district's ids answer 404.
struct AssignmentController: Sendable {
    let cases: AssignmentRepository
    let units: UnitAssignmentRepository
    let directory: HandlingUnitRepository
    let settings: AssignmentSettingsRepository
    let signer: StaffTokenSigner

    static let committee: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]

    func register(on router: Router<AppRequestContext>) {
        let staff = router.group("/v1/assignment").add(middleware: StaffAuthenticator(signer: signer, roles: Self.committee))
        staff.get("/queue", use: queue)
        staff.get("/proposals/:id", use: openCase)
        staff.post("/proposals/:id/assignment", use: assign)
        staff.post("/proposals/:id/reassignment", use: reassign)
        staff.post("/proposals/:id/key", use: markKey)
        staff.post("/assignments/:id/deadline", use: changeDeadline)
        staff.post("/contests/:id/rejection", use: rejectContest)
        staff.get("/units", use: listUnits)
        staff.post("/units", use: createUnit)
        staff.get("/units/:id", use: openUnit)
        staff.put("/units/:id", use: updateUnit)
        staff.get("/units/:id/versions", use: unitVersions)
        staff.get("/settings", use: currentSettings)
        staff.put("/settings", use: saveSettings)
        staff.get("/calendar/:year", use: calendar)
        staff.put("/calendar/:year", use: saveCalendar)

        let unit = router.group("/v1/assignment/my").add(middleware: StaffAuthenticator(signer: signer, roles: [.handlingUnit]))
        unit.get("/assignments", use: myAssignments)
        unit.get("/assignments/:id", use: myAssignment)
        unit.post("/assignments/:id/contest", use: contest)
        unit.post("/assignments/:id/confirmation", use: confirm)
    }

    static let bodyLimit = 64 * 1024

    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let entries = try await cases.queue(
            in: claims.district, state: query["state"], limit: try QueryParameters.integer(query, "limit", default: 100, range: 1...500),
            offset: try QueryParameters.integer(query, "offset", default: 0, range: 0...1_000_000))
        return try jsonResponse(["proposals": entries])
    }

    @Sendable func openCase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let fresh = try QueryParameters.flag(request.queryValues, "fresh")
        return try jsonResponse(try await cases.open(try context.uuid(), in: claims.district, freshSuggestion: fresh))
    }

    @Sendable func assign(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: AssignmentInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await cases.assign(try context.uuid(), input, by: claims), status: .created)
    }

    @Sendable func reassign(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: AssignmentInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await cases.reassign(try context.uuid(), input, by: claims), status: .created)
    }

    @Sendable func markKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: KeyProposalInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await cases.markKey(try context.uuid(), input, by: claims))
    }

    @Sendable func changeDeadline(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: DeadlineInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await cases.changeDeadline(try context.uuid(), input, by: claims))
    }

    @Sendable func rejectContest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: ContestDecisionInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await cases.rejectContest(try context.uuid(), input, by: claims))
    }

    @Sendable func listUnits(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let all = try QueryParameters.flag(request.queryValues, "includeInactive")
        return try jsonResponse(["units": try await directory.list(in: claims.district, includeInactive: all)])
    }

    @Sendable func createUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: UnitInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await directory.create(input, by: claims), status: .created)
    }

    @Sendable func openUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let unit = try await directory.unit(try context.uuid(), in: claims.district) else { throw APIError.notFound }
        return try jsonResponse(unit)
    }

    @Sendable func updateUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: UnitInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await directory.update(try context.uuid(), input, by: claims))
    }

    @Sendable func unitVersions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let versions = try await directory.versions(of: try context.uuid(), in: claims.district) else { throw APIError.notFound }
        return try jsonResponse(["versions": versions])
    }

    @Sendable func currentSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        try jsonResponse(try await settings.settings(of: try context.staffClaims().district))
    }

    @Sendable func saveSettings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: AssignmentSettings.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await settings.save(input, for: claims.district))
    }

    static func year(_ context: AppRequestContext) throws -> Int {
        guard let year = context.parameters.get("year").flatMap(Int.init), (2000...2100).contains(year) else {
            throw APIError.badRequest("the year must be 2000 to 2100", field: "year")
        }
        return year
    }

    @Sendable func calendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        return try jsonResponse(["days": try await settings.days(of: try Self.year(context), in: claims.district)])
    }

    @Sendable func saveCalendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let year = try Self.year(context)
        let input = try await request.decodeJSON(as: CalendarInput.self, context: context, limit: Self.bodyLimit)
        guard let days = input.days else { throw APIError.invalid("days", "is required: the year's holidays and adjusted working days") }
        return try jsonResponse(["days": try await settings.replace(year: year, with: days, in: claims.district)])
    }

    @Sendable func myAssignments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let all = try QueryParameters.flag(request.queryValues, "includeSuperseded")
        return try jsonResponse(["assignments": try await units.mine(claims, includeSuperseded: all)])
    }

    @Sendable func myAssignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        return try jsonResponse(try await units.open(try context.uuid(), claims))
    }

    @Sendable func contest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: ContestInput.self, context: context, limit: Self.bodyLimit)
        return try jsonResponse(try await units.contest(try context.uuid(), input, by: claims), status: .created)
    }

    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        return try jsonResponse(try await units.confirm(try context.uuid(), by: claims))
    }
}
