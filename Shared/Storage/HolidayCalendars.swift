import Models
import PostgresNIO

/// A district's holiday calendar (`holiday_days`), which assignment keeps and supervision counts by.
public enum HolidayCalendars {
    /// The calendar of the transaction's district.
    public static func load(in transaction: Transaction) async throws -> HolidayCalendar {
        var days: [HolidayCalendar.Day] = []
        for try await (day, kind, name) in try await transaction.query(
            "SELECT day, kind, name FROM holiday_days ORDER BY day"
        ).decode((LocalDate, String, String).self) {
            guard let kind = HolidayCalendar.Day.Kind(rawValue: kind) else { continue }
            days.append(HolidayCalendar.Day(date: day, kind: kind, name: name))
        }
        return HolidayCalendar(days: days)
    }
}
