import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// A themed call (选题征集) as the API shows it.
struct ThemedCallView: Codable, Sendable, Hashable {
    var id: UUID
    var district: String
    var title: String
    var description: String
    var opensAt: Date
    var closesAt: Date?
    var closedAt: Date?
    var open: Bool
    var clueCount: Int
}

/// The body of `POST /v1/themed-calls`.
struct NewThemedCall: Decodable, Sendable {
    var district: String?
    var title: String?
    var description: String?
    var opensAt: Date?
    var closesAt: Date?
}

/// Themed calls and the directories intake answers from the database (districts, channels).
struct DirectoryRepository: Sendable {
    let database: Database

    func create(_ input: NewThemedCall, by claims: StaffClaims, now: Date = Date()) async throws -> ThemedCallView {
        let district = claims.district
        if let requested = input.district, requested != district.rawValue {
            throw APIError.forbidden("a staff token of \(district) cannot open calls for \(requested)", field: "district")
        }
        let title = try ClueSubmission.required(input.title, "title", limit: FieldLimits.title, multiline: false)
        let description = try ClueSubmission.optional(input.description, "description", limit: 2_000, multiline: true) ?? ""
        let opensAt = input.opensAt ?? now
        if let closesAt = input.closesAt {
            guard closesAt > opensAt else { throw APIError.invalid("closesAt", "must be after opensAt") }
            guard closesAt > now else { throw APIError.invalid("closesAt", "must be in the future") }
        }
        let id = UUID()
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO themed_calls (id, district, title, description, opens_at, closes_at, created_by)
                VALUES (\(id), \(district.rawValue), \(title), \(description), \(opensAt), \(input.closesAt), \(claims.subject))
                """)
            try await AuditTrail.record(
                "themed-call-created", "themed-call", id.uuidString.lowercased(),
                after: AuditTrail.json(["title": title, "description": description]), district: district, in: transaction)
        }
        return ThemedCallView(
            id: id, district: district.rawValue, title: title, description: description, opensAt: opensAt,
            closesAt: input.closesAt, closedAt: nil, open: opensAt <= now, clueCount: 0)
    }

    /// The district's calls, newest first; only open ones unless `includeClosed`.
    func calls(in district: DistrictCode, includeClosed: Bool, now: Date = Date()) async throws -> [ThemedCallView] {
        try await database.transaction(.district(district)) { transaction in
            let rows = try await transaction.query(
                """
                SELECT t.id, t.title, t.description, t.opens_at, t.closes_at, t.closed_at,
                       (SELECT count(*) FROM clues c WHERE c.themed_call_id = t.id)::int
                FROM themed_calls t
                WHERE \(includeClosed) OR (t.closed_at IS NULL AND t.opens_at <= \(now) AND (t.closes_at IS NULL OR t.closes_at > \(now)))
                ORDER BY t.opens_at DESC, t.id
                """)
            var calls: [ThemedCallView] = []
            for try await (id, title, description, opensAt, closesAt, closedAt, count) in rows.decode(
                (UUID, String, String, Date, Date?, Date?, Int).self)
            {
                let call = ThemedCall(
                    id: id, district: district, title: title, description: description, opensAt: opensAt, closesAt: closesAt, closedAt: closedAt)
                calls.append(
                    ThemedCallView(
                        id: id, district: district.rawValue, title: title, description: description, opensAt: opensAt,
                        closesAt: closesAt, closedAt: closedAt, open: call.isOpen(at: now), clueCount: count))
            }
            return calls
        }
    }

    /// Closes a call; closing a closed call changes nothing. Nil when the district has no such call.
    func close(_ id: UUID, in district: DistrictCode) async throws -> ThemedCallView? {
        try await database.transaction(.district(district)) { transaction in
            var closed = false
            for try await _ in try await transaction.query(
                "UPDATE themed_calls SET closed_at = now() WHERE id = \(id) AND closed_at IS NULL RETURNING id"
            ) { closed = true }
            if closed {
                try await AuditTrail.record("themed-call-closed", "themed-call", id.uuidString.lowercased(), district: district, in: transaction)
            }
        }
        return try await calls(in: district, includeClosed: true).first { $0.id == id }
    }

    struct DistrictView: Codable, Sendable, Hashable {
        var code: String
        var name: String
        var trackingPrefix: String
        var publicSubmission: Bool
    }

    func districts() async throws -> [DistrictView] {
        try await database.transaction(.none) { transaction in
            let rows = try await transaction.query(
                """
                SELECT code, name, coalesce(tracking_prefix, upper(code)), public_submission FROM districts ORDER BY code
                """)
            var districts: [DistrictView] = []
            for try await (code, name, prefix, open) in rows.decode((String, String, String, Bool).self) {
                districts.append(DistrictView(code: code, name: name, trackingPrefix: prefix, publicSubmission: open))
            }
            return districts
        }
    }

    func district(_ code: DistrictCode) async throws -> DistrictView? {
        try await districts().first { $0.code == code.rawValue }
    }

    struct ChannelView: Codable, Sendable, Hashable {
        var code: String
        var name: String
    }

    func channels() async throws -> [ChannelView] {
        try await database.transaction(.none) { transaction in
            let rows = try await transaction.query("SELECT code, name FROM channels WHERE enabled ORDER BY code")
            var channels: [ChannelView] = []
            for try await (code, name) in rows.decode((String, String).self) { channels.append(ChannelView(code: code, name: name)) }
            return channels
        }
    }
}
