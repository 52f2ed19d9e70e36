import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

struct EvaluationReport: Codable, Sendable {
    var from: LocalDate
    var to: LocalDate
    var weights: EvaluationWeights
    var units: [UnitEvaluation]
    var commendations: Commendations
}

/// The year-end evaluation of handling units (考核) and the clue quotas, computed by the pure
/// functions of `Models` from facts read out of the store: the same store gives the same figures.
struct ReportRepository: Sendable {
    let database: Database

    /// Every tracked part (superseded rounds left out) assigned within the period.
    static func facts(from: LocalDate, to: LocalDate, zone: String, in transaction: Transaction) async throws -> [AssignmentRecordFacts] {
        let rows = try await transaction.query(
            """
            SELECT a.assignment_id, a.proposal_id, a.case_number, a.unit_id, a.unit_name, a.role,
                   a.assigned_on, a.deadline, (r.replied_at AT TIME ZONE \(zone))::date,
                   (a.opinion_given_at AT TIME ZONE \(zone))::date, a.opinion_due,
                   coalesce((SELECT string_agg(DISTINCT m.stage, ',') FROM handling_meetings m WHERE m.assignment_id = a.assignment_id), ''),
                   a.satisfaction, a.rehandlings, a.extensions, coalesce(r.reviewed_category, r.category), a.is_key,
                   (SELECT f.result FROM follow_up_reviews f WHERE f.assignment_id = a.assignment_id AND f.result IS NOT NULL
                    ORDER BY f.promised DESC LIMIT 1)
            FROM supervised_assignments a
            LEFT JOIN LATERAL (
                SELECT replied_at, category, reviewed_category FROM replies WHERE assignment_id = a.assignment_id
                ORDER BY replied_at DESC LIMIT 1
            ) r ON true
            WHERE a.state <> \(SupervisedAssignmentState.superseded.rawValue) AND a.assigned_on BETWEEN \(from) AND \(to)
            """)
        var facts: [AssignmentRecordFacts] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            func day(_ index: Int) throws -> LocalDate? { try c[index].decode(LocalDate?.self) }
            let stages = try c[11].decode(String.self).split(separator: ",").compactMap { MeetingStage(rawValue: String($0)) }
            facts.append(
                AssignmentRecordFacts(
                    assignmentID: try c[0].decode(UUID.self), proposalID: try c[1].decode(UUID.self), caseNumber: try c[2].decode(String.self),
                    unitID: try c[3].decode(UUID.self), unitName: try c[4].decode(String.self),
                    role: Assignment.Role(rawValue: try c[5].decode(String.self)) ?? .lead, assignedOn: try c[6].decode(LocalDate.self),
                    deadline: try c[7].decode(LocalDate.self),
                    repliedOn: try day(8), opinionGivenOn: try day(9), opinionDueOn: try day(10), meetings: Set(stages),
                    satisfaction: try c[12].decode(String?.self).flatMap(Satisfaction.init(rawValue:)),
                    rehandlings: try c[13].decode(Int.self), extensions: try c[14].decode(Int.self),
                    replyCategory: try c[15].decode(String?.self).flatMap(ReplyCategory.init(rawValue:)), isKey: try c[16].decode(Bool.self),
                    followUp: try c[17].decode(String?.self).flatMap(FollowUpResult.init(rawValue:))))
        }
        return facts
    }

    func evaluation(of district: DistrictCode, from: LocalDate, to: LocalDate) async throws -> EvaluationReport {
        guard from <= to else { throw APIError.invalid("from", "from must not be after to") }
        guard from.days(until: to) <= 366 else { throw APIError.invalid("to", "a period is at most a year") }
        return try await database.transaction(.district(district)) { transaction in
            let settings = try await TimerRepository.settings(of: district, in: transaction)
            let facts = try await Self.facts(from: from, to: to, zone: settings.timeZone, in: transaction)
            let units = UnitEvaluator.evaluate(facts, period: from...to, weights: settings.evaluationWeights)
            return EvaluationReport(
                from: from, to: to, weights: settings.evaluationWeights, units: units,
                commendations: UnitEvaluator.commendations(units, facts: facts, period: from...to))
        }
    }

    /// Every studio's clues in the month and every member's in the year up to it, counted by the
    /// register entry each clue was credited to, against the district's quotas.
    func quotas(of district: DistrictCode, year: Int, month: Int) async throws -> [QuotaStanding] {
        try await database.transaction(.district(district)) { transaction in
            let settings = try await TimerRepository.settings(of: district, in: transaction)
            var credits: [ClueCredit] = []
            for try await (code, studio, day) in try await transaction.query(
                """
                SELECT receiver_code, receiver_studio_code, (received_at AT TIME ZONE \(settings.timeZone))::date
                FROM clues
                WHERE receiver_code IS NOT NULL AND received_at >= make_timestamptz(\(year)::int, 1, 1, 0, 0, 0, \(settings.timeZone))
                  AND received_at < make_timestamptz(\(year + 1)::int, 1, 1, 0, 0, 0, \(settings.timeZone))
                """
            ).decode((String, String?, LocalDate).self) {
                credits.append(ClueCredit(code: code, studio: studio, receivedOn: day))
            }
            return QuotaCounter.standings(
                credits: credits, register: try await RegisterEntries.all(in: transaction), month: (year, month),
                rule: settings.quotas)
        }
    }

    /// Reminds everyone behind on `month`'s standings who was not reminded for that month yet:
    /// one `quota.reminder-due` each (publicity's notifications tell them).
    func remind(of district: DistrictCode, year: Int, month: Int, now: Date) async throws -> [QuotaStanding] {
        let label = String(format: "%04d-%02d", year, month)
        let behind = try await quotas(of: district, year: year, month: month).filter { $0.shortfall > 0 }
        guard !behind.isEmpty else { return [] }
        return try await database.transaction(.district(district)) { transaction in
            var sent: Set<String> = []
            for try await (kind, receiver) in try await transaction.query(
                """
                INSERT INTO quota_reminders (district, month, kind, receiver, shortfall, sent_at)
                SELECT \(district.rawValue), \(label), kind, receiver, shortfall, \(now)
                FROM unnest(\(behind.map(\.kind.rawValue))::text[], \(behind.map(\.code))::text[], \(behind.map(\.shortfall))::int[])
                     AS b(kind, receiver, shortfall)
                ON CONFLICT DO NOTHING
                RETURNING kind, receiver
                """
            ).decode((String, String).self) { sent.insert(kind + "\u{0}" + receiver) }
            let reminded = behind.filter { sent.contains($0.kind.rawValue + "\u{0}" + $0.code) }
            try await Outbox.append(
                try reminded.map { standing in
                    try Outbox.Row(
                        QuotaReminderDue(
                            receiver: standing.code, kind: standing.kind, month: label, period: standing.period,
                            count: standing.count, required: standing.required),
                        district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: standing.code)
                }, in: transaction)
            return reminded
        }
    }
}
