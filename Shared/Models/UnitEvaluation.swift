import Foundation

/// The three meetings of a handling unit with the proposer (三见面): before handling (办前,
/// to agree what the proposal is really after), during it (办中, progress and open questions)
/// and after it (办后, the result and how it was done).
public enum MeetingStage: String, Codable, Sendable, CaseIterable {
    case before
    case during
    case after
}

/// What the evaluation (考核) needs to know of one assignment, one unit's part in one proposal,
/// as the supervision service gathers it from its store. The evaluation reads nothing else, so
/// the same facts always give the same scores.
public struct AssignmentRecordFacts: Codable, Sendable, Hashable {
    public var assignmentID: UUID
    public var proposalID: UUID
    public var caseNumber: String
    public var unitID: UUID
    public var unitName: String
    public var role: Assignment.Role
    public var assignedOn: LocalDate
    /// The final deadline, after any granted extensions.
    public var deadline: LocalDate
    /// The day the lead unit replied (答复); nil for co-units and for lead units yet to reply.
    public var repliedOn: LocalDate?
    /// The day a co-unit gave its opinion to the lead unit (会办意见); nil for the lead unit.
    public var opinionGivenOn: LocalDate?
    /// The day a co-unit's opinion is due; where it is missing, the assignment's deadline.
    public var opinionDueOn: LocalDate?
    /// The meetings with the proposer recorded so far (三见面).
    public var meetings: Set<MeetingStage>
    /// The proposer's latest evaluation of this unit's handling.
    public var satisfaction: Satisfaction?
    /// How many times the unit had to handle the proposal again (重新办理).
    public var rehandlings: Int
    /// How many extensions of the deadline were granted (延期).
    public var extensions: Int
    public var replyCategory: ReplyCategory?
    public var isKey: Bool
    /// What the latest follow-up review (回头看) of the unit's B reply found; nil when none is recorded.
    public var followUp: FollowUpResult?

    public init(
        assignmentID: UUID, proposalID: UUID, caseNumber: String, unitID: UUID, unitName: String,
        role: Assignment.Role, assignedOn: LocalDate, deadline: LocalDate,
        repliedOn: LocalDate? = nil, opinionGivenOn: LocalDate? = nil, opinionDueOn: LocalDate? = nil,
        meetings: Set<MeetingStage> = [], satisfaction: Satisfaction? = nil,
        rehandlings: Int = 0, extensions: Int = 0, replyCategory: ReplyCategory? = nil, isKey: Bool = false,
        followUp: FollowUpResult? = nil
    ) {
        self.assignmentID = assignmentID
        self.proposalID = proposalID
        self.caseNumber = caseNumber
        self.unitID = unitID
        self.unitName = unitName
        self.role = role
        self.assignedOn = assignedOn
        self.deadline = deadline
        self.repliedOn = repliedOn
        self.opinionGivenOn = opinionGivenOn
        self.opinionDueOn = opinionDueOn
        self.meetings = meetings
        self.satisfaction = satisfaction
        self.rehandlings = rehandlings
        self.extensions = extensions
        self.replyCategory = replyCategory
        self.isKey = isKey
        self.followUp = followUp
    }

    /// Written like the synthesized coding, but with the meetings in stage order, so that the
    /// same facts always give the same JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(assignmentID, forKey: .assignmentID)
        try container.encode(proposalID, forKey: .proposalID)
        try container.encode(caseNumber, forKey: .caseNumber)
        try container.encode(unitID, forKey: .unitID)
        try container.encode(unitName, forKey: .unitName)
        try container.encode(role, forKey: .role)
        try container.encode(assignedOn, forKey: .assignedOn)
        try container.encode(deadline, forKey: .deadline)
        try container.encodeIfPresent(repliedOn, forKey: .repliedOn)
        try container.encodeIfPresent(opinionGivenOn, forKey: .opinionGivenOn)
        try container.encodeIfPresent(opinionDueOn, forKey: .opinionDueOn)
        try container.encode(MeetingStage.allCases.filter { meetings.contains($0) }, forKey: .meetings)
        try container.encodeIfPresent(satisfaction, forKey: .satisfaction)
        try container.encode(rehandlings, forKey: .rehandlings)
        try container.encode(extensions, forKey: .extensions)
        try container.encodeIfPresent(replyCategory, forKey: .replyCategory)
        try container.encode(isKey, forKey: .isKey)
        try container.encodeIfPresent(followUp, forKey: .followUp)
    }
}

/// How a district weighs the evaluation of its handling units: points out of 100 for each rate,
/// and points taken off for each re-handling and each extension.
/// Stored as JSON in the district's configuration; a missing key keeps its default.
public struct EvaluationWeights: Codable, Sendable, Hashable {
    /// Replies by the deadline (按时答复).
    public var onTimeReply: Double = 30
    /// All three meetings with the proposer (三见面).
    public var threeMeetings: Double = 20
    /// Co-units' opinions to the lead unit by their due date (会办意见).
    public var coUnitOpinions: Double = 10
    /// Satisfied or basically satisfied proposers (满意、基本满意).
    public var satisfaction: Double = 40
    /// Points off for each re-handling (重新办理).
    public var rehandlingPenalty: Double = 2
    /// Points off for each extension (延期).
    public var extensionPenalty: Double = 1
    /// Points off for each follow-up review (回头看) that found the promise not kept; half for one
    /// partly kept.
    public var unkeptPromisePenalty: Double = 2

    public init(
        onTimeReply: Double = 30, threeMeetings: Double = 20, coUnitOpinions: Double = 10, satisfaction: Double = 40,
        rehandlingPenalty: Double = 2, extensionPenalty: Double = 1, unkeptPromisePenalty: Double = 2
    ) {
        self.onTimeReply = onTimeReply
        self.threeMeetings = threeMeetings
        self.coUnitOpinions = coUnitOpinions
        self.satisfaction = satisfaction
        self.rehandlingPenalty = rehandlingPenalty
        self.extensionPenalty = extensionPenalty
        self.unkeptPromisePenalty = unkeptPromisePenalty
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = EvaluationWeights()
        onTimeReply = try container.decodeIfPresent(Double.self, forKey: .onTimeReply) ?? defaults.onTimeReply
        threeMeetings = try container.decodeIfPresent(Double.self, forKey: .threeMeetings) ?? defaults.threeMeetings
        coUnitOpinions = try container.decodeIfPresent(Double.self, forKey: .coUnitOpinions) ?? defaults.coUnitOpinions
        satisfaction = try container.decodeIfPresent(Double.self, forKey: .satisfaction) ?? defaults.satisfaction
        rehandlingPenalty = try container.decodeIfPresent(Double.self, forKey: .rehandlingPenalty) ?? defaults.rehandlingPenalty
        extensionPenalty = try container.decodeIfPresent(Double.self, forKey: .extensionPenalty) ?? defaults.extensionPenalty
        unkeptPromisePenalty = try container.decodeIfPresent(Double.self, forKey: .unkeptPromisePenalty) ?? defaults.unkeptPromisePenalty
    }

    /// How far the four rate weights may miss 100 in total.
    public static let sumTolerance = 0.001

    /// Each problem with its field, for a 422 answer: a weight or penalty that is negative or
    /// not a number, and rate weights that do not add up to 100.
    public var problems: [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        let fields: [(String, Double)] = [
            ("onTimeReply", onTimeReply), ("threeMeetings", threeMeetings), ("coUnitOpinions", coUnitOpinions),
            ("satisfaction", satisfaction), ("rehandlingPenalty", rehandlingPenalty), ("extensionPenalty", extensionPenalty),
            ("unkeptPromisePenalty", unkeptPromisePenalty),
        ]
        for (field, value) in fields {
            if !value.isFinite {
                problems.append((field: field, message: "must be a finite number"))
            } else if value < 0 {
                problems.append((field: field, message: "must not be negative, not \(value)"))
            }
        }
        let sum = onTimeReply + threeMeetings + coUnitOpinions + satisfaction
        if sum.isFinite, abs(sum - 100) > Self.sumTolerance {
            problems.append(
                (
                    field: "weights", message: "onTimeReply, threeMeetings, coUnitOpinions and satisfaction must add up to 100, not \(sum)"
                ))
        }
        return problems
    }
}

/// One handling unit's evaluation (承办单位考核) for a period: its counts, its rates, and its
/// weighted score and rank among the units evaluated with it.
public struct UnitEvaluation: Codable, Sendable, Hashable {
    public var unitID: UUID
    /// The name on the unit's latest assignment in the period.
    public var unitName: String
    /// Assignments in the period, as lead unit or co-unit (交办件数).
    public var assignments: Int
    /// Of them, as lead unit (主办件数).
    public var leadAssignments: Int
    /// Lead assignments whose deadline is within the period or that are already replied.
    public var repliesDue: Int
    /// Of them, replied by the deadline.
    public var onTimeReplies: Int
    /// `onTimeReplies / repliesDue`; nil when no reply is due.
    public var onTimeReplyRate: Double?
    /// Lead assignments already replied: only they can have had all three meetings.
    public var repliedLeadAssignments: Int
    /// Of them, with the meetings before, during and after handling all recorded.
    public var threeMeetingsComplete: Int
    /// `threeMeetingsComplete / repliedLeadAssignments`; nil when no lead assignment is replied.
    public var threeMeetingRate: Double?
    /// Assignments in the period as co-unit.
    public var coUnitAssignments: Int
    /// Co-unit assignments whose opinion was due within the period or was given.
    public var opinionsDue: Int
    /// Of them, with the opinion given by its due date.
    public var opinionsOnTime: Int
    /// `opinionsOnTime / opinionsDue`; nil when no opinion is due.
    public var coUnitOpinionRate: Double?
    /// Assignments the proposer has evaluated.
    public var evaluatedAssignments: Int
    /// Of them, satisfied or basically satisfied.
    public var satisfiedAssignments: Int
    /// `satisfiedAssignments / evaluatedAssignments`; nil when none is evaluated.
    public var satisfactionRate: Double?
    public var rehandlings: Int
    public var extensions: Int
    /// Follow-up reviews (回头看) recorded for the unit's B replies, and what they found.
    public var followUpsRecorded: Int
    public var followUpsDone: Int
    public var followUpsPartly: Int
    public var followUpsNotDone: Int
    /// Out of 100, rounded to two decimals, never below 0.
    public var score: Double
    /// 1 for the best; units with equal scores share a rank, and the next rank skips (1, 1, 3).
    public var rank: Int

    // Ids as the rest of the API spells them.
    enum CodingKeys: String, CodingKey {
        case unitID = "unitId", unitName, assignments, leadAssignments, repliesDue, onTimeReplies, onTimeReplyRate
        case repliedLeadAssignments, threeMeetingsComplete, threeMeetingRate, coUnitAssignments, opinionsDue, opinionsOnTime
        case coUnitOpinionRate, evaluatedAssignments, satisfiedAssignments, satisfactionRate, rehandlings, extensions
        case followUpsRecorded, followUpsDone, followUpsPartly, followUpsNotDone, score, rank
    }
}

/// The shortlist for year-end commendation (表彰): advanced units (先进承办单位) and excellent
/// proposals (优秀提案办理).
public struct Commendations: Codable, Sendable, Hashable {
    public var advancedUnits: [UnitEvaluation]
    public var excellentProposals: [ExcellentProposal]

    public init(advancedUnits: [UnitEvaluation], excellentProposals: [ExcellentProposal]) {
        self.advancedUnits = advancedUnits
        self.excellentProposals = excellentProposals
    }
}

/// A proposal replied on time, solved or adopted, with every unit's proposer evaluation satisfied.
public struct ExcellentProposal: Codable, Sendable, Hashable {
    public var proposalID: UUID
    public var caseNumber: String
    public var leadUnitName: String
    public var replyCategory: ReplyCategory
    public var satisfaction: Satisfaction
    public var isKey: Bool

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, leadUnitName, replyCategory, satisfaction, isKey
    }

    public init(
        proposalID: UUID, caseNumber: String, leadUnitName: String, replyCategory: ReplyCategory,
        satisfaction: Satisfaction, isKey: Bool
    ) {
        self.proposalID = proposalID
        self.caseNumber = caseNumber
        self.leadUnitName = leadUnitName
        self.replyCategory = replyCategory
        self.satisfaction = satisfaction
        self.isKey = isKey
    }
}

/// The quantified evaluation of handling units (一评议, 考核): the same facts, period and weights
/// give the same evaluations, in whatever order the facts come.
public enum UnitEvaluator {
    /// Evaluates every unit with an assignment made in `period` (by its day of assignment).
    ///
    /// A rate with nothing to measure (nil) is left out and the remaining weights are scaled up
    /// to 100, so that a unit without co-unit work, say, is neither punished nor rewarded for it.
    /// A unit with no rate to measure at all, or only rates of weight 0, scores 0. Penalties are
    /// taken off after the scaling, and the score never falls below 0.
    ///
    /// The result is ordered by score (highest first), then unit name, then unit id.
    public static func evaluate(
        _ facts: [AssignmentRecordFacts], period: ClosedRange<LocalDate>, weights: EvaluationWeights
    ) -> [UnitEvaluation] {
        let inPeriod = facts.filter { period.contains($0.assignedOn) }.sorted(by: canonicalOrder)
        var tallies: [UUID: Tally] = [:]
        for fact in inPeriod {
            tallies[fact.unitID, default: Tally(unitID: fact.unitID)].add(fact, periodEnd: period.upperBound)
        }
        return ranked(tallies.values.map { $0.evaluation(weights: weights) })
    }

    // MARK: Export

    /// The CSV columns, in order.
    public static let csvHeader = [
        "单位", "交办件数", "主办件数", "按时答复率", "三见面率", "会办意见率", "满意率", "重新办理次数", "延期次数", "回头看未落实", "回头看部分落实", "得分", "名次",
    ]

    /// RFC 4180 CSV with a header row and CRLF line ends, one row per evaluation in the given
    /// order. Rates are percentages with one decimal (66.7), empty when there was nothing to
    /// measure; scores have two decimals.
    public static func csv(_ evaluations: [UnitEvaluation]) -> String {
        var lines = [csvHeader.map(csvField).joined(separator: ",")]
        for evaluation in evaluations {
            let fields = [
                evaluation.unitName,
                String(evaluation.assignments),
                String(evaluation.leadAssignments),
                percent(evaluation.onTimeReplyRate),
                percent(evaluation.threeMeetingRate),
                percent(evaluation.coUnitOpinionRate),
                percent(evaluation.satisfactionRate),
                String(evaluation.rehandlings),
                String(evaluation.extensions),
                String(evaluation.followUpsNotDone),
                String(evaluation.followUpsPartly),
                fixed(evaluation.score, decimals: 2),
                String(evaluation.rank),
            ]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// One CSV field: a leading apostrophe where a spreadsheet would take the text for a formula
    /// (it starts with =, +, -, @, a tab or a carriage return), then quoted where it contains a
    /// comma, a quote, CR or LF, with its quotes doubled.
    public static func csvField(_ text: String) -> String {
        var field = text
        if let first = field.unicodeScalars.first, formulaStarts.contains(first) {
            field = "'" + field
        }
        if field.unicodeScalars.contains(where: { needsQuotes.contains($0) }) {
            field = "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return field
    }

    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
    private static let needsQuotes: Set<Unicode.Scalar> = [",", "\"", "\r", "\n"]

    /// The evaluations as JSON with sorted keys, so that equal evaluations give equal bytes.
    /// A rate with nothing to measure is left out.
    public static func json(_ evaluations: [UnitEvaluation]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(evaluations)
    }

    // MARK: Commendations

    /// The commendation shortlist.
    ///
    /// Advanced units: the first `count` of `evaluations` (in evaluation order) with at least
    /// `minimumAssignments` assignments and a score of at least `minimumScore`.
    ///
    /// Excellent proposals: those whose lead unit replied by the deadline with the result
    /// solved or adopted (A), where every unit's proposer evaluation is satisfied (an unevaluated
    /// unit does not count as satisfied) and no unit re-handled it; key proposals first, then by
    /// case number. A proposal belongs to the period of its lead assignment; where a proposal
    /// has several lead assignments the latest counts. Without a period, all facts count, so pass
    /// either the period's facts or the period.
    public static func commendations(
        _ evaluations: [UnitEvaluation], facts: [AssignmentRecordFacts], period: ClosedRange<LocalDate>? = nil,
        advancedUnits count: Int = 5, minimumAssignments: Int = 3, minimumScore: Double = 90
    ) -> Commendations {
        let advanced = evaluations.sorted(by: precedes)
            .filter { $0.assignments >= minimumAssignments && $0.score >= minimumScore }
            .prefix(max(0, count))

        var byProposal: [UUID: [AssignmentRecordFacts]] = [:]
        for fact in facts.sorted(by: canonicalOrder) {
            byProposal[fact.proposalID, default: []].append(fact)
        }
        var excellent: [ExcellentProposal] = []
        for (proposalID, parts) in byProposal {
            guard let lead = parts.last(where: { $0.role == .lead }) else { continue }
            if let period, !period.contains(lead.assignedOn) { continue }
            guard let repliedOn = lead.repliedOn, repliedOn <= lead.deadline,
                lead.replyCategory == .solvedOrAdopted,
                parts.allSatisfy({ $0.satisfaction == .satisfied && $0.rehandlings <= 0 })
            else { continue }
            excellent.append(
                ExcellentProposal(
                    proposalID: proposalID, caseNumber: lead.caseNumber, leadUnitName: lead.unitName,
                    replyCategory: .solvedOrAdopted, satisfaction: .satisfied, isKey: lead.isKey))
        }
        excellent.sort { lhs, rhs in
            if lhs.isKey != rhs.isKey { return lhs.isKey }
            if lhs.caseNumber != rhs.caseNumber { return lhs.caseNumber < rhs.caseNumber }
            return lhs.proposalID.uuidString < rhs.proposalID.uuidString
        }
        return Commendations(advancedUnits: Array(advanced), excellentProposals: excellent)
    }

    // MARK: Internals

    /// A total order on facts, so that the input order never shows in the result.
    private static func canonicalOrder(_ lhs: AssignmentRecordFacts, _ rhs: AssignmentRecordFacts) -> Bool {
        if lhs.assignedOn != rhs.assignedOn { return lhs.assignedOn < rhs.assignedOn }
        if lhs.assignmentID != rhs.assignmentID { return lhs.assignmentID.uuidString < rhs.assignmentID.uuidString }
        return lhs.unitName < rhs.unitName
    }

    /// Score (highest first), then unit name, then unit id.
    private static func precedes(_ lhs: UnitEvaluation, _ rhs: UnitEvaluation) -> Bool {
        if lhs.score != rhs.score { return lhs.score > rhs.score }
        if lhs.unitName != rhs.unitName { return lhs.unitName < rhs.unitName }
        return lhs.unitID.uuidString < rhs.unitID.uuidString
    }

    private static func ranked(_ evaluations: [UnitEvaluation]) -> [UnitEvaluation] {
        var ordered = evaluations.sorted(by: precedes)
        var rank = 0
        for index in ordered.indices {
            if index == 0 || ordered[index].score != ordered[index - 1].score { rank = index + 1 }
            ordered[index].rank = rank
        }
        return ordered
    }

    /// A rate as a percentage with one decimal, or empty.
    private static func percent(_ rate: Double?) -> String {
        guard let rate else { return "" }
        return fixed(rate * 100, decimals: 1)
    }

    /// A non-negative number with a fixed number of decimals (1 or 2), rounded half away from
    /// zero, without the locale or printf's rounding.
    private static func fixed(_ value: Double, decimals: Int) -> String {
        let scale = decimals == 1 ? 10 : 100
        let scaled = (value * Double(scale)).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else { return "" }
        let units = Int(scaled)
        let whole = String(abs(units) / scale)
        let fraction = String(abs(units) % scale)
        let padded = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
        return (units < 0 ? "-" : "") + whole + "." + padded
    }
}

/// One unit's counts while the facts are read.
private struct Tally {
    let unitID: UUID
    var unitName = ""
    var assignments = 0
    var leadAssignments = 0
    var repliesDue = 0
    var onTimeReplies = 0
    var repliedLeadAssignments = 0
    var threeMeetingsComplete = 0
    var coUnitAssignments = 0
    var opinionsDue = 0
    var opinionsOnTime = 0
    var evaluatedAssignments = 0
    var satisfiedAssignments = 0
    var rehandlings = 0
    var extensions = 0
    var followUps: [FollowUpResult: Int] = [:]

    init(unitID: UUID) {
        self.unitID = unitID
    }

    /// Facts come in date order, so the unit's name is the one on its latest assignment.
    mutating func add(_ fact: AssignmentRecordFacts, periodEnd: LocalDate) {
        unitName = fact.unitName
        assignments += 1
        switch fact.role {
        case .lead:
            leadAssignments += 1
            if let repliedOn = fact.repliedOn {
                repliesDue += 1
                if repliedOn <= fact.deadline { onTimeReplies += 1 }
                repliedLeadAssignments += 1
                if fact.meetings.isSuperset(of: MeetingStage.allCases) { threeMeetingsComplete += 1 }
            } else if fact.deadline <= periodEnd {
                repliesDue += 1
            }
        case .coHandling:
            coUnitAssignments += 1
            let dueOn = fact.opinionDueOn ?? fact.deadline
            if let givenOn = fact.opinionGivenOn {
                opinionsDue += 1
                if givenOn <= dueOn { opinionsOnTime += 1 }
            } else if dueOn <= periodEnd {
                opinionsDue += 1
            }
        }
        if let satisfaction = fact.satisfaction {
            evaluatedAssignments += 1
            switch satisfaction {
            case .satisfied, .basicallySatisfied: satisfiedAssignments += 1
            case .dissatisfied: break
            }
        }
        rehandlings += max(0, fact.rehandlings)
        extensions += max(0, fact.extensions)
        if let followUp = fact.followUp { followUps[followUp, default: 0] += 1 }
    }

    func evaluation(weights: EvaluationWeights) -> UnitEvaluation {
        let onTimeReplyRate = Self.rate(onTimeReplies, of: repliesDue)
        let threeMeetingRate = Self.rate(threeMeetingsComplete, of: repliedLeadAssignments)
        let coUnitOpinionRate = Self.rate(opinionsOnTime, of: opinionsDue)
        let satisfactionRate = Self.rate(satisfiedAssignments, of: evaluatedAssignments)

        var weighted = 0.0
        var totalWeight = 0.0
        let parts: [(rate: Double?, weight: Double)] = [
            (onTimeReplyRate, weights.onTimeReply), (threeMeetingRate, weights.threeMeetings),
            (coUnitOpinionRate, weights.coUnitOpinions), (satisfactionRate, weights.satisfaction),
        ]
        for part in parts {
            guard let rate = part.rate else { continue }
            weighted += rate * part.weight
            totalWeight += part.weight
        }
        let base = totalWeight > 0 ? weighted * 100 / totalWeight : 0
        let unkeptPromises = Double(followUps[.notDone, default: 0]) + Double(followUps[.partly, default: 0]) / 2
        let penalties =
            Double(rehandlings) * weights.rehandlingPenalty + Double(extensions) * weights.extensionPenalty
            + unkeptPromises * weights.unkeptPromisePenalty
        let raw = base - penalties
        let score = raw.isFinite && raw > 0 ? (raw * 100).rounded() / 100 : 0

        return UnitEvaluation(
            unitID: unitID, unitName: unitName, assignments: assignments, leadAssignments: leadAssignments,
            repliesDue: repliesDue, onTimeReplies: onTimeReplies, onTimeReplyRate: onTimeReplyRate,
            repliedLeadAssignments: repliedLeadAssignments, threeMeetingsComplete: threeMeetingsComplete,
            threeMeetingRate: threeMeetingRate, coUnitAssignments: coUnitAssignments, opinionsDue: opinionsDue,
            opinionsOnTime: opinionsOnTime, coUnitOpinionRate: coUnitOpinionRate,
            evaluatedAssignments: evaluatedAssignments, satisfiedAssignments: satisfiedAssignments,
            satisfactionRate: satisfactionRate, rehandlings: rehandlings, extensions: extensions,
            followUpsRecorded: followUps.values.reduce(0, +), followUpsDone: followUps[.done, default: 0],
            followUpsPartly: followUps[.partly, default: 0], followUpsNotDone: followUps[.notDone, default: 0],
            score: score, rank: 0)
    }

    private static func rate(_ count: Int, of total: Int) -> Double? {
        total > 0 ? Double(count) / Double(total) : nil
    }
}
