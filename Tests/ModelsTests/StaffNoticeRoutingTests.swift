import Foundation
import Testing

@testable import Models

/// Who is told of each lifecycle event: the table of the workbench issue's "everyone who must act".
@Suite struct StaffNoticeRoutingTests {
    let haizhu = DistrictCode(rawValue: "haizhu")!
    let proposal = UUID()
    let lead = UUID()
    let coUnit = UUID()
    let leadPart = UUID()
    let coPart = UUID()
    let deadline = LocalDate("2027-02-10")!

    let topic = UUID()
    var facts: NoticeFacts {
        NoticeFacts(
            caseNumbers: [proposal: "HZ-2027-012"], drafters: [proposal: "member.wang"],
            topicReceivers: [topic: [Receiver(kind: .studio, name: "沙园街委员工作室", code: "s-sy"), Receiver(kind: .member, name: "王委员")]],
            evaluationPage: { "/evaluate/token-\($0.uuidString.prefix(4))" })
    }

    func notices<P: EventPayload>(_ payload: P, facts: NoticeFacts? = nil) throws -> [StaffNotice] {
        let event = try EventEnvelope(payload, district: haizhu, occurredAt: Date(timeIntervalSince1970: 1_795_000_000))
        return try StaffNoticeRouting.notices(for: event, facts: facts ?? self.facts)
    }

    func part(_ assignment: UUID, _ unit: UUID, _ role: Assignment.Role) -> AssignedUnit {
        AssignedUnit(
            assignmentID: assignment, unitID: unit, unitName: "单位", role: role, status: .active,
            assignedOn: LocalDate("2027-01-10")!, deadline: deadline, contestUntil: LocalDate("2027-01-15")!)
    }

    @Test func anAssignmentTellsEachUnitItsOwnPartAndDeadline() throws {
        let told = try notices(
            ProposalAssigned(
                proposalID: proposal, caseNumber: "HZ-2027-012", kind: .citizen, round: 1,
                units: [part(leadPart, lead, .lead), part(coPart, coUnit, .coHandling)], isKey: false, supervisingLeader: nil,
                automatic: false, confirmedPreAssignment: false))
        #expect(told.map(\.audience) == [.unit(lead), .unit(coUnit)])
        #expect(told[0].title.contains("主办") && told[0].title.contains("2027-02-10") && told[0].title.contains("HZ-2027-012"))
        #expect(told[1].title.contains("协办"))
        #expect(told[0].link == StaffNoticeRouting.unitPage(leadPart) && told[1].link == StaffNoticeRouting.unitPage(coPart))
        #expect(told.allSatisfy { $0.kind == ProposalAssigned.eventType && $0.proposalID == proposal })
    }

    @Test func contestsAndRepliesGoToTheCommitteeAndDecisionsBackToTheUnit() throws {
        let contested = try notices(
            AssignmentContested(contestID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead, reason: "非本单位职责"))
        #expect(contested.map(\.audience) == [.committee])
        #expect(contested[0].link == StaffNoticeRouting.casePage(proposal))
        #expect(!contested[0].title.contains("非本单位职责"), "the reason is read on the page, not copied into notices")

        let rejected = try notices(ContestRejected(contestID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead, note: "维持"))
        #expect(rejected.map(\.audience) == [.unit(lead)])

        let asked = try notices(
            ExtensionRequested(
                requestID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead,
                deadline: deadline, requested: LocalDate("2027-03-10")!))
        #expect(asked.map(\.audience) == [.committee] && asked[0].link == StaffNoticeRouting.extensionsPage && asked[0].title.contains("2027-03-10"))
        let granted = try notices(
            ExtensionDecided(requestID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead, granted: true, deadline: deadline))
        let refused = try notices(
            ExtensionDecided(requestID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead, granted: false, deadline: deadline))
        #expect(granted.map(\.audience) == [.unit(lead)] && refused.map(\.audience) == [.unit(lead)])
        #expect(granted[0].title.contains("已同意") && refused[0].title.contains("未获同意"))

        let replied = try notices(
            AssignmentReplied(
                replyID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead,
                category: .inProgressOrPlanned, promisedDate: deadline, onTime: true))
        #expect(replied.map(\.audience) == [.committee])
        #expect(
            try notices(CoUnitOpinionGiven(assignmentID: coPart, proposalID: proposal, unitID: coUnit, onTime: true)).map(\.audience) == [.committee])
    }

    @Test(arguments: [
        (EscalationLevel.reminder, false, false),
        (.formalNotice, true, false),
        (.supervisingLeader, true, true),
        (.chairpersonsMeeting, true, true),
    ])
    func escalationReachesTheUnitThenTheCommitteeThenTheLeader(_ level: EscalationLevel, _ committee: Bool, _ leader: Bool) throws {
        let told = try notices(
            AssignmentEscalated(
                assignmentID: leadPart, proposalID: proposal, unitID: lead, deadline: deadline, daysOverdue: 12, level: level,
                supervisingLeader: "李副主席"))
        var expected: [NoticeAudience] = [.unit(lead)]
        if committee { expected.append(.committee) }
        if leader { expected.append(.leader("李副主席")) }
        #expect(told.map(\.audience) == expected)
        #expect(told.allSatisfy { $0.title.contains("12 天") })
    }

    @Test func anEscalationWithoutALeaderTellsNoLeader() throws {
        let told = try notices(
            AssignmentEscalated(
                assignmentID: leadPart, proposalID: proposal, unitID: lead, deadline: deadline, daysOverdue: 40, level: .supervisingLeader,
                supervisingLeader: nil))
        #expect(told.map(\.audience) == [.unit(lead), .committee])
    }

    @Test func remindersReopeningsAndFollowUpsAskTheUnit() throws {
        #expect(
            try notices(ReminderDue(assignmentID: leadPart, proposalID: proposal, unitID: lead, deadline: deadline, daysLeft: 5))
                .map(\.audience) == [.unit(lead)])
        let reopened = try notices(AssignmentReopened(assignmentID: leadPart, proposalID: proposal, unitID: lead, deadline: deadline, rehandling: 1))
        #expect(reopened.map(\.audience) == [.unit(lead)] && reopened[0].title.contains("不满意"))
        #expect(
            try notices(FollowUpDue(assignmentID: leadPart, proposalID: proposal, unitID: lead, promised: deadline)).map(\.audience) == [.unit(lead)])
        #expect(
            try notices(
                FollowUpRecorded(reviewID: UUID(), assignmentID: leadPart, proposalID: proposal, unitID: lead, promised: deadline, result: .partly)
            )
            .map(\.audience) == [.committee])
        #expect(
            try notices(AssignmentEvaluated(assignmentID: leadPart, proposalID: proposal, unitID: lead, result: .dissatisfied, byProposer: false))
                .map(\.audience) == [.unit(lead)])
        #expect(
            try notices(
                AssignmentDeadlineChanged(
                    assignmentID: leadPart, proposalID: proposal, unitID: lead, previous: nil, deadline: deadline, reason: "节假日")
            )
            .map(\.audience) == [.unit(lead)])
    }

    @Test func keyProposalsAndQuotasReachPeopleByName() throws {
        #expect(try notices(ProposalMarkedKey(proposalID: proposal, supervisingLeader: "李副主席", limit: nil)).map(\.audience) == [.leader("李副主席")])
        let behind = try notices(QuotaReminderDue(receiver: "s-sy", kind: .studio, month: "2027-01", period: "2027-01", count: 1, required: 2))
        #expect(behind.map(\.audience) == [.receiver(.studio, "s-sy")])
        #expect(behind[0].title.contains("1 条") && behind[0].title.contains("2 条"))
    }

    @Test func eventsThatAskNobodyToActMakeNoNotice() throws {
        #expect(try notices(ProposalClosed(proposalID: proposal, byDecision: false, reason: "")).isEmpty)
        #expect(
            try notices(
                ReplyRecategorised(replyID: UUID(), assignmentID: leadPart, proposalID: proposal, from: .solvedOrAdopted, to: .inProgressOrPlanned)
            ).isEmpty)
    }

    @Test func aProposalWithoutACaseNumberIsNamedByAShortID() throws {
        let other = UUID()
        let told = try notices(ReminderDue(assignmentID: leadPart, proposalID: other, unitID: lead, deadline: deadline, daysLeft: 3))
        #expect(told[0].title.contains(String(other.uuidString.prefix(8)).lowercased()))
    }

    @Test func theProposerIsSentTheEvaluationLinkAndToldTheirAnswerArrived() throws {
        let link = UUID()
        let asked = try notices(EvaluationRequested(proposalID: proposal, linkID: link, expiresOn: LocalDate("2027-03-01")!))
        #expect(asked.map(\.audience) == [.account("member.wang")])
        #expect(asked[0].link == "/evaluate/token-\(link.uuidString.prefix(4))" && asked[0].title.contains("2027-03-01"))
        // No link can be made (no key), or nobody drafted it in the workbench: no notice to an account.
        #expect(
            try notices(
                EvaluationRequested(proposalID: proposal, linkID: link, expiresOn: LocalDate("2027-03-01")!),
                facts: NoticeFacts(drafters: [proposal: "member.wang"])
            ).isEmpty)
        #expect(try notices(EvaluationRequested(proposalID: UUID(), linkID: link, expiresOn: LocalDate("2027-03-01")!)).isEmpty)

        let answered = try notices(
            AssignmentEvaluated(assignmentID: leadPart, proposalID: proposal, unitID: lead, result: .dissatisfied, byProposer: true))
        #expect(answered.map(\.audience) == [.unit(lead), .account("member.wang")])
        #expect(answered[1].title.contains("不满意") && answered[1].title.contains("已收到"))
    }

    @Test func draftersHearTheReviewAndReceiversTheirTopicClaimed() throws {
        let returned = try notices(ProposalReturned(proposalID: proposal))
        #expect(returned.map(\.audience) == [.account("member.wang")] && returned[0].link == StaffNoticeRouting.proposalPage(proposal))
        #expect(
            try notices(ProposalNotFiled(proposalID: proposal, alternativeRoute: .none, clueIDs: [])).map(\.audience) == [.account("member.wang")])
        let filed = try notices(
            ProposalFiled(
                proposalID: proposal, caseNumber: CaseNumber(rawValue: "HZ-2027-012"), session: 14, year: 2027,
                fastTrack: false, domain: nil, committee: nil, clueIDs: []))
        #expect(filed.map(\.audience) == [.account("member.wang")] && filed[0].title.contains("HZ-2027-012"))

        let claimed = try notices(TopicClaimed(topicID: topic, claimID: UUID(), claimantRole: "member", coClaim: false))
        // By register code where the clue was credited to an entry, else by the name it carried.
        #expect(claimed.map(\.audience) == [.receiver(.studio, "s-sy"), .receiver(.member, "王委员")])
        #expect(claimed.allSatisfy { $0.title.contains("政协委员") && $0.link == StaffNoticeRouting.topicsPage })
        #expect(try notices(TopicClaimed(topicID: UUID(), claimID: UUID(), claimantRole: "member", coClaim: false)).isEmpty)
    }
}
