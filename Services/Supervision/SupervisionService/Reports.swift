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
struct Reports: Sendable {
    let database: Database

    /// Every tracked part (superseded rounds left out) assigned within the period.
    static func facts(from: LocalDate, to: LocalDate, zone: String, in transaction: Transaction) async throws -> [AssignmentRecordFacts] {
        let rows = try await transaction.query(
            """
            SELECT a.assignment_id, a.proposal_id, a.case_number, a.unit_id, a.unit_name, a.role,
                   to_char(a.assigned_on, 'YYYY-MM-DD'), to_char(a.deadline, 'YYYY-MM-DD'),
                   to_char((r.replied_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD'),
                   to_char((a.opinion_given_at AT TIME ZONE \(zone))::date, 'YYYY-MM-DD'), to_char(a.opinion_due, 'YYYY-MM-DD'),
                   coalesce((SELECT string_agg(DISTINCT m.stage, ',') FROM handling_meetings m WHERE m.assignment_id = a.assignment_id), ''),
                   a.satisfaction, a.rehandlings, a.extensions, coalesce(r.reviewed_category, r.category), a.is_key,
                   (SELECT f.result FROM follow_up_reviews f WHERE f.assignment_id = a.assignment_id AND f.result IS NOT NULL
                    ORDER BY f.promised DESC LIMIT 1)
            FROM supervised_assignments a
            LEFT JOIN LATERAL (
                SELECT replied_at, category, reviewed_category FROM replies WHERE assignment_id = a.assignment_id
                ORDER BY replied_at DESC LIMIT 1
            ) r ON true
            WHERE a.state <> \(SupervisedAssignmentState.superseded.rawValue) AND a.assigned_on BETWEEN \(from.description)::date AND \(to.description)::date
            """)
        var facts: [AssignmentRecordFacts] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            func day(_ index: Int) throws -> LocalDate? { try c[index].decode(String?.self).flatMap(LocalDate.init) }
            guard let assignedOn = try day(6), let deadline = try day(7) else { continue }
            let stages = try c[11].decode(String.self).split(separator: ",").compactMap { MeetingStage(rawValue: String($0)) }
            facts.append(
                AssignmentRecordFacts(
                    assignmentID: try c[0].decode(UUID.self), proposalID: try c[1].decode(UUID.self), caseNumber: try c[2].decode(String.self),
                    unitID: try c[3].decode(UUID.self), unitName: try c[4].decode(String.self),
                    role: Assignment.Role(rawValue: try c[5].decode(String.self)) ?? .lead, assignedOn: assignedOn, deadline: deadline,
                    repliedOn: try day(8), opinionGivenOn: try day(9), opinionDueOn: try day(10), meetings: Set(stages),
                    satisfaction: try c[12].decode(String?.self).flatMap(Satisfaction.init(rawValue:)),
                    rehandlings: try c[13].decode(Int.self), extensions: try c[14].decode(Int.self),
                    replyCategory: try c[15].decode(String?.self).flatMap(ReplyCategory.init(rawValue:)), isKey: try c[16].decode(Bool.self),
                    followUp: try c[17].decode(String?.self).flatMap(FollowUpResult.init(rawValue:))))
        }
        return facts
    }

    func evaluation(of district: DistrictCode, from: LocalDate, to: LocalDate) async throws -> EvaluationReport {
        guard from <= to else { throw APIError.badRequest("from must not be after to", field: "from") }
        guard from.days(until: to) <= 366 else { throw APIError.badRequest("a period is at most a year", field: "to") }
        return try await database.transaction(.district(district)) { transaction in
            let settings = try await Timers.settings(of: district, in: transaction)
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
            let settings = try await Timers.settings(of: district, in: transaction)
            var credits: [ClueCredit] = []
            for try await (code, studio, day) in try await transaction.query(
                """
                SELECT receiver_code, receiver_studio_code, to_char((received_at AT TIME ZONE \(settings.timeZone))::date, 'YYYY-MM-DD')
                FROM clues
                WHERE receiver_code IS NOT NULL AND received_at >= make_timestamptz(\(year)::int, 1, 1, 0, 0, 0, \(settings.timeZone))
                  AND received_at < make_timestamptz(\(year + 1)::int, 1, 1, 0, 0, 0, \(settings.timeZone))
                """
            ).decode((String, String?, String).self) {
                guard let date = LocalDate(day) else { continue }
                credits.append(ClueCredit(code: code, studio: studio, receivedOn: date))
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

extension SupervisionController {
    static func date(_ query: [String: String], _ name: String) throws -> LocalDate {
        guard let text = query[name] else { throw APIError.badRequest("\(name) is required (YYYY-MM-DD)", field: name) }
        guard let date = LocalDate(text) else { throw APIError.badRequest("\(name) must be a date as YYYY-MM-DD", field: name) }
        return date
    }

    /// `GET /v1/supervision/evaluation?from=2026-01-01&to=2026-12-31[&format=csv]`.
    @Sendable func evaluation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        let report = try await Reports(database: database).evaluation(
            of: claims.district, from: try Self.date(query, "from"), to: try Self.date(query, "to"))
        switch query["format"] ?? "json" {
        case "json":
            return try jsonResponse(report)
        case "csv":
            return csvResponse(UnitEvaluator.csv(report.units), filename: "unit-evaluation-\(report.from)-\(report.to).csv")
        default:
            throw APIError.badRequest("format must be json or csv", field: "format")
        }
    }

    /// `GET /v1/supervision/quotas?month=2026-11[&behind=true]`.
    @Sendable func quotas(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.queryValues
        guard let text = query["month"], let first = LocalDate(text + "-01") else {
            throw APIError.badRequest("month is required as YYYY-MM", field: "month")
        }
        var standings = try await Reports(database: database).quotas(of: claims.district, year: first.year, month: first.month)
        switch query["behind"] {
        case nil, "false": break
        case "true": standings = standings.filter { $0.shortfall > 0 }
        default: throw APIError.badRequest("behind must be true or false", field: "behind")
        }
        return try jsonResponse(["standings": standings])
    }

    /// `POST /v1/supervision/quotas/reminders?month=2026-11`: remind those behind, once per month.
    @Sendable func remindQuotas(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        guard let text = request.queryValues["month"], let first = LocalDate(text + "-01") else {
            throw APIError.badRequest("month is required as YYYY-MM", field: "month")
        }
        let reminded = try await Reports(database: database).remind(of: claims.district, year: first.year, month: first.month, now: clock.now)
        return try jsonResponse(["reminded": reminded])
    }
}

struct SupervisionActionInput: Decodable, Sendable {
    var kind: String?
    var heldOn: LocalDate?
    var participants: String?
    var summary: String?
}

struct SupervisionAction: Codable, Sendable {
    var id: UUID
    var proposalId: UUID
    var kind: String
    var heldOn: String
    var participants: String
    var summary: String
    var recordedAt: Date
    var recordedBy: String
}

/// Supervision activities on a proposal (五督办), recorded by the committee.
struct SupervisionActions: Sendable {
    let database: Database
    let clock: ServiceClock

    static let kinds = ["leader-led", "chairpersons-meeting", "special-committee", "sector-group", "media"]

    func record(_ proposal: UUID, _ input: SupervisionActionInput, by claims: StaffClaims) async throws -> SupervisionAction {
        guard let kind = input.kind else { throw APIError.invalid("kind", "is required (\(Self.kinds.joined(separator: ", ")))") }
        guard Self.kinds.contains(kind) else { throw APIError.invalid("kind", "must be one of \(Self.kinds.joined(separator: ", "))") }
        guard let heldOn = input.heldOn else { throw APIError.invalid("heldOn", "is required (YYYY-MM-DD)") }
        let participants = try FieldText.required(input.participants, "participants", limit: 1_000, multiline: true)
        let summary = try FieldText.required(input.summary, "summary", limit: 10_000, multiline: true)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            var known = false
            for try await _ in try await transaction.query("SELECT 1 FROM supervised_assignments WHERE proposal_id = \(proposal) LIMIT 1") {
                known = true
            }
            guard known else { throw APIError.notFound }
            let settings = try await Timers.settings(of: claims.district, in: transaction)
            guard heldOn <= LocalDate.on(now, in: settings.zone) else {
                throw APIError.invalid("heldOn", "\(heldOn) is in the future; record an activity once held")
            }
            let action = SupervisionAction(
                id: UUID(), proposalId: proposal, kind: kind, heldOn: heldOn.description, participants: participants,
                summary: summary, recordedAt: now, recordedBy: claims.subject)
            try await transaction.execute(
                """
                INSERT INTO supervision_actions (id, district, proposal_id, kind, held_on, participants, summary, recorded_at, recorded_by)
                VALUES (\(action.id), \(claims.district.rawValue), \(proposal), \(kind), \(heldOn.description)::date, \(participants),
                        \(summary), \(now), \(claims.subject))
                """)
            try await AuditTrail.record(
                "supervision-action", "proposal", proposal.uuidString.lowercased(), after: AuditTrail.json(action),
                district: claims.district, at: now, in: transaction)
            return action
        }
    }

    func list(_ proposal: UUID, in district: DistrictCode) async throws -> [SupervisionAction] {
        try await database.transaction(.district(district)) { transaction in
            var actions: [SupervisionAction] = []
            for try await (id, kind, heldOn, participants, summary, at, by) in try await transaction.query(
                """
                SELECT id, kind, to_char(held_on, 'YYYY-MM-DD'), participants, summary, recorded_at, recorded_by FROM supervision_actions
                WHERE proposal_id = \(proposal) ORDER BY held_on, recorded_at
                """
            ).decode((UUID, String, String, String, String, Date, String).self) {
                actions.append(
                    SupervisionAction(
                        id: id, proposalId: proposal, kind: kind, heldOn: heldOn, participants: participants,
                        summary: summary, recordedAt: at, recordedBy: by))
            }
            return actions
        }
    }
}

extension SupervisionController {
    @Sendable func recordAction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: SupervisionActionInput.self, context: context, limit: 64 * 1024)
        let action = try await SupervisionActions(database: database, clock: clock).record(try context.uuid(), input, by: try context.staffClaims())
        return try jsonResponse(action, status: .created)
    }

    @Sendable func listActions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        return try jsonResponse([
            "actions": try await SupervisionActions(database: database, clock: clock).list(try context.uuid(), in: claims.district)
        ])
    }
}
