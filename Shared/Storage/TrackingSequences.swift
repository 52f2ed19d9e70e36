import Foundation
import Models
import PostgresNIO
import Synchronization

/// Tracking numbers come from one PostgreSQL sequence per district and year. `nextval` holds no
/// lock until commit, so concurrent intakes do not queue behind each other's commits (a counter
/// row would make every clue of a district wait for the previous one's commit). A number taken
/// by a transaction that rolls back is skipped: numbers are unique and never reused, not gapless.
public final class TrackingSequences: Sendable {
    public init() {}

    private let known = Mutex<Set<String>>([])

    /// The year a number counts in: the calendar year in China time.
    public static func year(of date: Date) -> Int { chinaCalendar.component(.year, from: date) }

    static let chinaCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        return calendar
    }()

    public static func name(_ district: DistrictCode, year: Int) -> String {
        "tracking_\(district.rawValue.replacingOccurrences(of: "-", with: "_"))_\(year)"
    }

    /// The sequence's name, created on first use (once per process; safe from several at once).
    public func ensure(_ district: DistrictCode, year: Int, database: Database) async throws -> String {
        let name = Self.name(district, year: year)
        if known.withLock({ $0.contains(name) }) { return name }
        try await database.transaction(.none) { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended('tracking-sequences', 0))")
            // The name is built from a validated district code and a year: safe as an identifier.
            try await transaction.execute(PostgresQuery(unsafeSQL: "CREATE SEQUENCE IF NOT EXISTS \(name)"))
        }
        known.withLock { _ = $0.insert(name) }
        return name
    }
}
