import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// A district's triage settings: how alike two clues must be to share a group, whether several
/// people may claim one reference topic, the current session (届) for case numbers, and the days a
/// filing review may take (fast track and ordinary).
struct TriageSettingsView: Codable, Sendable, Hashable {
    var similarityThreshold: Double
    var coClaiming: Bool
    var currentSession: Int
    var fastTrackReviewDays: Int
    var reviewDays: Int
}

/// `PUT /v1/triage/settings`: a missing key keeps its value.
struct TriageSettingsInput: Decodable, Sendable {
    var similarityThreshold: Double?
    var coClaiming: Bool?
    var currentSession: Int?
    var fastTrackReviewDays: Int?
    var reviewDays: Int?

    func applied(to current: TriageSettingsView) throws(APIError) -> TriageSettingsView {
        var next = current
        if let value = similarityThreshold {
            guard value.isFinite, (0.2...0.95).contains(value) else { throw APIError.invalid("similarityThreshold", "must be 0.2 to 0.95") }
            next.similarityThreshold = value
        }
        if let value = coClaiming { next.coClaiming = value }
        if let value = currentSession {
            guard (1...99).contains(value) else { throw APIError.invalid("currentSession", "must be 1 to 99") }
            next.currentSession = value
        }
        if let value = fastTrackReviewDays {
            guard (1...60).contains(value) else { throw APIError.invalid("fastTrackReviewDays", "must be 1 to 60 days") }
            next.fastTrackReviewDays = value
        }
        if let value = reviewDays {
            guard (1...180).contains(value) else { throw APIError.invalid("reviewDays", "must be 1 to 180 days") }
            next.reviewDays = value
        }
        guard next.fastTrackReviewDays <= next.reviewDays else {
            throw APIError.invalid("fastTrackReviewDays", "must not be longer than reviewDays (\(next.reviewDays))")
        }
        return next
    }
}

/// The settings kept in the district's row; saved with the value before and after in the audit trail.
struct TriageSettingsRepository: Sendable {
    let database: Database

    static func load(_ district: DistrictCode, forUpdate: Bool, in transaction: Transaction) async throws -> TriageSettingsView {
        var query: PostgresQuery = """
            SELECT similarity_threshold::float8, co_claiming, current_session, fast_track_review_days, review_days
            FROM districts WHERE code = \(district.rawValue)
            """
        if forUpdate { query.sql += " FOR UPDATE" }
        for try await (threshold, coClaiming, session, fast, days) in try await transaction.query(query).decode((Double, Bool, Int, Int, Int).self) {
            return TriageSettingsView(
                similarityThreshold: threshold, coClaiming: coClaiming, currentSession: session,
                fastTrackReviewDays: fast, reviewDays: days)
        }
        throw APIError.notFound
    }

    func current(of district: DistrictCode) async throws -> TriageSettingsView {
        try await database.transaction(.district(district)) { try await Self.load(district, forUpdate: false, in: $0) }
    }

    func save(_ input: TriageSettingsInput, of district: DistrictCode) async throws -> TriageSettingsView {
        try await database.transaction(.district(district)) { transaction in
            let before = try await Self.load(district, forUpdate: true, in: transaction)
            let after = try input.applied(to: before)
            // districts has no district policy of its own; the scope check is the WHERE.
            try await transaction.execute(
                """
                UPDATE districts SET similarity_threshold = \(after.similarityThreshold), co_claiming = \(after.coClaiming),
                       current_session = \(after.currentSession), fast_track_review_days = \(after.fastTrackReviewDays),
                       review_days = \(after.reviewDays)
                WHERE code = \(district.rawValue)
                """)
            try await AuditTrail.record(
                "settings-saved", "triage-settings", district.rawValue, before: AuditTrail.json(before),
                after: AuditTrail.json(after), district: district, in: transaction)
            return after
        }
    }
}
