import Crypto
import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

struct EvaluationInput: Decodable, Sendable {
    /// Through the proposer's link: which unit's handling (its assignment).
    var assignmentID: UUID?
    var result: String?
    var comment: String?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", result, comment
    }
}

struct ClosingInput: Decodable, Sendable {
    var reason: String?
}

struct EvaluationOutcome: Codable, Sendable {
    var assignmentID: UUID
    var result: String
    /// Set when dissatisfaction sent the unit's part back: its new deadline.
    var rehandlingDeadline: LocalDate?
    var proposalClosed: Bool

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", result, rehandlingDeadline, proposalClosed
    }
}

/// The proposer's evaluation of each unit's part (满意度): the lead unit's reply, a co-unit's
/// opinion; through the proposer's own link or entered by staff; dissatisfaction reopens handling with a new deadline; a proposal
/// closes once every reply is evaluated well, or by the committee's decision.
struct EvaluationRepository: Sendable {
    let database: Database
    let clock: ServiceClock
    let signer: StaffTokenSigner

    /// A new link for the proposer (the previous one stops working), delivered to the proposer by
    /// publicity (`EvaluationRequested`). Only its hash is kept; its secret derives from its id.
    func link(for proposal: UUID, by claims: StaffClaims) async throws -> IssuedLink {
        let linkID = UUID()
        let token = signer.evaluationLinkToken(for: linkID)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            try await ProposalStatuses.lock(proposal, in: transaction)
            var known = false
            for try await _ in try await transaction.query("SELECT 1 FROM supervised_assignments WHERE proposal_id = \(proposal) LIMIT 1") {
                known = true
            }
            guard known else { throw APIError.notFound }
            let settings = try await TimerRepository.settings(of: claims.district, in: transaction)
            let expiresOn = LocalDate.on(now, in: settings.zone).adding(days: settings.evaluationDays)
            let envelope = try EventEnvelope(
                EvaluationRequested(proposalID: proposal, linkID: linkID, expiresOn: expiresOn),
                district: claims.district, occurredAt: now)
            try await transaction.execute(
                """
                INSERT INTO evaluation_links (proposal_id, district, token_hash, created_at, link_id, request_event_id, expires_on, used_at)
                VALUES (\(proposal), \(claims.district.rawValue), \(Self.hash(token)), \(now), \(linkID), \(envelope.eventID),
                        \(expiresOn), NULL)
                ON CONFLICT (proposal_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at,
                    link_id = excluded.link_id, request_event_id = excluded.request_event_id, expires_on = excluded.expires_on, used_at = NULL
                """)
            try await Outbox.append(envelope, to: TopicCatalogue.supervisionEvents, key: proposal.uuidString, in: transaction)
            try await AuditTrail.record(
                "evaluation-link-issued", "proposal", proposal.uuidString.lowercased(),
                district: claims.district, at: now, in: transaction)
            return IssuedLink(
                proposalID: proposal, token: token, path: "/v1/supervision/evaluations/\(token)", expiresOn: expiresOn,
                requestEventID: envelope.eventID)
        }
    }

    struct IssuedLink: Codable, Sendable {
        var proposalID: UUID
        var token: String
        var path: String
        var expiresOn: LocalDate
        /// The event its delivery is notified under (publicity's notifications list it).
        var requestEventID: UUID

        /// The wire spells identifiers `…Id`.
        enum CodingKeys: String, CodingKey {
            case proposalID = "proposalId", token, path, expiresOn, requestEventID = "requestEventId"
        }
    }

    /// The proposal's current link: when it was issued, until when it works, and when the
    /// proposer first used it; nil when none was issued.
    struct LinkStatus: Codable, Sendable {
        var issuedAt: Date
        var expiresOn: LocalDate?
        var requestEventID: UUID?
        var usedAt: Date?

        /// The wire spells identifiers `…Id`.
        enum CodingKeys: String, CodingKey {
            case issuedAt, expiresOn, requestEventID = "requestEventId", usedAt
        }
    }

    static func status(of proposal: UUID, in transaction: Transaction) async throws -> LinkStatus? {
        let rows = try await transaction.query(
            """
            SELECT created_at, expires_on, request_event_id, used_at FROM evaluation_links WHERE proposal_id = \(proposal)
            """)
        for try await (issued, expires, event, used) in rows.decode((Date, LocalDate?, UUID?, Date?).self) {
            return LinkStatus(issuedAt: issued, expiresOn: expires, requestEventID: event, usedAt: used)
        }
        return nil
    }

    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    static func result(_ input: EvaluationInput) throws -> (Satisfaction, String) {
        let results = Satisfaction.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = input.result else { throw APIError.invalid("result", "is required (\(results))") }
        guard let result = Satisfaction(rawValue: text) else { throw APIError.invalid("result", "must be one of \(results)") }
        return (result, try FieldText.optional(input.comment, "comment", limit: 2_000, multiline: true) ?? "")
    }

    /// The proposal a link names, while it lasts: the district's evaluation window (`evaluationDays`)
    /// from the day it was made. Unknown is 404; expired is 410.
    func linked(_ token: String) async throws -> (proposal: UUID, district: DistrictCode) {
        let found = try await database.transaction(.allDistricts) { transaction -> (UUID, String, Date, LocalDate?)? in
            for try await row in try await transaction.query(
                "SELECT proposal_id, district, created_at, expires_on FROM evaluation_links WHERE token_hash = \(Self.hash(token))"
            ).decode((UUID, String, Date, LocalDate?).self) { return row }
            return nil
        }
        guard let (proposal, code, created, expires) = found, let district = DistrictCode(rawValue: code) else { throw APIError.notFound }
        let settings = try await database.transaction(.district(district)) { try await TimerRepository.settings(of: district, in: $0) }
        // Links issued before expiry was stored last the window from the day they were made.
        let lastDay = expires ?? LocalDate.on(created, in: settings.zone).adding(days: settings.evaluationDays)
        guard LocalDate.on(clock.now, in: settings.zone) <= lastDay else {
            throw APIError(.gone, code: "link-expired", message: "this evaluation link expired on \(lastDay); ask the committee for a new one")
        }
        return (proposal, district)
    }

    struct LinkedPart: Codable, Sendable {
        var assignmentID: UUID
        var unitName: String
        var role: String
        /// The lead unit's reply or the co-unit's opinion, the latest.
        var text: String?
        var category: String?
        var repliedAt: Date?
        /// The proposer's answer to this reply, once given.
        var evaluated: String?
        var open: Bool

        /// The wire spells identifiers `…Id`.
        enum CodingKeys: String, CodingKey {
            case assignmentID = "assignmentId", unitName, role, text, category, repliedAt, evaluated, open
        }
    }

    struct LinkedProposal: Codable, Sendable {
        var caseNumber: String
        var title: String
        var parts: [LinkedPart]
    }

    /// What the proposer's page shows: each unit's part, what it said, and whether it waits for an answer.
    func form(token: String) async throws -> LinkedProposal {
        let (proposal, district) = try await linked(token)
        return try await database.transaction(.district(district)) { transaction in
            var title = ""
            for try await value in try await transaction.query("SELECT title FROM proposals WHERE id = \(proposal)").decode(String.self) {
                title = value
            }
            var caseNumber = ""
            var parts: [LinkedPart] = []
            let rows = try await transaction.query(
                """
                SELECT a.assignment_id, a.case_number, a.unit_name, a.role, a.state, a.replied_at,
                       CASE WHEN a.role = 'lead'
                            THEN (SELECT r.text FROM replies r WHERE r.assignment_id = a.assignment_id ORDER BY r.replied_at DESC LIMIT 1)
                            ELSE (SELECT o.text FROM co_unit_opinions o WHERE o.assignment_id = a.assignment_id ORDER BY o.given_at DESC LIMIT 1) END,
                       (SELECT coalesce(r.reviewed_category, r.category) FROM replies r WHERE r.assignment_id = a.assignment_id
                        ORDER BY r.replied_at DESC LIMIT 1),
                       (SELECT e.result FROM proposer_evaluations e WHERE e.assignment_id = a.assignment_id AND e.evaluated_at >= a.replied_at
                        ORDER BY e.evaluated_at DESC LIMIT 1)
                FROM supervised_assignments a
                WHERE a.proposal_id = \(proposal) AND a.state <> \(SupervisedAssignmentState.superseded.rawValue)
                ORDER BY a.role = 'lead' DESC, a.unit_name
                """)
            for try await (id, number, unit, role, state, repliedAt, text, category, evaluated)
                in rows.decode((UUID, String, String, String, String, Date?, String?, String?, String?).self)
            {
                caseNumber = number
                parts.append(
                    LinkedPart(
                        assignmentID: id, unitName: unit, role: role, text: text, category: category, repliedAt: repliedAt,
                        evaluated: evaluated, open: state == SupervisedAssignmentState.replied.rawValue && evaluated == nil))
            }
            return LinkedProposal(caseNumber: caseNumber, title: title, parts: parts)
        }
    }

    /// Through the proposer's link: the token names the proposal; the assignment must be one of it.
    func evaluate(token: String, _ input: EvaluationInput) async throws -> EvaluationOutcome {
        let (result, comment) = try Self.result(input)
        guard let assignment = input.assignmentID else { throw APIError.invalid("assignmentId", "is required: which unit's reply") }
        let (proposal, district) = try await linked(token)
        return try await record(
            assignment, of: proposal, result: result, comment: comment, byProposer: true, enteredBy: "proposer", district: district)
    }

    /// Entered by staff on the proposer's behalf (a call, a visit).
    func evaluate(assignment: UUID, _ input: EvaluationInput, by claims: StaffClaims) async throws -> EvaluationOutcome {
        let (result, comment) = try Self.result(input)
        return try await record(
            assignment, of: nil, result: result, comment: comment, byProposer: false, enteredBy: claims.subject, district: claims.district)
    }

    private func record(
        _ id: UUID, of proposal: UUID?, result: Satisfaction, comment: String, byProposer: Bool, enteredBy: String, district: DistrictCode
    ) async throws -> EvaluationOutcome {
        let now = clock.now
        return try await database.transaction(.district(district)) { transaction in
            guard let assignment = try await HandlingRepository.load(id, unit: nil, forUpdate: true, in: transaction),
                proposal == nil || assignment.proposal == proposal
            else { throw APIError.notFound }
            guard assignment.state == .replied else {
                throw APIError(.conflict, code: "refused", message: "the assignment is \(assignment.state.rawValue); only a reply is evaluated")
            }
            // Each reply is evaluated once.
            for try await _ in try await transaction.query(
                """
                SELECT 1 FROM proposer_evaluations e JOIN supervised_assignments a ON a.assignment_id = e.assignment_id
                WHERE e.assignment_id = \(id) AND e.evaluated_at >= a.replied_at LIMIT 1
                """)
            {
                throw APIError(.conflict, code: "already-evaluated", message: "this reply has been evaluated already")
            }
            let settings = try await TimerRepository.settings(of: district, in: transaction)
            let today = LocalDate.on(now, in: settings.zone)
            try await transaction.execute(
                """
                INSERT INTO proposer_evaluations (id, district, assignment_id, proposal_id, result, comment, by_proposer, entered_by, evaluated_at)
                VALUES (\(UUID()), \(district.rawValue), \(id), \(assignment.proposal), \(result.rawValue), \(comment), \(byProposer),
                        \(enteredBy), \(now))
                """)
            if byProposer {
                try await transaction.execute(
                    "UPDATE evaluation_links SET used_at = \(now) WHERE proposal_id = \(assignment.proposal) AND used_at IS NULL")
            }
            var events = [
                try Outbox.Row(
                    AssignmentEvaluated(
                        assignmentID: id, proposalID: assignment.proposal, unitID: assignment.unit, result: result, byProposer: byProposer),
                    district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: assignment.proposal.uuidString)
            ]
            var outcome = EvaluationOutcome(assignmentID: id, result: result.rawValue, rehandlingDeadline: nil, proposalClosed: false)
            if result == .dissatisfied {
                // Handled again, with a deadline of its own and the reminders and escalation anew.
                let calendar = try await HolidayCalendars.load(in: transaction)
                let deadline = DeadlineRule(amount: settings.rehandlingDays, unit: .calendarDays).deadline(from: today, calendar: calendar)
                var rehandling = 0
                // A co-unit gives a new opinion to the lead unit by the new deadline's day before.
                let opinionDue =
                    assignment.role == .coHandling
                    ? HandlingRules.opinionDue(assignedOn: today, deadline: deadline, days: settings.coUnitOpinionDays) : nil
                for try await count in try await transaction.query(
                    """
                    UPDATE supervised_assignments SET state = \(SupervisedAssignmentState.handling.rawValue), satisfaction = 'dissatisfied', rehandlings = rehandlings + 1,
                           deadline = \(deadline), escalation_level = NULL, updated_at = \(now),
                           opinion_given_at = CASE WHEN role = 'co-handling' THEN NULL ELSE opinion_given_at END,
                           opinion_due = coalesce(\(opinionDue)::date, opinion_due)
                    WHERE assignment_id = \(id) RETURNING rehandlings
                    """
                ).decode(Int.self) { rehandling = count }
                try await ProposalStatuses.move(assignment.proposal, by: enteredBy, at: now, in: transaction) { status in
                    status == .replied ? .evaluateDissatisfied : nil
                }
                try await TimerRepository.cancelDeadlineTimers(of: id, at: now, in: transaction)
                try await TimerRepository.plan(
                    assignment: id, proposal: assignment.proposal, deadline: deadline, today: today, settings: settings,
                    district: district, in: transaction)
                events.append(
                    try Outbox.Row(
                        AssignmentReopened(
                            assignmentID: id, proposalID: assignment.proposal, unitID: assignment.unit, deadline: deadline, rehandling: rehandling),
                        district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: assignment.proposal.uuidString))
                outcome.rehandlingDeadline = deadline
            } else {
                try await transaction.execute(
                    """
                    UPDATE supervised_assignments SET satisfaction = \(result.rawValue), updated_at = \(now) WHERE assignment_id = \(id)
                    """)
                if try await Self.waitingFor(assignment.proposal, today: today, settings: settings, in: transaction) == nil {
                    try await ProposalStatuses.move(assignment.proposal, by: enteredBy, at: now, in: transaction) { status in
                        status == .replied ? .evaluateSatisfied : nil
                    }
                    events.append(
                        try await Self.close(
                            assignment.proposal, byDecision: false, reason: "every reply evaluated",
                            by: enteredBy, now: now, district: district, in: transaction))
                    outcome.proposalClosed = true
                }
            }
            try await Outbox.append(events, in: transaction)
            try await AuditTrail.record(
                "evaluation-entered", "assignment", id.uuidString.lowercased(),
                after: AuditTrail.json(["result": result.rawValue, "byProposer": String(byProposer)]),
                district: district, at: now, in: transaction)
            return outcome
        }
    }

    /// What the proposal still waits for before it may close; nil when nothing. Lead units'
    /// replies count, and co-units only once the proposer sent their part back.
    static func waitingFor(_ proposal: UUID, today: LocalDate, settings: SupervisionSettings, in transaction: Transaction) async throws -> String? {
        var leads: [ClosingRules.LeadPart] = []
        for try await (name, state, satisfaction, replied) in try await transaction.query(
            """
            SELECT unit_name, state, satisfaction, (replied_at AT TIME ZONE \(settings.timeZone))::date
            FROM supervised_assignments
            WHERE proposal_id = \(proposal) AND state <> \(SupervisedAssignmentState.superseded.rawValue) AND (role = 'lead' OR satisfaction = 'dissatisfied')
            """
        ).decode((String, String, String?, LocalDate?).self) {
            leads.append(
                ClosingRules.LeadPart(
                    unitName: name, replied: state == SupervisedAssignmentState.replied.rawValue,
                    satisfaction: satisfaction.flatMap(Satisfaction.init(rawValue:)),
                    evaluationEnds: replied?.adding(days: settings.evaluationDays)))
        }
        return ClosingRules.waitingFor(leads, today: today)
    }

    static func isClosed(_ proposal: UUID, in transaction: Transaction) async throws -> Bool {
        for try await _ in try await transaction.query("SELECT 1 FROM proposal_closures WHERE proposal_id = \(proposal)") { return true }
        return false
    }

    /// Closes the proposal: its parts closed, every unfired timer cancelled but the follow-up
    /// reviews a B reply promised (回头看 comes after closing); returns the event.
    static func close(
        _ proposal: UUID, byDecision: Bool, reason: String, by actor: String, now: Date, district: DistrictCode, in transaction: Transaction
    ) async throws -> Outbox.Row {
        try await transaction.execute(
            """
            INSERT INTO proposal_closures (proposal_id, district, closed_at, closed_by, by_decision, reason)
            VALUES (\(proposal), \(district.rawValue), \(now), \(actor), \(byDecision), \(reason))
            """)
        try await transaction.execute(
            """
            UPDATE supervised_assignments SET state = \(SupervisedAssignmentState.closed.rawValue), updated_at = \(now)
            WHERE proposal_id = \(proposal) AND state <> \(SupervisedAssignmentState.superseded.rawValue)
            """)
        try await transaction.execute(
            """
            UPDATE supervision_timers SET cancelled_at = \(now)
            WHERE proposal_id = \(proposal) AND fired_at IS NULL AND cancelled_at IS NULL AND kind <> \(TimerKind.followUp.rawValue)
            """)
        try await ProposalStatuses.apply(byDecision ? .closeByDecision : .close, to: proposal, by: actor, at: now, in: transaction)
        return try Outbox.Row(
            ProposalClosed(proposalID: proposal, byDecision: byDecision, reason: reason),
            district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: proposal.uuidString)
    }

    /// The committee closes a proposal with a reason, whatever it still waits for.
    func close(_ proposal: UUID, _ input: ClosingInput, by claims: StaffClaims) async throws -> [String: String] {
        let reason = try FieldText.required(input.reason, "reason", limit: 2_000, multiline: true)
        let now = clock.now
        return try await database.transaction(.district(claims.district)) { transaction in
            try await ProposalStatuses.lock(proposal, in: transaction)
            var known = false
            for try await _ in try await transaction.query(
                "SELECT 1 FROM supervised_assignments WHERE proposal_id = \(proposal) FOR UPDATE"
            ) { known = true }
            guard known else { throw APIError.notFound }
            for try await _ in try await transaction.query("SELECT 1 FROM proposal_closures WHERE proposal_id = \(proposal)") {
                throw APIError(.conflict, code: "refused", message: "the proposal is closed already")
            }
            let event = try await Self.close(
                proposal, byDecision: true, reason: reason, by: claims.subject, now: now,
                district: claims.district, in: transaction)
            try await AuditTrail.record(
                "proposal-closed", "proposal", proposal.uuidString.lowercased(),
                after: AuditTrail.json(["reason": reason]), district: claims.district, at: now, in: transaction)
            try await Outbox.append([event], in: transaction)
            return ["proposalId": proposal.uuidString, "state": ProposalStatus.closed.rawValue]
        }
    }
}
