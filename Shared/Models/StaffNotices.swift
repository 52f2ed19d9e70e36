import Foundation

/// Who among the people of a district is to be told of an event.
public enum NoticeAudience: Hashable, Sendable {
    /// Every active account of a handling unit.
    case unit(UUID)
    /// The district's proposals committee (提案委).
    case committee
    /// The supervising leader the proposal names (an account of that role and display name).
    case leader(String)
    /// A street studio or member, by its register code (by the name clues carried where the
    /// district keeps no register).
    case receiver(Receiver.Kind, String)
    /// One person's account, by login: a proposal's drafter (its proposer) for their own proposal.
    case account(String)
}

/// What routing needs from the store beside the event: it stays a pure function of both.
public struct NoticeFacts: Sendable {
    /// Filed proposals' case numbers.
    public var caseNumbers: [UUID: String]
    /// The account that drafted each proposal: the proposer's own.
    public var drafters: [UUID: String]
    /// The studios and members whose clues each reference topic was made from.
    public var topicReceivers: [UUID: [Receiver]]
    /// The proposer's evaluation page for a link (`EvaluationRequested.linkID`); nil when this
    /// deployment cannot make one.
    public var evaluationPage: @Sendable (UUID) -> String?

    public init(
        caseNumbers: [UUID: String] = [:], drafters: [UUID: String] = [:], topicReceivers: [UUID: [Receiver]] = [:],
        evaluationPage: @escaping @Sendable (UUID) -> String? = { _ in nil }
    ) {
        self.caseNumbers = caseNumbers
        self.drafters = drafters
        self.topicReceivers = topicReceivers
        self.evaluationPage = evaluationPage
    }

    /// A proposal as people name it: its case number once filed, else a short id.
    public func reference(_ proposal: UUID) -> String {
        caseNumbers[proposal] ?? String(proposal.uuidString.prefix(8)).lowercased()
    }

    /// The proposal ids and topic ids events name, for loading the facts in one go.
    public static func subjects(of events: [EventEnvelope]) -> (proposals: Set<UUID>, topics: Set<UUID>) {
        var proposals: Set<UUID> = []
        var topics: Set<UUID> = []
        for event in events {
            guard case .object(let fields) = event.payload else { continue }
            if case .string(let id)? = fields["proposalId"], let uuid = UUID(uuidString: id) { proposals.insert(uuid) }
            if event.type == TopicClaimed.eventType, case .string(let id)? = fields["topicId"], let uuid = UUID(uuidString: id) {
                topics.insert(uuid)
            }
        }
        return (proposals, topics)
    }
}

/// A line of news for the people who must act on it, and the workbench page where they do.
/// It holds no personal data: case numbers, dates and counts only.
public struct StaffNotice: Sendable, Hashable {
    public var audience: NoticeAudience
    /// The event type that caused it.
    public var kind: String
    public var title: String
    /// The workbench page to act on it.
    public var link: String
    public var proposalID: UUID?
    public var assignmentID: UUID?

    public init(audience: NoticeAudience, kind: String, title: String, link: String, proposalID: UUID? = nil, assignmentID: UUID? = nil) {
        self.audience = audience
        self.kind = kind
        self.title = title
        self.link = link
        self.proposalID = proposalID
        self.assignmentID = assignmentID
    }
}

/// Decides, for every lifecycle event, who must know and act: the seeds' method (三见面, 五督办,
/// the one-month reply) works only if each step reaches its people.
public enum StaffNoticeRouting {
    /// The pages notices lead to.
    public static func unitPage(_ assignment: UUID) -> String { "/unit/assignments/\(assignment.uuidString.lowercased())" }
    public static func boardPage(_ assignment: UUID) -> String { "/supervision/assignments/\(assignment.uuidString.lowercased())" }
    public static let extensionsPage = "/supervision/extensions"
    /// The committee decides contests on the proposal's assignment page.
    public static func casePage(_ proposal: UUID) -> String { "/assignment/proposals/\(proposal.uuidString.lowercased())" }
    public static let leaderPage = "/leader"
    public static func proposalPage(_ proposal: UUID) -> String { "/proposals/\(proposal.uuidString.lowercased())" }
    public static let topicsPage = "/topics"
    /// The proposer's evaluation page (no sign-in: the token is the credential).
    public static func evaluationPage(_ token: String) -> String { "/evaluate/\(token)" }
    /// The notice says it all; the studios' and members' own quota pages come with the register.
    public static let quotaPage = "/inbox"

    /// The notices `event` asks for; none for events that ask nobody to act.
    public static func notices(for event: EventEnvelope, facts: NoticeFacts) throws -> [StaffNotice] {
        let reference = facts.reference
        /// The proposer, through the account that drafted the proposal (none for a proposal staff entered).
        func proposer(_ proposal: UUID) -> NoticeAudience? { facts.drafters[proposal].map(NoticeAudience.account) }
        func notice(_ audience: NoticeAudience, _ title: String, _ link: String, proposal: UUID?, assignment: UUID? = nil) -> StaffNotice {
            StaffNotice(audience: audience, kind: event.type, title: title, link: link, proposalID: proposal, assignmentID: assignment)
        }
        switch event.type {
        case ProposalAssigned.eventType:
            let assigned = try event.decodePayload(as: ProposalAssigned.self)
            return assigned.units.map { unit in
                let part = unit.role == .lead ? "主办" : "协办"
                let until = unit.deadline.map { "，答复期限 \($0)" } ?? ""
                return notice(
                    .unit(unit.unitID), "新交办：提案 \(assigned.caseNumber)（\(part)\(until)）", unitPage(unit.assignmentID),
                    proposal: assigned.proposalID, assignment: unit.assignmentID)
            }
        case ProposalPreAssigned.eventType:
            let proposed = try event.decodePayload(as: ProposalPreAssigned.self)
            return proposed.units.map { unit in
                notice(
                    .unit(unit.unitID), "预交办待确认：提案 \(proposed.caseNumber)，请于 \(proposed.confirmBy) 前确认或提出异议",
                    unitPage(unit.assignmentID), proposal: proposed.proposalID, assignment: unit.assignmentID)
            }
        case ProposalReassigned.eventType:
            let reassigned = try event.decodePayload(as: ProposalReassigned.self)
            return reassigned.units.map { unit in
                let until = unit.deadline.map { "，答复期限 \($0)" } ?? ""
                return notice(
                    .unit(unit.unitID), "重新交办：提案 \(reassigned.caseNumber)（\(unit.role == .lead ? "主办" : "协办")\(until)）",
                    unitPage(unit.assignmentID), proposal: reassigned.proposalID, assignment: unit.assignmentID)
            }
        case AssignmentContested.eventType:
            let contest = try event.decodePayload(as: AssignmentContested.self)
            return [
                notice(
                    .committee, "承办单位对提案 \(reference(contest.proposalID)) 的交办提出异议，待决定", casePage(contest.proposalID),
                    proposal: contest.proposalID, assignment: contest.assignmentID)
            ]
        case ContestRejected.eventType:
            let rejected = try event.decodePayload(as: ContestRejected.self)
            return [
                notice(
                    .unit(rejected.unitID), "异议未获同意：提案 \(reference(rejected.proposalID)) 仍由本单位办理",
                    unitPage(rejected.assignmentID), proposal: rejected.proposalID, assignment: rejected.assignmentID)
            ]
        case AssignmentDeadlineChanged.eventType:
            let changed = try event.decodePayload(as: AssignmentDeadlineChanged.self)
            return [
                notice(
                    .unit(changed.unitID), "提案 \(reference(changed.proposalID)) 的答复期限改为 \(changed.deadline)",
                    unitPage(changed.assignmentID), proposal: changed.proposalID, assignment: changed.assignmentID)
            ]
        case ProposalMarkedKey.eventType:
            let key = try event.decodePayload(as: ProposalMarkedKey.self)
            guard !key.supervisingLeader.isEmpty else { return [] }
            return [notice(.leader(key.supervisingLeader), "提案 \(reference(key.proposalID)) 列为重点提案，由您领衔督办", leaderPage, proposal: key.proposalID)]
        case ReminderDue.eventType:
            let due = try event.decodePayload(as: ReminderDue.self)
            return [
                notice(
                    .unit(due.unitID), "提醒：提案 \(reference(due.proposalID)) 距答复期限（\(due.deadline)）还有 \(due.daysLeft) 天",
                    unitPage(due.assignmentID), proposal: due.proposalID, assignment: due.assignmentID)
            ]
        case AssignmentEscalated.eventType:
            let escalated = try event.decodePayload(as: AssignmentEscalated.self)
            let case_ = reference(escalated.proposalID)
            var notices = [
                notice(
                    .unit(escalated.unitID), "督办：提案 \(case_) 已超期 \(escalated.daysOverdue) 天（\(escalationName(escalated.level))）",
                    unitPage(escalated.assignmentID), proposal: escalated.proposalID, assignment: escalated.assignmentID)
            ]
            // The committee follows it from the formal notice on; a leader when the step names one.
            if escalated.level != .reminder {
                notices.append(
                    notice(
                        .committee, "提案 \(case_) 超期 \(escalated.daysOverdue) 天，已升级为\(escalationName(escalated.level))",
                        boardPage(escalated.assignmentID), proposal: escalated.proposalID, assignment: escalated.assignmentID))
            }
            if escalated.level == .supervisingLeader || escalated.level == .chairpersonsMeeting,
                let leader = escalated.supervisingLeader, !leader.isEmpty
            {
                notices.append(
                    notice(
                        .leader(leader), "您领衔督办的提案 \(case_) 超期 \(escalated.daysOverdue) 天，请督办", leaderPage,
                        proposal: escalated.proposalID, assignment: escalated.assignmentID))
            }
            return notices
        case ExtensionRequested.eventType:
            let asked = try event.decodePayload(as: ExtensionRequested.self)
            return [
                notice(
                    .committee, "承办单位申请将提案 \(reference(asked.proposalID)) 的答复期限由 \(asked.deadline) 延至 \(asked.requested)，待决定",
                    extensionsPage, proposal: asked.proposalID, assignment: asked.assignmentID)
            ]
        case ExtensionDecided.eventType:
            let decided = try event.decodePayload(as: ExtensionDecided.self)
            let title =
                decided.granted
                ? "延期申请已同意：提案 \(reference(decided.proposalID)) 的答复期限延至 \(decided.deadline)"
                : "延期申请未获同意：提案 \(reference(decided.proposalID)) 仍须于 \(decided.deadline) 前答复"
            return [
                notice(.unit(decided.unitID), title, unitPage(decided.assignmentID), proposal: decided.proposalID, assignment: decided.assignmentID)
            ]
        case AssignmentReopened.eventType:
            let reopened = try event.decodePayload(as: AssignmentReopened.self)
            return [
                notice(
                    .unit(reopened.unitID), "提案 \(reference(reopened.proposalID)) 的提案人不满意，请重新办理（期限 \(reopened.deadline)）",
                    unitPage(reopened.assignmentID), proposal: reopened.proposalID, assignment: reopened.assignmentID)
            ]
        case FollowUpDue.eventType:
            let due = try event.decodePayload(as: FollowUpDue.self)
            return [
                notice(
                    .unit(due.unitID), "回头看：提案 \(reference(due.proposalID)) 承诺于 \(due.promised) 解决，请填报落实情况",
                    unitPage(due.assignmentID), proposal: due.proposalID, assignment: due.assignmentID)
            ]
        case FollowUpRecorded.eventType:
            let recorded = try event.decodePayload(as: FollowUpRecorded.self)
            return [
                notice(
                    .committee, "回头看结果：提案 \(reference(recorded.proposalID)) \(followUpName(recorded.result))",
                    boardPage(recorded.assignmentID), proposal: recorded.proposalID, assignment: recorded.assignmentID)
            ]
        case CoUnitOpinionGiven.eventType:
            let given = try event.decodePayload(as: CoUnitOpinionGiven.self)
            return [
                notice(
                    .committee, "协办单位已就提案 \(reference(given.proposalID)) 提交协办意见", boardPage(given.assignmentID),
                    proposal: given.proposalID, assignment: given.assignmentID)
            ]
        case AssignmentReplied.eventType:
            let replied = try event.decodePayload(as: AssignmentReplied.self)
            return [
                notice(
                    .committee, "提案 \(reference(replied.proposalID)) 已答复（\(replied.category.rawValue) 类），可发出提案人评价链接",
                    boardPage(replied.assignmentID), proposal: replied.proposalID, assignment: replied.assignmentID)
            ]
        case AssignmentEvaluated.eventType:
            let evaluated = try event.decodePayload(as: AssignmentEvaluated.self)
            var notices = [
                notice(
                    .unit(evaluated.unitID), "提案 \(reference(evaluated.proposalID)) 的办理结果已评价：\(satisfactionName(evaluated.result))",
                    unitPage(evaluated.assignmentID), proposal: evaluated.proposalID, assignment: evaluated.assignmentID)
            ]
            // The proposer hears that their answer arrived (staff entering it on their behalf told them already).
            if evaluated.byProposer, let proposer = proposer(evaluated.proposalID) {
                notices.append(
                    notice(
                        proposer, "您对提案 \(reference(evaluated.proposalID)) 办理结果的评价（\(satisfactionName(evaluated.result))）已收到",
                        proposalPage(evaluated.proposalID), proposal: evaluated.proposalID, assignment: evaluated.assignmentID))
            }
            return notices
        case EvaluationRequested.eventType:
            let requested = try event.decodePayload(as: EvaluationRequested.self)
            guard let proposer = proposer(requested.proposalID), let page = facts.evaluationPage(requested.linkID) else { return [] }
            return [
                notice(
                    proposer, "请评价提案 \(reference(requested.proposalID)) 的办理结果（链接有效至 \(requested.expiresOn)）", page,
                    proposal: requested.proposalID)
            ]
        case TopicClaimed.eventType:
            let claimed = try event.decodePayload(as: TopicClaimed.self)
            return (facts.topicReceivers[claimed.topicID] ?? []).map { receiver in
                notice(
                    .receiver(receiver.kind, receiver.code ?? receiver.name), "您报送的线索形成的参考选题已被认领培育（\(claimantName(claimed.claimantRole))）",
                    topicsPage, proposal: nil)
            }
        case ProposalReturned.eventType:
            let returned = try event.decodePayload(as: ProposalReturned.self)
            guard let proposer = proposer(returned.proposalID) else { return [] }
            return [
                notice(
                    proposer, "您起草的提案（\(reference(returned.proposalID))）被退回修改，请查看审查意见后修改再提交",
                    proposalPage(returned.proposalID), proposal: returned.proposalID)
            ]
        case ProposalFiled.eventType:
            let filed = try event.decodePayload(as: ProposalFiled.self)
            guard let proposer = proposer(filed.proposalID) else { return [] }
            return [notice(proposer, "您的提案已立案，案号 \(filed.caseNumber.rawValue)", proposalPage(filed.proposalID), proposal: filed.proposalID)]
        case ProposalNotFiled.eventType:
            let notFiled = try event.decodePayload(as: ProposalNotFiled.self)
            guard let proposer = proposer(notFiled.proposalID) else { return [] }
            return [
                notice(
                    proposer, "您的提案（\(reference(notFiled.proposalID))）未予立案，请查看审查意见", proposalPage(notFiled.proposalID),
                    proposal: notFiled.proposalID)
            ]
        case QuotaReminderDue.eventType:
            let behind = try event.decodePayload(as: QuotaReminderDue.self)
            let period = behind.kind == .studio ? "本月（\(behind.period)）" : "本年度（\(behind.period)）"
            return [
                notice(
                    .receiver(behind.kind, behind.receiver),
                    "线索收集提醒：\(period)已报送 \(behind.count) 条，要求至少 \(behind.required) 条", quotaPage, proposal: nil)
            ]
        default:
            return []
        }
    }

    public static func escalationName(_ level: EscalationLevel) -> String {
        switch level {
        case .reminder: "超期提醒"
        case .formalNotice: "督办通知"
        case .supervisingLeader: "领导领衔督办"
        case .chairpersonsMeeting: "主席会议督办"
        }
    }

    static func followUpName(_ result: FollowUpResult) -> String {
        switch result {
        case .done: "已落实"
        case .partly: "部分落实"
        case .notDone: "未落实"
        }
    }

    static func claimantName(_ role: String) -> String {
        switch role {
        case "member": "政协委员"
        case "member-studio": "委员工作室"
        case "special-committee": "专门委员会"
        case "participating-unit", "unit": "参加单位"
        default: "提案者"
        }
    }

    static func satisfactionName(_ result: Satisfaction) -> String {
        switch result {
        case .satisfied: "满意"
        case .basicallySatisfied: "基本满意"
        case .dissatisfied: "不满意"
        }
    }
}
