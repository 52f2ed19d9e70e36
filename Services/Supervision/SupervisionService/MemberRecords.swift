import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// A clue on a member's record page: what it was and what became of it.
struct RecordedClue: Codable, Sendable {
    var trackingNumber: String
    var title: String
    var receivedOn: LocalDate
    var route: String?
    var topicClaimed: Bool
    var filed: Bool
}

/// One entry's record with the clues behind its figures.
struct MemberRecordPage: Codable, Sendable {
    var entry: RegisterEntry
    var record: PerformanceRecord
    var clues: [RecordedClue]
}

/// Performance records (履职档案) of the register's members and studios: facts read from the
/// store in a few queries for the whole district, counted by `PerformanceRecords`.
struct MemberRecords: Sendable {
    let database: Database

    /// Every entry's record for the period, in the register's order.
    func records(of district: DistrictCode, period: ClosedRange<LocalDate>) async throws -> [PerformanceRecord] {
        try await database.transaction(.district(district)) { transaction in
            let zone = try await Timers.settings(of: district, in: transaction).timeZone
            let facts = try await Self.facts(codes: nil, period: period, zone: zone, in: transaction)
            return try await RegisterEntries.all(in: transaction).map {
                PerformanceRecords.record(of: $0, facts: facts.byCode[$0.code] ?? PerformanceFacts(), period: period)
            }
        }
    }

    /// One entry's record and its clues; nil when the district has no such entry.
    func record(of code: String, in district: DistrictCode, period: ClosedRange<LocalDate>) async throws -> MemberRecordPage? {
        try await database.transaction(.district(district)) { transaction in
            guard let entry = try await RegisterEntries.all(in: transaction).first(where: { $0.code == code }) else { return nil }
            let zone = try await Timers.settings(of: district, in: transaction).timeZone
            let facts = try await Self.facts(codes: [code], period: period, zone: zone, in: transaction)
            return MemberRecordPage(
                entry: entry, record: PerformanceRecords.record(of: entry, facts: facts.byCode[code] ?? PerformanceFacts(), period: period),
                clues: facts.clues)
        }
    }

    /// The facts of every entry (or of `codes`) from the period's first day on: clues credited to
    /// them (a studio's include its members' clues for it), and through the accounts linked to
    /// them, topics claimed, proposals drafted, meetings attended and evaluations.
    static func facts(codes: [String]?, period: ClosedRange<LocalDate>, zone: String, in transaction: Transaction)
        async throws -> (byCode: [String: PerformanceFacts], clues: [RecordedClue])
    {
        let from = period.lowerBound.description, to = period.upperBound.description
        // Every code when nil: `codes` filters on `code = ANY(...)` only when given.
        let all = codes == nil
        let wanted = codes ?? []
        var byCode: [String: PerformanceFacts] = [:]
        var listed: [RecordedClue] = []
        func day(_ text: String?) -> LocalDate? { text.flatMap(LocalDate.init) }

        let clues = try await transaction.query(
            """
            SELECT credit.code, c.tracking_number, c.title, to_char((c.received_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD'), t.route,
                   EXISTS (SELECT 1 FROM topic_claims k WHERE k.topic_id = t.topic_id),
                   EXISTS (SELECT 1 FROM proposals p WHERE p.case_number IS NOT NULL
                           AND (p.id = t.proposal_id OR c.id = ANY(p.clue_ids) OR (t.topic_id IS NOT NULL AND p.topic_id = t.topic_id)))
            FROM clues c
            CROSS JOIN LATERAL (SELECT DISTINCT code FROM unnest(ARRAY[c.receiver_code, c.receiver_studio_code]) AS u(code) WHERE code IS NOT NULL) credit
            LEFT JOIN triage_clues t ON t.clue_id = c.id
            WHERE c.receiver_code IS NOT NULL AND (\(all) OR credit.code = ANY(\(wanted)::text[]))
              AND (c.received_at AT TIME ZONE \(zone))::date BETWEEN \(from)::date AND \(to)::date
            ORDER BY c.received_at, c.tracking_number
            """)
        for try await (code, number, title, received, route, claimed, filed) in clues.decode(
            (String, String, String, String, String?, Bool, Bool).self)
        {
            guard let receivedOn = day(received) else { continue }
            let kind = route.flatMap(ClueRoute.Kind.init(rawValue:))
            byCode[code, default: PerformanceFacts()].clues.append(.init(receivedOn: receivedOn, route: kind, topicClaimed: claimed, filed: filed))
            if codes?.contains(code) == true {
                listed.append(
                    RecordedClue(trackingNumber: number, title: title, receivedOn: receivedOn, route: route, topicClaimed: claimed, filed: filed))
            }
        }

        // The work done through the accounts linked to an entry.
        let accounts = "SELECT login, register_code AS code FROM accounts WHERE register_code IS NOT NULL"
        let claims = try await transaction.query(
            """
            SELECT a.code, to_char((k.claimed_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD')
            FROM topic_claims k JOIN (\(unescaped: accounts)) a ON a.login = k.claimant
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[])) AND k.claimed_at >= \(from)::date - 1
            """)
        for try await (code, claimed) in claims.decode((String, String).self) {
            if let on = day(claimed) { byCode[code, default: PerformanceFacts()].topicClaims.append(on) }
        }
        let drafts = try await transaction.query(
            """
            SELECT a.code, to_char((p.created_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD'),
                   CASE WHEN p.case_number IS NOT NULL THEN to_char((p.reviewed_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD') END
            FROM proposals p JOIN (\(unescaped: accounts)) a ON a.login = p.drafted_by
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[]))
            """)
        for try await (code, drafted, filed) in drafts.decode((String, String, String?).self) {
            if let on = day(drafted) { byCode[code, default: PerformanceFacts()].drafts.append(.init(draftedOn: on, filedOn: day(filed))) }
        }
        // 三见面 on the entry's own proposals whose attendees name the member.
        let meetings = try await transaction.query(
            """
            SELECT a.code, to_char(m.held_on, 'YYYY-MM-DD')
            FROM handling_meetings m
            JOIN supervised_assignments s ON s.assignment_id = m.assignment_id
            JOIN proposals p ON p.id = s.proposal_id
            JOIN (\(unescaped: accounts)) a ON a.login = p.drafted_by
            JOIN register_entries r ON r.code = a.code
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[])) AND strpos(m.attendees, r.name) > 0
            """)
        for try await (code, held) in meetings.decode((String, String).self) {
            if let on = day(held) { byCode[code, default: PerformanceFacts()].meetings.append(on) }
        }
        let evaluations = try await transaction.query(
            """
            SELECT a.code, to_char((e.evaluated_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD'), e.result
            FROM proposer_evaluations e
            JOIN proposals p ON p.id = e.proposal_id
            JOIN (\(unescaped: accounts)) a ON a.login = p.drafted_by
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[]))
            """)
        for try await (code, evaluated, result) in evaluations.decode((String, String, String).self) {
            if let on = day(evaluated), let result = Satisfaction(rawValue: result) {
                byCode[code, default: PerformanceFacts()].evaluations.append(.init(on: on, result: result))
            }
        }
        return (byCode, listed)
    }
}

extension SupervisionController {
    /// The period of a record: `from` and `to`, by default the current year.
    func period(_ query: [String: String], in district: DistrictCode) async throws -> ClosedRange<LocalDate> {
        let today = LocalDate.on(
            clock.now,
            in: try await database.transaction(.district(district)) {
                try await Timers.settings(of: district, in: $0).zone
            })
        let from = try query["from"].map { _ in try Self.date(query, "from") } ?? LocalDate(year: today.year, month: 1, day: 1)!
        let to = try query["to"].map { _ in try Self.date(query, "to") } ?? LocalDate(year: today.year, month: 12, day: 31)!
        guard from <= to else { throw APIError.badRequest("from must not be after to", field: "from") }
        guard from.days(until: to) <= 366 else { throw APIError.badRequest("a period is at most a year", field: "to") }
        return from...to
    }

    /// `GET /v1/supervision/members?from=&to=[&format=csv]`: every member's and studio's record.
    @Sendable func memberRecords(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let period = try await period(query, in: claims.district)
        let records = try await MemberRecords(database: database).records(of: claims.district, period: period)
        switch query["format"] ?? "json" {
        case "json": return try jsonResponse(["records": records])
        case "csv": return csvResponse(PerformanceRecords.csv(records), filename: "member-records-\(period.lowerBound)-\(period.upperBound).csv")
        default: throw APIError.badRequest("format must be json or csv", field: "format")
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
        guard let page = try await MemberRecords(database: database).record(of: code, in: claims.district, period: period) else {
            throw APIError.notFound
        }
        switch query["format"] ?? "json" {
        case "json": return try jsonResponse(page)
        case "csv":
            return csvResponse(PerformanceRecords.csv([page.record]), filename: "record-\(code)-\(period.lowerBound)-\(period.upperBound).csv")
        default: throw APIError.badRequest("format must be json or csv", field: "format")
        }
    }
}
