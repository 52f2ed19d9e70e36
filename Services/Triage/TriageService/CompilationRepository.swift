import Foundation
import HTTPTypes
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// Reads a district's compilation.
struct CompilationRepository: Sendable {
    let database: Database

    static let chinaCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        return calendar
    }()

    /// The first instant of `year` in China time.
    static func start(of year: Int) -> Date {
        chinaCalendar.date(from: DateComponents(year: year, month: 1, day: 1, hour: 0, minute: 0, second: 0))!
    }

    /// `yyyy-MM-dd` of `date` in China time.
    static func day(of date: Date) -> String {
        let parts = chinaCalendar.dateComponents([.year, .month, .day], from: date)
        func padded(_ value: Int?, _ width: Int) -> String {
            let digits = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.year, 4))-\(padded(parts.month, 2))-\(padded(parts.day, 2))"
    }

    func compilation(of district: DistrictCode, year: Int, domainNames: [String: String]) async throws -> Compilation {
        let (from, to) = (Self.start(of: year), Self.start(of: year + 1))
        return try await database.transaction(.district(district)) { transaction -> Compilation in
            var districtName = district.rawValue
            for try await name in try await transaction.query(
                "SELECT name FROM districts WHERE code = \(district.rawValue)"
            ).decode(String.self) {
                districtName = name
            }
            let rows = try await transaction.query(
                """
                SELECT t.domain, t.group_id, t.tracking_number, c.received_at, c.title, c.source_category,
                       coalesce(ch.name, c.channel), t.status, t.route, t.urgency, t.street
                FROM triage_clues t
                JOIN clues c ON c.id = t.clue_id
                LEFT JOIN channels ch ON ch.code = c.channel
                WHERE t.district = \(district.rawValue) AND c.district = \(district.rawValue)
                  AND c.received_at >= \(from) AND c.received_at < \(to)
                """)
            var entries: [Compilation.Entry] = []
            for try await (domain, groupID, trackingNumber, receivedAt, title, source, channel, status, route, urgency, street)
                in rows.decode((String?, UUID?, String, Date, String, String, String, String, String?, String, String?).self)
            {
                entries.append(
                    Compilation.Entry(
                        domain: domain, groupID: groupID,
                        clue: CompiledClue(
                            // Titles are residents' free text: masked as the portal masks them.
                            trackingNumber: trackingNumber, receivedOn: Self.day(of: receivedAt), title: Redaction.redact(title),
                            sourceCategory: CompilationLabels.sourceCategory(source), channel: channel,
                            status: CompilationLabels.status(status), route: CompilationLabels.route(route),
                            urgency: CompilationLabels.urgency(urgency), street: street)))
            }
            return Compilation(districtName: districtName, year: year, entries: entries, domainNames: domainNames)
        }
    }
}
