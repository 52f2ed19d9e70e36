import Foundation

/// How a district supervises handling (督办): when units are reminded before a deadline, the
/// ladder an overdue assignment climbs, and the hour timers fire. Stored as JSON in
/// `districts.supervision_settings`; a missing key keeps its default.
public struct SupervisionSettings: Codable, Sendable, Hashable {
    /// Days before the deadline a reminder goes out (e.g. 7 and 1).
    public var reminderDaysBefore = [7, 1]
    /// The steps of escalation, by days overdue (0: the first day after the deadline).
    public var escalation: [EscalationStep] = [
        EscalationStep(daysOverdue: 0, level: .reminder),
        EscalationStep(daysOverdue: 3, level: .formalNotice),
        EscalationStep(daysOverdue: 10, level: .supervisingLeader),
        EscalationStep(daysOverdue: 20, level: .chairpersonsMeeting),
    ]
    /// The local hour at which a day's timers are due (office hours, not midnight).
    public var fireHour = 9
    /// Days after assignment a co-unit has to give the lead unit its opinion.
    public var coUnitOpinionDays = 15
    /// Days a unit has to handle again after the proposer was dissatisfied (重新办理).
    public var rehandlingDays = 30
    /// Days after a reply the proposer has to evaluate it; after that the proposal may close without.
    public var evaluationDays = 30
    /// How the units' evaluation (考核) weighs its rates.
    public var evaluationWeights = EvaluationWeights()
    /// Studios' monthly and members' yearly clue quotas.
    public var quotas = QuotaRule()
    public var timeZone = "Asia/Shanghai"

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SupervisionSettings()
        reminderDaysBefore = try container.decodeIfPresent([Int].self, forKey: .reminderDaysBefore) ?? defaults.reminderDaysBefore
        escalation = try container.decodeIfPresent([EscalationStep].self, forKey: .escalation) ?? defaults.escalation
        fireHour = try container.decodeIfPresent(Int.self, forKey: .fireHour) ?? defaults.fireHour
        coUnitOpinionDays = try container.decodeIfPresent(Int.self, forKey: .coUnitOpinionDays) ?? defaults.coUnitOpinionDays
        rehandlingDays = try container.decodeIfPresent(Int.self, forKey: .rehandlingDays) ?? defaults.rehandlingDays
        evaluationDays = try container.decodeIfPresent(Int.self, forKey: .evaluationDays) ?? defaults.evaluationDays
        evaluationWeights = try container.decodeIfPresent(EvaluationWeights.self, forKey: .evaluationWeights) ?? defaults.evaluationWeights
        quotas = try container.decodeIfPresent(QuotaRule.self, forKey: .quotas) ?? defaults.quotas
        timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone) ?? defaults.timeZone
    }

    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? .chinaTime }

    /// Each problem with its field, for a 422 answer.
    public var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        if reminderDaysBefore.contains(where: { !(1...60).contains($0) }) || Set(reminderDaysBefore).count != reminderDaysBefore.count {
            problems.append(("reminderDaysBefore", "distinct whole days from 1 to 60"))
        }
        let days = escalation.map(\.daysOverdue)
        if escalation.isEmpty || days != days.sorted() || Set(days).count != days.count || days.contains(where: { !(0...365).contains($0) }) {
            problems.append(("escalation", "one or more steps in increasing daysOverdue, 0 to 365"))
        }
        if !(0...23).contains(fireHour) { problems.append(("fireHour", "an hour from 0 to 23")) }
        if !(1...90).contains(coUnitOpinionDays) { problems.append(("coUnitOpinionDays", "1 to 90 days")) }
        if !(1...180).contains(rehandlingDays) { problems.append(("rehandlingDays", "1 to 180 days")) }
        if !(1...180).contains(evaluationDays) { problems.append(("evaluationDays", "1 to 180 days")) }
        problems += evaluationWeights.problems.map { ("evaluationWeights." + $0.field, $0.message) }
        problems += quotas.problems.map { ("quotas." + $0.field, $0.message) }
        if TimeZone(identifier: timeZone) == nil { problems.append(("timeZone", "must be an IANA time zone such as Asia/Shanghai")) }
        return problems
    }
}

/// The levels of the escalation ladder for overdue handling (催办 → 督办).
public enum EscalationLevel: String, Codable, Sendable, CaseIterable {
    /// A reminder that the deadline has passed.
    case reminder
    /// A formal notice (督办通知) to the unit.
    case formalNotice = "formal-notice"
    /// The supervising leader (领衔督办) takes it up.
    case supervisingLeader = "supervising-leader"
    /// The chairpersons' meeting (主席会议) takes it up.
    case chairpersonsMeeting = "chairpersons-meeting"
}

public struct EscalationStep: Codable, Sendable, Hashable {
    public var daysOverdue: Int
    public var level: EscalationLevel

    public init(daysOverdue: Int, level: EscalationLevel) {
        self.daysOverdue = daysOverdue
        self.level = level
    }
}

/// What a supervision timer does when it fires.
public enum TimerKind: String, Codable, Sendable, CaseIterable {
    /// A reminder before the deadline.
    case reminder
    /// One step of the escalation ladder.
    case escalation
    /// The follow-up review (回头看) of a B reply at its promised date.
    case followUp = "follow-up"
    /// The end of the proposer's window to evaluate a reply: the proposal may close without it.
    case evaluationWindow = "evaluation-window"
}

/// One timer to be stored: kind, step (the reminder's days before, or the ladder's index) and
/// when it is due.
public struct PlannedTimer: Codable, Sendable, Hashable {
    public var kind: TimerKind
    public var step: Int
    public var day: LocalDate
    public var dueAt: Date

    public init(kind: TimerKind, step: Int, day: LocalDate, dueAt: Date) {
        self.kind = kind
        self.step = step
        self.day = day
        self.dueAt = dueAt
    }
}

/// The timers of an assignment, planned from its deadline. Reminders whose day has passed are
/// not planned (a deadline moved closer must not send stale reminders); escalations are, so a
/// deadline moved into the past still escalates.
public enum SupervisionSchedule {
    public static func timers(deadline: LocalDate, today: LocalDate, settings: SupervisionSettings) -> [PlannedTimer] {
        var timers: [PlannedTimer] = []
        for days in settings.reminderDaysBefore.sorted(by: >) {
            let day = deadline.adding(days: -days)
            guard day >= today else { continue }
            timers.append(PlannedTimer(kind: .reminder, step: days, day: day, dueAt: dueAt(day, settings)))
        }
        for (index, step) in settings.escalation.enumerated() {
            let day = deadline.adding(days: 1 + step.daysOverdue)
            timers.append(PlannedTimer(kind: .escalation, step: index, day: day, dueAt: dueAt(day, settings)))
        }
        return timers
    }

    /// The first day after the proposer's window to evaluate a reply made on `replied`.
    public static func evaluationWindowEnd(replied: LocalDate, settings: SupervisionSettings) -> PlannedTimer {
        let day = replied.adding(days: settings.evaluationDays + 1)
        return PlannedTimer(kind: .evaluationWindow, step: 0, day: day, dueAt: dueAt(day, settings))
    }

    /// The follow-up review of a B reply (回头看), at the promised date.
    public static func followUp(promised: LocalDate, settings: SupervisionSettings) -> PlannedTimer {
        PlannedTimer(kind: .followUp, step: 0, day: promised, dueAt: dueAt(promised, settings))
    }

    public static func dueAt(_ day: LocalDate, _ settings: SupervisionSettings) -> Date {
        day.start(in: settings.zone).addingTimeInterval(TimeInterval(settings.fireHour * 3_600))
    }
}

/// The rules of handling (办理) a unit must keep, checked before anything is written.
public enum HandlingRules {
    /// A co-unit's part as the lead unit's reply waits on it.
    public struct CoUnitOpinion: Sendable, Hashable {
        public var unitName: String
        public var given: Bool
        public var due: LocalDate
        public init(unitName: String, given: Bool, due: LocalDate) {
            self.unitName = unitName
            self.given = given
            self.due = due
        }
    }

    /// When a co-unit owes the lead unit its opinion: `days` after assignment, and at the latest
    /// the day before the lead's deadline (the lead needs it to reply).
    public static func opinionDue(assignedOn: LocalDate, deadline: LocalDate, days: Int) -> LocalDate {
        min(assignedOn.adding(days: days), max(assignedOn, deadline.adding(days: -1)))
    }

    /// A reply: only from the lead unit (co-units give opinions), once, and only when every
    /// co-unit has given its opinion or its window has passed; a B reply promises a date after
    /// today, A and C promise none.
    public static func checkReply(
        role: Assignment.Role, state: SupervisedAssignmentState, coUnits: [CoUnitOpinion], category: ReplyCategory, promised: LocalDate?,
        today: LocalDate
    ) throws(RuleRefusal) {
        guard role == .lead else { throw RuleRefusal("a co-handling unit gives its opinion to the lead unit; the lead unit replies") }
        guard state == .handling else { throw RuleRefusal("the assignment is \(state.rawValue); there is nothing to reply to") }
        let waiting = coUnits.filter { !$0.given && today <= $0.due }
        if !waiting.isEmpty {
            throw RuleRefusal("waiting for the opinion of \(waiting.map(\.unitName).joined(separator: ", ")) (due \(waiting.map(\.due).max()!))")
        }
        switch (category, promised) {
        case (.inProgressOrPlanned, nil):
            throw RuleRefusal(field: "promisedDate", "a B reply (being solved or planned) promises a date")
        case (.inProgressOrPlanned, let date?) where date <= today:
            throw RuleRefusal(field: "promisedDate", "\(date) is not after today (\(today))")
        case (.solvedOrAdopted, _?), (.keptForReference, _?):
            throw RuleRefusal(field: "promisedDate", "only a B reply promises a date")
        default:
            break
        }
    }

    /// An extension: asked for before the deadline passes (the deadline day itself still
    /// counts), for a later day, one request open at a time.
    public static func checkExtension(
        state: SupervisedAssignmentState, deadline: LocalDate, requested: LocalDate, hasOpenRequest: Bool, today: LocalDate
    ) throws(RuleRefusal) {
        guard state == .handling else { throw RuleRefusal("the assignment is \(state.rawValue); it needs no extension") }
        guard today <= deadline else { throw RuleRefusal("the deadline \(deadline) has passed; an extension is asked for before it") }
        guard !hasOpenRequest else { throw RuleRefusal("an extension request is already waiting for the committee") }
        guard requested > deadline else { throw RuleRefusal(field: "deadline", "\(requested) is not after the current deadline \(deadline)") }
        guard deadline.days(until: requested) <= 366 else { throw RuleRefusal(field: "deadline", "an extension is at most a year") }
    }
}

/// When a proposal is done with: every lead unit has replied, and each reply is evaluated
/// satisfied or basically satisfied, or its evaluation window has passed.
public enum ClosingRules {
    public struct LeadPart: Sendable, Hashable {
        public var unitName: String
        public var replied: Bool
        public var satisfaction: Satisfaction?
        /// The last day the proposer may evaluate the reply.
        public var evaluationEnds: LocalDate?
        public init(unitName: String, replied: Bool, satisfaction: Satisfaction?, evaluationEnds: LocalDate?) {
            self.unitName = unitName
            self.replied = replied
            self.satisfaction = satisfaction
            self.evaluationEnds = evaluationEnds
        }
    }

    /// Nil when the proposal may close; otherwise what it waits for.
    public static func waitingFor(_ leads: [LeadPart], today: LocalDate) -> String? {
        guard !leads.isEmpty else { return "no unit handles it" }
        for lead in leads {
            guard lead.replied else { return "the reply of \(lead.unitName)" }
            switch lead.satisfaction {
            case .satisfied, .basicallySatisfied: continue
            case .dissatisfied: return "the re-handling by \(lead.unitName)"
            case nil:
                if let ends = lead.evaluationEnds, today > ends { continue }
                return "the proposer's evaluation of \(lead.unitName)"
            }
        }
        return nil
    }
}

/// One unit's part in a proposal as supervision tracks it (`supervised_assignments.state`).
public enum SupervisedAssignmentState: String, Codable, Sendable, CaseIterable {
    /// Assigned and not yet answered (a co-unit's opinion or the lead unit's reply).
    case handling
    /// The lead unit replied, or the co-unit gave its opinion.
    case replied
    /// The proposal is closed.
    case closed
    /// A later round replaced it.
    case superseded
}

/// What a follow-up review (回头看) of a B reply found on the promised date.
public enum FollowUpResult: String, Codable, Sendable, CaseIterable {
    /// The promise was kept (已落实).
    case done
    /// Partly kept (部分落实).
    case partly
    /// Not kept (未落实).
    case notDone = "not-done"

    public var label: String {
        switch self {
        case .done: "已落实"
        case .partly: "部分落实"
        case .notDone: "未落实"
        }
    }
}
