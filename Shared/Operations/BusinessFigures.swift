import Foundation
import Models
import Storage

/// Clues still waiting on the committee, per district and status.
public struct OpenClues: Sendable, Hashable, Codable {
    public var district: String
    public var status: String
    public var count: Int
}

/// Assignments in handling per district, and how many of them are past their deadline.
public struct OpenAssignments: Sendable, Hashable, Codable {
    public var district: String
    public var open: Int
    public var overdue: Int
}

/// Notifications to submitters not delivered yet, and those given up on, per district.
public struct NotificationBacklog: Sendable, Hashable, Codable {
    public var district: String
    public var pending: Int
    public var dead: Int
}

/// The business figures operators watch beside the pipeline's own (services export them as
/// gauges; the dashboard shows them). Each reads in a transaction that sees every district.
public enum BusinessFigures {
    public static func openClues(in transaction: Transaction) async throws -> [OpenClues] {
        let open = ClueTriageStatus.open.map(\.rawValue)
        var rows: [OpenClues] = []
        for try await (district, status, count) in try await transaction.query(
            """
            SELECT district, status, count(*)::integer FROM triage_clues WHERE status = ANY(\(open))
            GROUP BY district, status ORDER BY district, status
            """
        ).decode((String, String, Int).self) {
            rows.append(OpenClues(district: district, status: status, count: count))
        }
        return rows
    }

    /// Overdue: still in handling after its deadline day, `today` being the districts' day.
    public static func openAssignments(today: LocalDate, in transaction: Transaction) async throws -> [OpenAssignments] {
        var rows: [OpenAssignments] = []
        for try await (district, open, overdue) in try await transaction.query(
            """
            SELECT district, count(*)::integer, (count(*) FILTER (WHERE deadline < \(today)))::integer
            FROM supervised_assignments WHERE state = \(SupervisedAssignmentState.handling.rawValue) GROUP BY district ORDER BY district
            """
        ).decode((String, Int, Int).self) {
            rows.append(OpenAssignments(district: district, open: open, overdue: overdue))
        }
        return rows
    }

    public static func notifications(in transaction: Transaction) async throws -> [NotificationBacklog] {
        var rows: [NotificationBacklog] = []
        for try await (district, pending, dead) in try await transaction.query(
            """
            SELECT district, (count(*) FILTER (WHERE state = \(NotificationState.pending.rawValue)))::integer, (count(*) FILTER (WHERE state = \(NotificationState.dead.rawValue)))::integer
            FROM notifications WHERE state <> \(NotificationState.delivered.rawValue) GROUP BY district ORDER BY district
            """
        ).decode((String, Int, Int).self) {
            rows.append(NotificationBacklog(district: district, pending: pending, dead: dead))
        }
        return rows
    }
}
