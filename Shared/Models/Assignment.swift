import Foundation

/// How a district assigns (交办): the reply limits, the contest window, what a reassignment does
/// to the deadline, when a suggestion is confident enough to assign by itself, and whether
/// assignments are first proposed to the units for confirmation (预交办).
/// Stored as JSON in `districts.assignment_settings`; a missing key keeps its default.
public struct AssignmentSettings: Codable, Sendable, Hashable {
    /// 百姓提案: a reply within one month of assignment.
    public var citizenProposalLimit: DeadlineRule = .citizenProposal
    /// Ordinary proposals, by their own limit.
    public var ordinaryProposalLimit: DeadlineRule = .ordinaryProposal
    /// Key proposals (重点提案), unless one is given its own limit; nil keeps the kind's limit.
    public var keyProposalLimit: DeadlineRule?
    public var contestWindow = ContestWindow(workingDays: 5)
    public var reassignmentDeadline: ReassignmentDeadline = .restart
    public var autoAssignment = AutoAssignment()
    /// Working days a unit has to confirm or contest a proposed assignment; nil: assignments are final at once.
    public var preAssignmentWorkingDays: Int?
    /// Shown on every assignment; units' days count in this zone.
    public var timeZone = "Asia/Shanghai"

    public init() {}

    /// What a reassignment does to the deadline: count afresh from the reassignment, or keep
    /// the original deadline (the proposer's wait does not grow).
    public enum ReassignmentDeadline: String, Codable, Sendable, CaseIterable {
        case restart
        case keep
    }

    /// Assign without staff when the best suggestion scores at least `minimumScore` and leads
    /// the runner-up by at least `minimumMargin`.
    public struct AutoAssignment: Codable, Sendable, Hashable {
        public var enabled = false
        public var minimumScore = 6.0
        public var minimumMargin = 3.0

        public init(enabled: Bool = false, minimumScore: Double = 6.0, minimumMargin: Double = 3.0) {
            self.enabled = enabled
            self.minimumScore = minimumScore
            self.minimumMargin = minimumMargin
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            minimumScore = try container.decodeIfPresent(Double.self, forKey: .minimumScore) ?? 6.0
            minimumMargin = try container.decodeIfPresent(Double.self, forKey: .minimumMargin) ?? 3.0
        }

        /// Whether a ranking with these top two scores is confident enough.
        public func isConfident(top: Double, runnerUp: Double?) -> Bool {
            enabled && top >= minimumScore && top - (runnerUp ?? 0) >= minimumMargin
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AssignmentSettings()
        citizenProposalLimit = try container.decodeIfPresent(DeadlineRule.self, forKey: .citizenProposalLimit) ?? defaults.citizenProposalLimit
        ordinaryProposalLimit = try container.decodeIfPresent(DeadlineRule.self, forKey: .ordinaryProposalLimit) ?? defaults.ordinaryProposalLimit
        keyProposalLimit = try container.decodeIfPresent(DeadlineRule.self, forKey: .keyProposalLimit)
        contestWindow = try container.decodeIfPresent(ContestWindow.self, forKey: .contestWindow) ?? defaults.contestWindow
        reassignmentDeadline =
            try container.decodeIfPresent(ReassignmentDeadline.self, forKey: .reassignmentDeadline) ?? defaults.reassignmentDeadline
        autoAssignment = try container.decodeIfPresent(AutoAssignment.self, forKey: .autoAssignment) ?? defaults.autoAssignment
        preAssignmentWorkingDays = try container.decodeIfPresent(Int.self, forKey: .preAssignmentWorkingDays)
        timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone) ?? defaults.timeZone
    }

    /// Each problem with its field, for a 422 answer.
    public var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        for (field, rule) in [("citizenProposalLimit", citizenProposalLimit), ("ordinaryProposalLimit", ordinaryProposalLimit)] {
            if let problem = rule.problem { problems.append((field, problem)) }
        }
        if let problem = keyProposalLimit?.problem { problems.append(("keyProposalLimit", problem)) }
        if !(0...30).contains(contestWindow.workingDays) {
            problems.append(("contestWindow.workingDays", "must be 0 to 30 working days"))
        }
        if let days = preAssignmentWorkingDays, !(1...10).contains(days) {
            problems.append(("preAssignmentWorkingDays", "must be 1 to 10 working days, or null for final assignments at once"))
        }
        if autoAssignment.minimumScore <= 0 || autoAssignment.minimumMargin < 0 {
            problems.append(("autoAssignment", "minimumScore must be positive and minimumMargin not negative"))
        }
        if TimeZone(identifier: timeZone) == nil { problems.append(("timeZone", "must be an IANA time zone such as Asia/Shanghai")) }
        return problems
    }

    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? TimeZone(identifier: "Asia/Shanghai")! }

    /// The reply limit of a proposal: its own (a key proposal's custom limit), the key
    /// proposals' limit, or its kind's.
    public func limit(kind: ProposalKind, isKey: Bool, own: DeadlineRule?) -> DeadlineRule {
        if let own { return own }
        if isKey, let key = keyProposalLimit { return key }
        return kind == .citizen ? citizenProposalLimit : ordinaryProposalLimit
    }
}

/// Where an assignment stands.
public enum AssignmentStatus: String, Codable, Sendable, CaseIterable {
    /// Proposed to the unit for confirmation (预交办), not yet final.
    case proposed
    /// Final: the unit handles it by its deadline.
    case active
    /// The unit says it is not its business; the committee decides.
    case contested
    /// Replaced by a reassignment; kept for the history.
    case superseded
}

/// The rules a staff assignment must meet, checked before anything is written.
public enum AssignmentRules {
    /// A unit as the rules need it.
    public struct Unit: Sendable, Hashable {
        public var id: UUID
        public var name: String
        public var isActive: Bool
        public init(id: UUID, name: String, isActive: Bool) {
            self.id = id
            self.name = name
            self.isActive = isActive
        }
    }

    /// Checks a lead unit and co-units against the directory (known, active, no unit twice) and
    /// an explicit deadline against today.
    public static func check(
        lead: UUID, coUnits: [UUID], deadline: LocalDate?, today: LocalDate, directory: [UUID: Unit]
    ) throws(RuleRefusal) {
        guard let leadUnit = directory[lead] else { throw RuleRefusal(field: "lead", "no handling unit \(lead) in this district") }
        guard leadUnit.isActive else { throw RuleRefusal(field: "lead", "\(leadUnit.name) is inactive") }
        var seen: Set<UUID> = [lead]
        for (index, id) in coUnits.enumerated() {
            let field = "coUnits[\(index)]"
            guard let unit = directory[id] else { throw RuleRefusal(field: field, "no handling unit \(id) in this district") }
            guard unit.isActive else { throw RuleRefusal(field: field, "\(unit.name) is inactive") }
            guard seen.insert(id).inserted else {
                throw RuleRefusal(field: field, id == lead ? "\(unit.name) is already the lead unit" : "\(unit.name) is named twice")
            }
        }
        if coUnits.count > 10 { throw RuleRefusal(field: "coUnits", "at most 10 co-handling units") }
        if let deadline, deadline <= today {
            throw RuleRefusal(field: "deadline", "\(deadline) is not after today (\(today))")
        }
    }

    /// Whether `unit` may contest `assignment` on `today`: its own, final or proposed, not yet
    /// contested, within the window.
    public static func checkContest(
        status: AssignmentStatus, lastDay: LocalDate?, today: LocalDate
    ) throws(RuleRefusal) {
        switch status {
        case .contested: throw RuleRefusal("the assignment is already contested")
        case .superseded: throw RuleRefusal("the assignment was replaced by a reassignment")
        case .proposed, .active: break
        }
        if let lastDay, today > lastDay {
            throw RuleRefusal("the contest window closed on \(lastDay)")
        }
    }
}
