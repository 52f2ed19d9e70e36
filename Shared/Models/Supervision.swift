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
    public var timeZone = "Asia/Shanghai"

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SupervisionSettings()
        reminderDaysBefore = try container.decodeIfPresent([Int].self, forKey: .reminderDaysBefore) ?? defaults.reminderDaysBefore
        escalation = try container.decodeIfPresent([EscalationStep].self, forKey: .escalation) ?? defaults.escalation
        fireHour = try container.decodeIfPresent(Int.self, forKey: .fireHour) ?? defaults.fireHour
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

    /// The follow-up review of a B reply (回头看), at the promised date.
    public static func followUp(promised: LocalDate, settings: SupervisionSettings) -> PlannedTimer {
        PlannedTimer(kind: .followUp, step: 0, day: promised, dueAt: dueAt(promised, settings))
    }

    public static func dueAt(_ day: LocalDate, _ settings: SupervisionSettings) -> Date {
        day.start(in: settings.zone).addingTimeInterval(TimeInterval(settings.fireHour * 3_600))
    }
}
