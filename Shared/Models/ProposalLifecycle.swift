/// Where a proposal stands, from cultivation to closing.
public enum ProposalStatus: String, Codable, Sendable, CaseIterable {
    /// Formed from clues or a claimed topic and being cultivated (培育).
    case drafting
    /// Submitted to the proposals committee for review (审查).
    case submitted
    /// Filed (立案); waits for assignment.
    case filed
    /// Not filed, with a reason; terminal.
    case notFiled = "not-filed"
    /// Assigned to handling units (交办).
    case assigned
    /// A unit contested the assignment; the committee must reassign or reject the contest.
    case contested
    /// Every unit has replied (答复); waits for the proposer's evaluation.
    case replied
    /// The proposer was dissatisfied; the unit handles it again.
    case rehandling
    /// The proposer's evaluation is in and satisfied or basically satisfied.
    case evaluated
    /// Done (办结); terminal.
    case closed
}

/// Something that happens to a proposal and may move it to another status.
public enum ProposalTransition: String, Codable, Sendable, CaseIterable {
    case submitForReview = "submit-for-review"
    case returnForRevision = "return-for-revision"
    case file
    case refuseFiling = "refuse-filing"
    case assign
    case contest
    case reassign
    case rejectContest = "reject-contest"
    case reply
    case evaluateSatisfied = "evaluate-satisfied"
    case evaluateDissatisfied = "evaluate-dissatisfied"
    /// Closing after evaluation, or when the evaluation window passed without one.
    case close
    /// Closing by committee decision, with a reason, from any open status after filing.
    case closeByDecision = "close-by-decision"
}

public struct IllegalTransition: Error, Equatable, Sendable, CustomStringConvertible {
    public let from: ProposalStatus
    public let transition: ProposalTransition

    public init(from: ProposalStatus, transition: ProposalTransition) {
        self.from = from
        self.transition = transition
    }

    public var description: String {
        "a proposal that is \(from.rawValue) cannot \(transition.rawValue)"
    }
}

extension ProposalStatus {
    public var isTerminal: Bool { self == .notFiled || self == .closed }

    /// The status after `transition`, or `IllegalTransition` when the rules forbid it.
    public func applying(_ transition: ProposalTransition) throws(IllegalTransition) -> ProposalStatus {
        switch (self, transition) {
        case (.drafting, .submitForReview): return .submitted
        case (.submitted, .returnForRevision): return .drafting
        case (.submitted, .file): return .filed
        case (.submitted, .refuseFiling): return .notFiled
        case (.filed, .assign): return .assigned
        case (.assigned, .contest): return .contested
        case (.contested, .reassign): return .assigned
        case (.contested, .rejectContest): return .assigned
        case (.assigned, .reply), (.rehandling, .reply): return .replied
        case (.replied, .evaluateSatisfied): return .evaluated
        case (.replied, .evaluateDissatisfied): return .rehandling
        case (.evaluated, .close), (.replied, .close): return .closed
        case (.filed, .closeByDecision), (.assigned, .closeByDecision), (.contested, .closeByDecision),
            (.replied, .closeByDecision), (.rehandling, .closeByDecision), (.evaluated, .closeByDecision):
            return .closed
        default:
            throw IllegalTransition(from: self, transition: transition)
        }
    }
}

extension ProposalTransition {
    /// A final assignment (交办): the first one, or the new round after a contest (重新交办).
    @Sendable public static func finalAssignment(of status: ProposalStatus) -> ProposalTransition? {
        status == .contested ? .reassign : .assign
    }
}
