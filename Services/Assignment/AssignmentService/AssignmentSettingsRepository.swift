import Foundation
import Models
import ServiceKit
import Storage

/// What every assignment decision of a district needs: its settings, its holiday calendar and
/// "today" in its own time zone.
struct DistrictRules: Sendable {
    var settings: AssignmentSettings
    var calendar: HolidayCalendar
    var today: LocalDate

    static func load(for district: DistrictCode, now: Date, in transaction: Transaction) async throws -> DistrictRules {
        let settings = try await AssignmentSettingsRepository.settings(in: transaction, district: district)
        let calendar = try await HolidayCalendars.load(in: transaction)
        return DistrictRules(settings: settings, calendar: calendar, today: LocalDate.on(now, in: settings.zone))
    }

    /// A final assignment made today: its reply deadline (explicit, or by the proposal's limit)
    /// and the last day to contest it.
    func finalTerms(kind: ProposalKind, isKey: Bool, ownLimit: DeadlineRule?, explicitDeadline: LocalDate?) -> (
        deadline: LocalDate, contestUntil: LocalDate
    ) {
        let limit = settings.limit(kind: kind, isKey: isKey, own: ownLimit)
        return (
            explicitDeadline ?? limit.deadline(from: today, calendar: calendar),
            settings.contestWindow.lastDay(assignedOn: today, calendar: calendar)
        )
    }
}

/// The body of `PUT /v1/assignment/calendar/:year`: the year's holidays and adjusted working days.
struct CalendarInput: Decodable, Sendable {
    var days: [HolidayCalendar.Day]?
}

/// A district's assignment settings and holiday calendar in PostgreSQL.
struct AssignmentSettingsRepository: Sendable {
    let database: Database

    static let stored = DistrictSettings<AssignmentSettings>(column: "assignment_settings", auditObject: "assignment-settings")

    static func settings(in transaction: Transaction, district: DistrictCode) async throws -> AssignmentSettings {
        try await stored.load(of: district, in: transaction)
    }

    func settings(of district: DistrictCode) async throws -> AssignmentSettings {
        try await database.transaction(.district(district)) { try await Self.settings(in: $0, district: district) }
    }

    /// Saves new settings after checking them; 422 names the first bad field.
    func save(_ settings: AssignmentSettings, for district: DistrictCode) async throws -> AssignmentSettings {
        if let problem = settings.problems.first { throw APIError.invalid(problem.field, problem.message) }
        try await database.transaction(.district(district)) { try await Self.stored.save(settings, for: district, in: $0) }
        return settings
    }

    func days(of year: Int, in district: DistrictCode) async throws -> [HolidayCalendar.Day] {
        try await database.transaction(.district(district)) { transaction in
            try await HolidayCalendars.load(in: transaction).days.filter { $0.date.year == year }
        }
    }

    /// Replaces one year of the district's calendar.
    func replace(year: Int, with days: [HolidayCalendar.Day], in district: DistrictCode) async throws -> [HolidayCalendar.Day] {
        guard (2000...2100).contains(year) else { throw APIError.invalid("year", "must be 2000 to 2100") }
        if let index = days.firstIndex(where: { $0.date.year != year }) {
            throw APIError.invalid("days[\(index)].date", "\(days[index].date) is not in \(year)")
        }
        if let problem = HolidayCalendar.problems(in: days).first { throw APIError.invalid("days", problem) }
        let sorted = days.sorted { $0.date < $1.date }
        try await database.transaction(.district(district)) { transaction in
            let before = try await HolidayCalendars.load(in: transaction).days.filter { $0.date.year == year }
            try await AuditTrail.record(
                "calendar-saved", "holiday-calendar", String(year), before: AuditTrail.json(before),
                after: AuditTrail.json(sorted), district: district, in: transaction)
            try await transaction.execute(
                """
                DELETE FROM holiday_days WHERE district = \(district.rawValue) AND extract(year FROM day) = \(year)
                """)
            guard !sorted.isEmpty else { return }
            try await transaction.execute(
                """
                INSERT INTO holiday_days (district, day, kind, name)
                SELECT \(district.rawValue), day, kind, name
                FROM unnest(\(sorted.map(\.date))::date[], \(sorted.map(\.kind.rawValue))::text[], \(sorted.map(\.name))::text[])
                     AS d(day, kind, name)
                """)
        }
        return sorted
    }
}
