import Foundation

/// A unit asked for a later deadline before its deadline passed: the committee decides.
public struct ExtensionRequested: EventPayload, Hashable {
    public static let eventType = "assignment.extension-requested"
    public static let schemaVersion = 1

    public var requestID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var deadline: LocalDate
    public var requested: LocalDate

    enum CodingKeys: String, CodingKey {
        case requestID = "requestId", assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", deadline, requested
    }

    public init(requestID: UUID, assignmentID: UUID, proposalID: UUID, unitID: UUID, deadline: LocalDate, requested: LocalDate) {
        self.requestID = requestID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.deadline = deadline
        self.requested = requested
    }
}

/// A reminder before an assignment's deadline is due (the unit is to be told).
public struct ReminderDue: EventPayload, Hashable {
    public static let eventType = "assignment.reminder-due"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var deadline: LocalDate
    public var daysLeft: Int

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", deadline, daysLeft
    }

    public init(assignmentID: UUID, proposalID: UUID, unitID: UUID, deadline: LocalDate, daysLeft: Int) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.deadline = deadline
        self.daysLeft = daysLeft
    }
}

/// An overdue assignment climbed a step of the escalation ladder.
public struct AssignmentEscalated: EventPayload, Hashable {
    public static let eventType = "assignment.escalated"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var deadline: LocalDate
    public var daysOverdue: Int
    public var level: EscalationLevel
    /// Who takes it up at this level, where the proposal names one (its supervising leader).
    public var supervisingLeader: String?

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", deadline, daysOverdue, level, supervisingLeader
    }

    public init(
        assignmentID: UUID, proposalID: UUID, unitID: UUID, deadline: LocalDate, daysOverdue: Int, level: EscalationLevel,
        supervisingLeader: String?
    ) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.deadline = deadline
        self.daysOverdue = daysOverdue
        self.level = level
        self.supervisingLeader = supervisingLeader
    }
}

/// The result of a follow-up review (回头看), recorded by the lead unit or the committee. The
/// note is not in the event: it may name people, and the public timeline shows the result only.
public struct FollowUpRecorded: EventPayload, Hashable {
    public static let eventType = "proposal.follow-up-recorded"
    public static let schemaVersion = 1

    public var reviewID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var promised: LocalDate
    public var result: FollowUpResult

    enum CodingKeys: String, CodingKey {
        case reviewID = "reviewId", assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", promised, result
    }

    public init(reviewID: UUID, assignmentID: UUID, proposalID: UUID, unitID: UUID, promised: LocalDate, result: FollowUpResult) {
        self.reviewID = reviewID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.promised = promised
        self.result = result
    }
}

/// The follow-up review (回头看) of a B reply is due at its promised date.
public struct FollowUpDue: EventPayload, Hashable {
    public static let eventType = "proposal.follow-up-due"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var promised: LocalDate

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", promised
    }

    public init(assignmentID: UUID, proposalID: UUID, unitID: UUID, promised: LocalDate) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.promised = promised
    }
}

/// A lead unit replied (答复) to its assignment.
public struct AssignmentReplied: EventPayload, Hashable {
    public static let eventType = "assignment.replied"
    public static let schemaVersion = 1

    public var replyID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var category: ReplyCategory
    public var promisedDate: LocalDate?
    public var onTime: Bool

    enum CodingKeys: String, CodingKey {
        case replyID = "replyId", assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", category, promisedDate, onTime
    }

    public init(replyID: UUID, assignmentID: UUID, proposalID: UUID, unitID: UUID, category: ReplyCategory, promisedDate: LocalDate?, onTime: Bool) {
        self.replyID = replyID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.category = category
        self.promisedDate = promisedDate
        self.onTime = onTime
    }
}

/// A co-unit gave the lead unit its opinion (会办意见).
public struct CoUnitOpinionGiven: EventPayload, Hashable {
    public static let eventType = "assignment.opinion-given"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var onTime: Bool

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", onTime
    }

    public init(assignmentID: UUID, proposalID: UUID, unitID: UUID, onTime: Bool) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.onTime = onTime
    }
}

/// The committee granted or refused a unit's extension request.
public struct ExtensionDecided: EventPayload, Hashable {
    public static let eventType = "assignment.extension-decided"
    public static let schemaVersion = 1

    public var requestID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var granted: Bool
    /// The deadline after the decision.
    public var deadline: LocalDate

    enum CodingKeys: String, CodingKey {
        case requestID = "requestId", assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", granted, deadline
    }

    public init(requestID: UUID, assignmentID: UUID, proposalID: UUID, unitID: UUID, granted: Bool, deadline: LocalDate) {
        self.requestID = requestID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.granted = granted
        self.deadline = deadline
    }
}

/// The proposer evaluated a unit's handling (满意、基本满意、不满意).
public struct AssignmentEvaluated: EventPayload, Hashable {
    public static let eventType = "assignment.evaluated"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var result: Satisfaction
    public var byProposer: Bool

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", result, byProposer
    }

    public init(assignmentID: UUID, proposalID: UUID, unitID: UUID, result: Satisfaction, byProposer: Bool) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.result = result
        self.byProposer = byProposer
    }
}

/// The committee issued the proposer's evaluation link (评价链接). The link's secret is not in
/// the event: whoever delivers it derives it from `linkID` with the services' shared key.
public struct EvaluationRequested: EventPayload, Hashable {
    public static let eventType = "proposal.evaluation-requested"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var linkID: UUID
    /// The last day the link works.
    public var expiresOn: LocalDate

    enum CodingKeys: String, CodingKey { case proposalID = "proposalId", linkID = "linkId", expiresOn }

    public init(proposalID: UUID, linkID: UUID, expiresOn: LocalDate) {
        self.proposalID = proposalID
        self.linkID = linkID
        self.expiresOn = expiresOn
    }
}

/// A dissatisfied proposer sent the unit's part back for handling again (重新办理).
public struct AssignmentReopened: EventPayload, Hashable {
    public static let eventType = "assignment.reopened"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var deadline: LocalDate
    public var rehandling: Int

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", deadline, rehandling
    }

    public init(assignmentID: UUID, proposalID: UUID, unitID: UUID, deadline: LocalDate, rehandling: Int) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.deadline = deadline
        self.rehandling = rehandling
    }
}

/// A proposal is closed: handled and evaluated, or by the committee's decision with a reason.
public struct ProposalClosed: EventPayload, Hashable {
    public static let eventType = "proposal.closed"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var byDecision: Bool
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", byDecision, reason
    }

    public init(proposalID: UUID, byDecision: Bool, reason: String) {
        self.proposalID = proposalID
        self.byDecision = byDecision
        self.reason = reason
    }
}

/// The committee re-categorised a reply on review (A, B, C).
public struct ReplyRecategorised: EventPayload, Hashable {
    public static let eventType = "reply.recategorised"
    public static let schemaVersion = 1

    public var replyID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var from: ReplyCategory
    public var to: ReplyCategory

    enum CodingKeys: String, CodingKey {
        case replyID = "replyId", assignmentID = "assignmentId", proposalID = "proposalId", from, to
    }

    public init(replyID: UUID, assignmentID: UUID, proposalID: UUID, from: ReplyCategory, to: ReplyCategory) {
        self.replyID = replyID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.from = from
        self.to = to
    }
}

/// A street studio or member is behind on its clue quota: to be reminded (once per month asked about).
public struct QuotaReminderDue: EventPayload, Hashable {
    public static let eventType = "quota.reminder-due"
    public static let schemaVersion = 1

    /// The register entry's code (`RegisterEntry.code`): whom the reminder is addressed to.
    public var receiver: String
    public var kind: Receiver.Kind
    /// The month the standing was taken for (`2026-11`).
    public var month: String
    /// The quota's period: the month for a studio, the year for a member.
    public var period: String
    public var count: Int
    public var required: Int

    public init(receiver: String, kind: Receiver.Kind, month: String, period: String, count: Int, required: Int) {
        self.receiver = receiver
        self.kind = kind
        self.month = month
        self.period = period
        self.count = count
        self.required = required
    }
}
