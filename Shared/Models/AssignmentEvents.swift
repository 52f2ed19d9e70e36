import Foundation

/// One unit's part in an assignment as events carry it.
public struct AssignedUnit: Codable, Sendable, Hashable {
    public var assignmentID: UUID
    public var unitID: UUID
    public var unitName: String
    public var role: Assignment.Role
    public var status: AssignmentStatus
    /// The day counting starts; nil while only proposed.
    public var assignedOn: LocalDate?
    /// The last day of an on-time reply; nil while only proposed.
    public var deadline: LocalDate?
    /// The last day the unit may contest (or, while proposed, confirm).
    public var contestUntil: LocalDate?

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", unitID = "unitId", unitName, role, status, assignedOn, deadline, contestUntil
    }

    public init(
        assignmentID: UUID, unitID: UUID, unitName: String, role: Assignment.Role, status: AssignmentStatus,
        assignedOn: LocalDate?, deadline: LocalDate?, contestUntil: LocalDate?
    ) {
        self.assignmentID = assignmentID
        self.unitID = unitID
        self.unitName = unitName
        self.role = role
        self.status = status
        self.assignedOn = assignedOn
        self.deadline = deadline
        self.contestUntil = contestUntil
    }
}

/// A filed proposal was assigned (交办), finally: the supervision service starts tracking each
/// unit's part from here.
public struct ProposalAssigned: EventPayload, Hashable {
    public static let eventType = "proposal.assigned"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var caseNumber: String
    public var kind: ProposalKind
    public var round: Int
    public var units: [AssignedUnit]
    public var isKey: Bool
    public var supervisingLeader: String?
    /// By the district's auto-assignment rule rather than by staff.
    public var automatic: Bool
    /// After a pre-assignment (预交办) was confirmed or its window passed.
    public var confirmedPreAssignment: Bool

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, kind, round, units, isKey, supervisingLeader, automatic, confirmedPreAssignment
    }

    public init(
        proposalID: UUID, caseNumber: String, kind: ProposalKind, round: Int, units: [AssignedUnit], isKey: Bool,
        supervisingLeader: String?, automatic: Bool, confirmedPreAssignment: Bool
    ) {
        self.proposalID = proposalID
        self.caseNumber = caseNumber
        self.kind = kind
        self.round = round
        self.units = units
        self.isKey = isKey
        self.supervisingLeader = supervisingLeader
        self.automatic = automatic
        self.confirmedPreAssignment = confirmedPreAssignment
    }
}

/// Assignments proposed to the units for confirmation (预交办) before they become final.
public struct ProposalPreAssigned: EventPayload, Hashable {
    public static let eventType = "proposal.pre-assigned"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var caseNumber: String
    public var round: Int
    public var units: [AssignedUnit]
    public var confirmBy: LocalDate

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, round, units, confirmBy
    }

    public init(proposalID: UUID, caseNumber: String, round: Int, units: [AssignedUnit], confirmBy: LocalDate) {
        self.proposalID = proposalID
        self.caseNumber = caseNumber
        self.round = round
        self.units = units
        self.confirmBy = confirmBy
    }
}

/// A handling unit says an assignment is not its business.
public struct AssignmentContested: EventPayload, Hashable {
    public static let eventType = "assignment.contested"
    public static let schemaVersion = 1

    public var contestID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case contestID = "contestId", assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", reason
    }

    public init(contestID: UUID, assignmentID: UUID, proposalID: UUID, unitID: UUID, reason: String) {
        self.contestID = contestID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.reason = reason
    }
}

/// The committee assigned a proposal anew (after a contest, or on its own initiative): the
/// previous round's assignments are superseded by these.
public struct ProposalReassigned: EventPayload, Hashable {
    public static let eventType = "proposal.reassigned"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var caseNumber: String
    public var round: Int
    public var units: [AssignedUnit]
    public var superseded: [UUID]
    /// Contests this reassignment resolves.
    public var resolvedContests: [UUID]
    public var deadlineRule: AssignmentSettings.ReassignmentDeadline
    public var note: String

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, round, units, superseded, resolvedContests, deadlineRule, note
    }

    public init(
        proposalID: UUID, caseNumber: String, round: Int, units: [AssignedUnit], superseded: [UUID], resolvedContests: [UUID],
        deadlineRule: AssignmentSettings.ReassignmentDeadline, note: String
    ) {
        self.proposalID = proposalID
        self.caseNumber = caseNumber
        self.round = round
        self.units = units
        self.superseded = superseded
        self.resolvedContests = resolvedContests
        self.deadlineRule = deadlineRule
        self.note = note
    }
}

/// The committee rejected a contest: the assignment stands as it was.
public struct ContestRejected: EventPayload, Hashable {
    public static let eventType = "assignment.contest-rejected"
    public static let schemaVersion = 1

    public var contestID: UUID
    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var note: String

    enum CodingKeys: String, CodingKey {
        case contestID = "contestId", assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", note
    }

    public init(contestID: UUID, assignmentID: UUID, proposalID: UUID, unitID: UUID, note: String) {
        self.contestID = contestID
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.note = note
    }
}

/// An assignment's deadline was set anew (a key proposal's own limit, a committee decision).
public struct AssignmentDeadlineChanged: EventPayload, Hashable {
    public static let eventType = "assignment.deadline-changed"
    public static let schemaVersion = 1

    public var assignmentID: UUID
    public var proposalID: UUID
    public var unitID: UUID
    public var previous: LocalDate?
    public var deadline: LocalDate
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case assignmentID = "assignmentId", proposalID = "proposalId", unitID = "unitId", previous, deadline, reason
    }

    public init(assignmentID: UUID, proposalID: UUID, unitID: UUID, previous: LocalDate?, deadline: LocalDate, reason: String) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.unitID = unitID
        self.previous = previous
        self.deadline = deadline
        self.reason = reason
    }
}

/// A proposal was made a key proposal (重点提案) with a supervising leader (领衔督办).
public struct ProposalMarkedKey: EventPayload, Hashable {
    public static let eventType = "proposal.marked-key"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var supervisingLeader: String
    public var limit: DeadlineRule?

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", supervisingLeader, limit
    }

    public init(proposalID: UUID, supervisingLeader: String, limit: DeadlineRule?) {
        self.proposalID = proposalID
        self.supervisingLeader = supervisingLeader
        self.limit = limit
    }
}
