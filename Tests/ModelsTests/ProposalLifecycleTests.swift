import Models
import Testing

/// The lifecycle written out independently of the implementation: every legal move.
private let legal: [ProposalStatus: [ProposalTransition: ProposalStatus]] = [
    .drafting: [.submitForReview: .submitted],
    .submitted: [.returnForRevision: .drafting, .file: .filed, .refuseFiling: .notFiled],
    .filed: [.assign: .assigned, .closeByDecision: .closed],
    .assigned: [.contest: .contested, .reply: .replied, .closeByDecision: .closed],
    .contested: [.reassign: .assigned, .rejectContest: .assigned, .closeByDecision: .closed],
    .replied: [.evaluateSatisfied: .evaluated, .evaluateDissatisfied: .rehandling, .close: .closed, .closeByDecision: .closed],
    .rehandling: [.reply: .replied, .closeByDecision: .closed],
    .evaluated: [.close: .closed, .closeByDecision: .closed],
    .notFiled: [:],
    .closed: [:],
]

@Suite struct ProposalLifecycleTests {
    @Test(arguments: ProposalStatus.allCases)
    func everyTransitionFrom(_ status: ProposalStatus) throws {
        let allowed = try #require(legal[status], "the table covers \(status)")
        for transition in ProposalTransition.allCases {
            if let expected = allowed[transition] {
                #expect(try status.applying(transition) == expected, "\(status) --\(transition)--> \(expected)")
            } else {
                #expect(throws: IllegalTransition(from: status, transition: transition)) {
                    try status.applying(transition)
                }
            }
        }
    }

    @Test func terminalStatusesAllowNothing() {
        #expect(ProposalStatus.allCases.filter(\.isTerminal) == [.notFiled, .closed])
        for status in [ProposalStatus.notFiled, .closed] {
            for transition in ProposalTransition.allCases {
                #expect(throws: IllegalTransition.self) { try status.applying(transition) }
            }
        }
    }

    @Test func aCitizenProposalsWholeLife() throws {
        let path: [ProposalTransition] = [
            .submitForReview, .file, .assign, .contest, .reassign, .reply,
            .evaluateDissatisfied, .reply, .evaluateSatisfied, .close,
        ]
        let end = try path.reduce(ProposalStatus.drafting) { try $0.applying($1) }
        #expect(end == .closed)
    }

    @Test func illegalTransitionSaysWhatWasAttempted() {
        let error = IllegalTransition(from: .closed, transition: .reply)
        #expect(error.description == "a proposal that is closed cannot reply")
    }
}
