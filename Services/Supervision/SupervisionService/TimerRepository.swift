import Foundation
import Models
import PostgresNIO
import ServiceKit
import Storage

/// Supervision timers in PostgreSQL: planned when an assignment is tracked or its deadline
/// changes, fired by whichever instance claims them first. Public only for the scheduler pass
/// (`fireDue`), which ops/bench/supervision measures.
public enum TimerRepository {
    static let storedSettings = DistrictSettings<SupervisionSettings>(column: "supervision_settings", auditObject: "supervision-settings")

    static func settings(of district: DistrictCode, in transaction: Transaction) async throws -> SupervisionSettings {
        try await storedSettings.load(of: district, in: transaction)
    }

    /// Plans an assignment's reminders and escalation from its deadline.
    static func plan(
        assignment: UUID, proposal: UUID, deadline: LocalDate, today: LocalDate, settings: SupervisionSettings,
        district: DistrictCode, in transaction: Transaction
    ) async throws {
        try await insert(
            SupervisionSchedule.timers(deadline: deadline, today: today, settings: settings),
            assignment: assignment, proposal: proposal, district: district, in: transaction)
    }

    static func insert(
        _ timers: [PlannedTimer], assignment: UUID, proposal: UUID, district: DistrictCode, in transaction: Transaction
    ) async throws {
        guard !timers.isEmpty else { return }
        try await transaction.execute(
            """
            INSERT INTO supervision_timers (district, assignment_id, proposal_id, kind, step, day, due_at)
            SELECT \(district.rawValue), \(assignment), \(proposal), kind, step, day, due_at
            FROM unnest(\(timers.map(\.kind.rawValue))::text[], \(timers.map(\.step))::int[], \(timers.map(\.day))::date[],
                        \(timers.map(\.dueAt))::timestamptz[]) AS t(kind, step, day, due_at)
            """)
    }

    /// Cancels an assignment's unfired reminders and escalations (a new deadline, a reply).
    static func cancelDeadlineTimers(of assignment: UUID, at now: Date, in transaction: Transaction) async throws {
        try await transaction.execute(
            """
            UPDATE supervision_timers SET cancelled_at = \(now)
            WHERE assignment_id = \(assignment) AND kind IN ('reminder', 'escalation') AND fired_at IS NULL AND cancelled_at IS NULL
            """)
    }

    /// What a pass fired. Sendable by declaration: a public struct is not inferred to be, and
    /// each batch's count leaves its transaction.
    public struct Fired: Sendable {
        public var total = 0
        /// Those that did something (not moot).
        public var acted = 0
        /// Districts whose timers could not fire this pass, with the error; the next pass tries again.
        public var failed: [(district: DistrictCode, error: String)] = []
    }

    struct Due {
        var id: Int64
        var kind: TimerKind
        var step: Int
        var day: LocalDate
        var assignment: UUID
        var proposal: UUID
        var unit: UUID
        var caseNumber: String
        var unitName: String
        var deadline: LocalDate
        var state: SupervisedAssignmentState
        var supervisingLeader: String?
    }

    /// Fires every timer due at `now`, district by district, `batch` per transaction. A district
    /// that fails (its settings unreadable, say) is reported and skipped: the others still fire.
    ///
    /// Locks are taken in `ProposalStatuses`' order, the proposals' rows first, with SKIP LOCKED:
    /// a proposal a unit is replying to right now is left for the next pass, which then sees the
    /// reply (no escalation after it), and neither waits for the other.
    public static func fireDue(database: Database, now: Date, batch: Int) async throws -> Fired {
        let districts = try await database.transaction(.allDistricts) { transaction in
            var codes: [DistrictCode] = []
            for try await code in try await transaction.query(
                """
                SELECT DISTINCT district FROM supervision_timers WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= \(now)
                """
            ).decode(String.self) {
                if let code = DistrictCode(rawValue: code) { codes.append(code) }
            }
            return codes
        }
        var fired = Fired()
        for district in districts {
            do {
                while true {
                    let round = try await database.transaction(.district(district)) { transaction in
                        try await fireBatch(of: district, now: now, batch: batch, in: transaction)
                    }
                    fired.total += round.total
                    fired.acted += round.acted
                    if round.total == 0 { break }
                }
            } catch {
                fired.failed.append((district, String(describing: error)))
            }
        }
        return fired
    }

    static func fireBatch(
        of district: DistrictCode, now: Date, batch: Int, in transaction: Transaction
    ) async throws -> (total: Int, acted: Int) {
        // The proposals with due timers, locked first; those locked elsewhere wait for a pass.
        var proposals: [UUID] = []
        for try await proposal in try await transaction.query(
            """
            SELECT p.id FROM proposals p
            WHERE p.id IN (
                SELECT proposal_id FROM supervision_timers
                WHERE district = \(district.rawValue) AND fired_at IS NULL AND cancelled_at IS NULL AND due_at <= \(now)
                ORDER BY due_at LIMIT \(batch)
            )
            ORDER BY p.id
            FOR UPDATE SKIP LOCKED
            """
        ).decode(UUID.self) {
            proposals.append(proposal)
        }
        guard !proposals.isEmpty else { return (0, 0) }
        let rows = try await transaction.query(
            """
            SELECT t.id, t.kind, t.step, t.day, a.assignment_id, a.proposal_id, a.unit_id, a.case_number,
                   a.unit_name, a.deadline, a.state, a.supervising_leader
            FROM supervision_timers t JOIN supervised_assignments a ON a.assignment_id = t.assignment_id
            WHERE t.proposal_id = ANY(\(proposals)) AND t.fired_at IS NULL AND t.cancelled_at IS NULL AND t.due_at <= \(now)
            ORDER BY t.due_at, t.id
            FOR UPDATE OF t
            """)
        var due: [Due] = []
        for try await (id, kind, step, day, assignment, proposal, unit, caseNumber, unitName, deadline, state, leader)
            in rows.decode((Int64, String, Int, LocalDate, UUID, UUID, UUID, String, String, LocalDate, String, String?).self)
        {
            guard let kind = TimerKind(rawValue: kind), let state = SupervisedAssignmentState(rawValue: state)
            else { continue }
            due.append(
                Due(
                    id: id, kind: kind, step: step, day: day, assignment: assignment, proposal: proposal, unit: unit,
                    caseNumber: caseNumber, unitName: unitName, deadline: deadline, state: state, supervisingLeader: leader))
        }
        guard !due.isEmpty else { return (0, 0) }
        let settings = try await settings(of: district, in: transaction)
        let today = LocalDate.on(now, in: settings.zone)
        var outcomes: [String] = []
        var events: [Outbox.Row] = []
        // The highest level reached per assignment (several steps may fall due in one pass).
        var escalated: [UUID: String] = [:]
        var closed: Set<UUID> = []
        for timer in due {
            let key = timer.proposal.uuidString
            // Closed by an earlier timer of this pass: nothing more happens to it but its follow-up.
            if closed.contains(timer.proposal) && timer.kind != .followUp {
                outcomes.append("moot")
                continue
            }
            switch timer.kind {
            case .reminder where timer.state == .handling && today <= timer.deadline:
                outcomes.append("reminded")
                events.append(
                    try Outbox.Row(
                        ReminderDue(
                            assignmentID: timer.assignment, proposalID: timer.proposal, unitID: timer.unit, deadline: timer.deadline,
                            daysLeft: timer.day.days(until: timer.deadline)),
                        district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: key))
            case .escalation where timer.state == .handling:
                let ladder = settings.escalation
                let level = ladder.isEmpty ? EscalationLevel.reminder : ladder[min(timer.step, ladder.count - 1)].level
                outcomes.append("escalated:" + level.rawValue)
                escalated[timer.assignment] = level.rawValue
                events.append(
                    try Outbox.Row(
                        AssignmentEscalated(
                            assignmentID: timer.assignment, proposalID: timer.proposal, unitID: timer.unit,
                            deadline: timer.deadline, daysOverdue: timer.deadline.days(until: timer.day) - 1, level: level,
                            supervisingLeader: timer.supervisingLeader),
                        district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: key))
            case .followUp where timer.state == .replied || timer.state == .closed:
                // 回头看: the unit and the committee are asked for the result (FollowUpReviewRepository).
                outcomes.append("follow-up")
                try await FollowUpReviewRepository.ask(timer, district: district, now: now, in: transaction)
                events.append(
                    try Outbox.Row(
                        FollowUpDue(assignmentID: timer.assignment, proposalID: timer.proposal, unitID: timer.unit, promised: timer.day),
                        district: district, occurredAt: now, to: TopicCatalogue.supervisionEvents, key: key))
            case .evaluationWindow where timer.state == .replied:
                // Close the proposal if the window's end leaves it waiting for nothing else.
                let waiting = try await EvaluationRepository.waitingFor(timer.proposal, today: today, settings: settings, in: transaction)
                let alreadyClosed = try await EvaluationRepository.isClosed(timer.proposal, in: transaction)
                if waiting == nil && !alreadyClosed {
                    outcomes.append("closed")
                    closed.insert(timer.proposal)
                    events.append(
                        try await EvaluationRepository.close(
                            timer.proposal, byDecision: false, reason: "the proposer's evaluation window passed", by: "supervision-service",
                            now: now, district: district, in: transaction))
                } else {
                    outcomes.append("moot")
                }
            default:
                // Answered, superseded or closed meanwhile, or a reminder overtaken by its
                // deadline: nothing to do.
                outcomes.append("moot")
            }
        }
        try await transaction.execute(
            """
            UPDATE supervision_timers t SET fired_at = \(now), outcome = f.outcome
            FROM unnest(\(due.map(\.id))::bigint[], \(outcomes)::text[]) AS f(id, outcome)
            WHERE t.id = f.id
            """)
        if !escalated.isEmpty {
            try await transaction.execute(
                """
                UPDATE supervised_assignments a SET escalation_level = e.level, updated_at = \(now)
                FROM unnest(\(Array(escalated.keys))::uuid[], \(Array(escalated.values))::text[]) AS e(id, level)
                WHERE a.assignment_id = e.id
                """)
        }
        try await Outbox.append(events, in: transaction)
        return (due.count, events.count)
    }
}
