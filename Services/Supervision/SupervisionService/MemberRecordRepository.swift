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
struct MemberRecordRepository: Sendable {
    let database: Database

    /// Every entry's record for the period, in the register's order.
    func records(of district: DistrictCode, period: ClosedRange<LocalDate>) async throws -> [PerformanceRecord] {
        try await database.transaction(.district(district)) { transaction in
            let zone = try await TimerRepository.settings(of: district, in: transaction).timeZone
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
            let zone = try await TimerRepository.settings(of: district, in: transaction).timeZone
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
        let (from, to) = (period.lowerBound, period.upperBound)
        // Every code when nil: `codes` filters on `code = ANY(...)` only when given.
        let all = codes == nil
        let wanted = codes ?? []
        var byCode: [String: PerformanceFacts] = [:]
        var listed: [RecordedClue] = []
        let clues = try await transaction.query(
            """
            SELECT credit.code, c.tracking_number, c.title, (c.received_at AT TIME ZONE \(zone))::date, t.route,
                   EXISTS (SELECT 1 FROM topic_claims k WHERE k.topic_id = t.topic_id),
                   EXISTS (SELECT 1 FROM proposals p WHERE p.case_number IS NOT NULL
                           AND (p.id = t.proposal_id OR c.id = ANY(p.clue_ids) OR (t.topic_id IS NOT NULL AND p.topic_id = t.topic_id)))
            FROM clues c
            CROSS JOIN LATERAL (SELECT DISTINCT code FROM unnest(ARRAY[c.receiver_code, c.receiver_studio_code]) AS u(code) WHERE code IS NOT NULL) credit
            LEFT JOIN triage_clues t ON t.clue_id = c.id
            WHERE c.receiver_code IS NOT NULL AND (\(all) OR credit.code = ANY(\(wanted)::text[]))
              AND (c.received_at AT TIME ZONE \(zone))::date BETWEEN \(from) AND \(to)
            ORDER BY c.received_at, c.tracking_number
            """)
        for try await (code, number, title, receivedOn, route, claimed, filed) in clues.decode(
            (String, String, String, LocalDate, String?, Bool, Bool).self)
        {
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
            SELECT a.code, (k.claimed_at AT TIME ZONE \(zone))::date
            FROM topic_claims k JOIN (\(unescaped: accounts)) a ON a.login = k.claimant
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[])) AND k.claimed_at >= \(from) - 1
            """)
        for try await (code, claimed) in claims.decode((String, LocalDate).self) {
            byCode[code, default: PerformanceFacts()].topicClaims.append(claimed)
        }
        let drafts = try await transaction.query(
            """
            SELECT a.code, (p.created_at AT TIME ZONE \(zone))::date,
                   CASE WHEN p.case_number IS NOT NULL THEN (p.reviewed_at AT TIME ZONE \(zone))::date END
            FROM proposals p JOIN (\(unescaped: accounts)) a ON a.login = p.drafted_by
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[]))
            """)
        for try await (code, drafted, filed) in drafts.decode((String, LocalDate, LocalDate?).self) {
            byCode[code, default: PerformanceFacts()].drafts.append(.init(draftedOn: drafted, filedOn: filed))
        }
        // 三见面 on the entry's own proposals whose attendees name the member.
        let meetings = try await transaction.query(
            """
            SELECT a.code, m.held_on
            FROM handling_meetings m
            JOIN supervised_assignments s ON s.assignment_id = m.assignment_id
            JOIN proposals p ON p.id = s.proposal_id
            JOIN (\(unescaped: accounts)) a ON a.login = p.drafted_by
            JOIN register_entries r ON r.code = a.code
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[])) AND strpos(m.attendees, r.name) > 0
            """)
        for try await (code, held) in meetings.decode((String, LocalDate).self) {
            byCode[code, default: PerformanceFacts()].meetings.append(held)
        }
        let evaluations = try await transaction.query(
            """
            SELECT a.code, (e.evaluated_at AT TIME ZONE \(zone))::date, e.result
            FROM proposer_evaluations e
            JOIN proposals p ON p.id = e.proposal_id
            JOIN (\(unescaped: accounts)) a ON a.login = p.drafted_by
            WHERE (\(all) OR a.code = ANY(\(wanted)::text[]))
            """)
        for try await (code, evaluated, result) in evaluations.decode((String, LocalDate, String).self) {
            if let result = Satisfaction(rawValue: result) {
                byCode[code, default: PerformanceFacts()].evaluations.append(.init(on: evaluated, result: result))
            }
        }
        return (byCode, listed)
    }
}
