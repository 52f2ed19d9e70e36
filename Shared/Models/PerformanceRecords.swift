import Foundation

/// What the store knows of one member's or studio's clue and proposal work (履职), read once and
/// counted by `PerformanceRecords`: the same facts give the same figures.
public struct PerformanceFacts: Sendable, Hashable {
    /// A clue the entry took in (接收人), and what became of it.
    public struct CollectedClue: Sendable, Hashable {
        public var receivedOn: LocalDate
        /// The route triage decided; nil while the clue waits.
        public var route: ClueRoute.Kind?
        /// Whether a reference topic made from it was claimed by a proposer.
        public var topicClaimed: Bool
        /// Whether a proposal drawn from it was filed (立案).
        public var filed: Bool

        public init(receivedOn: LocalDate, route: ClueRoute.Kind? = nil, topicClaimed: Bool = false, filed: Bool = false) {
            self.receivedOn = receivedOn
            self.route = route
            self.topicClaimed = topicClaimed
            self.filed = filed
        }
    }

    /// A proposal the entry's account drafted.
    public struct Draft: Sendable, Hashable {
        public var draftedOn: LocalDate
        /// The day it was filed; nil while not filed (or never).
        public var filedOn: LocalDate?

        public init(draftedOn: LocalDate, filedOn: LocalDate? = nil) {
            self.draftedOn = draftedOn
            self.filedOn = filedOn
        }
    }

    /// A proposer's evaluation of the handling of one of the entry's proposals.
    public struct Evaluation: Sendable, Hashable {
        public var on: LocalDate
        public var result: Satisfaction

        public init(on: LocalDate, result: Satisfaction) {
            self.on = on
            self.result = result
        }
    }

    public var clues: [CollectedClue]
    /// The days the entry's account claimed reference topics.
    public var topicClaims: [LocalDate]
    public var drafts: [Draft]
    /// The days of the 三见面 meetings on the entry's proposals that name the member among those attending.
    public var meetings: [LocalDate]
    /// The proposers' evaluations of the handling of the entry's proposals, by day.
    public var evaluations: [Evaluation]

    public init(
        clues: [CollectedClue] = [], topicClaims: [LocalDate] = [], drafts: [Draft] = [], meetings: [LocalDate] = [],
        evaluations: [Evaluation] = []
    ) {
        self.clues = clues
        self.topicClaims = topicClaims
        self.drafts = drafts
        self.meetings = meetings
        self.evaluations = evaluations
    }
}

/// One member's or studio's performance record (履职档案) for a period.
public struct PerformanceRecord: Codable, Sendable, Hashable {
    public var code: String
    public var name: String
    public var kind: Receiver.Kind
    public var sector: String?
    public var specialCommittee: String?
    public var active: Bool
    public var from: LocalDate
    public var to: LocalDate
    /// Clues taken in within the period, and what became of those clues (whenever it happened).
    public var cluesCollected: Int
    /// Given a route by triage (any route but closing).
    public var cluesRouted: Int
    /// Routed as reference topics (参考选题).
    public var cluesAsTopics: Int
    /// In a reference topic a proposer claimed.
    public var cluesClaimed: Int
    /// Behind a filed proposal.
    public var cluesFiled: Int
    public var topicsClaimed: Int
    public var proposalsDrafted: Int
    public var proposalsFiled: Int
    public var meetingsAttended: Int
    public var satisfied: Int
    public var basicallySatisfied: Int
    public var dissatisfied: Int

    public var evaluations: Int { satisfied + basicallySatisfied + dissatisfied }
}

/// Counts performance records from the facts, each within the period (both ends included).
public enum PerformanceRecords {
    public static func record(of entry: RegisterEntry, facts: PerformanceFacts, period: ClosedRange<LocalDate>) -> PerformanceRecord {
        let clues = facts.clues.filter { period.contains($0.receivedOn) }
        let drafts = facts.drafts.filter { period.contains($0.draftedOn) }
        let evaluations = facts.evaluations.filter { period.contains($0.on) }
        func results(_ result: Satisfaction) -> Int { evaluations.count { $0.result == result } }
        return PerformanceRecord(
            code: entry.code, name: entry.name, kind: entry.kind, sector: entry.sector, specialCommittee: entry.specialCommittee,
            active: entry.active, from: period.lowerBound, to: period.upperBound,
            cluesCollected: clues.count,
            cluesRouted: clues.count { $0.route != nil && $0.route != .close },
            cluesAsTopics: clues.count { $0.route == .referenceTopic },
            cluesClaimed: clues.count(where: \.topicClaimed),
            cluesFiled: clues.count(where: \.filed),
            topicsClaimed: facts.topicClaims.count { period.contains($0) },
            proposalsDrafted: drafts.count,
            // Filed within the period, whenever drafted.
            proposalsFiled: facts.drafts.count { $0.filedOn.map(period.contains) ?? false },
            meetingsAttended: facts.meetings.count { period.contains($0) },
            satisfied: results(.satisfied), basicallySatisfied: results(.basicallySatisfied), dissatisfied: results(.dissatisfied))
    }

    static let csvHeader = [
        "编号", "姓名/名称", "类型", "界别", "专委会", "状态", "起", "止", "收集线索", "已分流", "转为参考选题", "选题被认领", "形成立案提案",
        "认领选题", "起草提案", "提案立案", "参加三见面", "评价满意", "评价基本满意", "评价不满意",
    ]

    /// The records as CSV for spreadsheets (the same quoting as the unit evaluation's).
    public static func csv(_ records: [PerformanceRecord]) -> String {
        var lines = [csvHeader.map(UnitEvaluator.csvField).joined(separator: ",")]
        for record in records {
            let fields =
                [
                    record.code, record.name, record.kind == .studio ? "工作室" : "委员", record.sector ?? "", record.specialCommittee ?? "",
                    record.active ? "在册" : "停用", record.from.description, record.to.description,
                ]
                + [
                    record.cluesCollected, record.cluesRouted, record.cluesAsTopics, record.cluesClaimed, record.cluesFiled, record.topicsClaimed,
                    record.proposalsDrafted, record.proposalsFiled, record.meetingsAttended, record.satisfied, record.basicallySatisfied,
                    record.dissatisfied,
                ].map(String.init)
            lines.append(fields.map(UnitEvaluator.csvField).joined(separator: ","))
        }
        return lines.map { $0 + "\r\n" }.joined()
    }
}
