import Foundation

/// How many clues the district expects: each street member studio (街道委员工作室) at least
/// `studioCluesPerMonth` a month, each committee member (委员) at least `memberCluesPerYear` a year.
/// Stored as JSON in the district's configuration; a missing key keeps its default.
public struct QuotaRule: Codable, Sendable, Hashable {
    public var studioCluesPerMonth = 2
    public var memberCluesPerYear = 2

    public init(studioCluesPerMonth: Int = 2, memberCluesPerYear: Int = 2) {
        self.studioCluesPerMonth = studioCluesPerMonth
        self.memberCluesPerYear = memberCluesPerYear
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = QuotaRule()
        studioCluesPerMonth = try container.decodeIfPresent(Int.self, forKey: .studioCluesPerMonth) ?? defaults.studioCluesPerMonth
        memberCluesPerYear = try container.decodeIfPresent(Int.self, forKey: .memberCluesPerYear) ?? defaults.memberCluesPerYear
    }

    /// Each problem with its field, for a 422 answer.
    public var problems: [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        if studioCluesPerMonth < 0 {
            problems.append((field: "studioCluesPerMonth", message: "must not be negative, not \(studioCluesPerMonth)"))
        }
        if memberCluesPerYear < 0 {
            problems.append((field: "memberCluesPerYear", message: "must not be negative, not \(memberCluesPerYear)"))
        }
        return problems
    }
}

/// One clue to the credit of the studio or member who took it in (接收人), from an intake event.
public struct ClueCredit: Codable, Sendable, Hashable {
    /// A street studio or a committee member, as on the intake form.
    public typealias Kind = Receiver.Kind

    /// The studio's or member's id or name, exactly as received; credits match the roster by it.
    public var receiver: String
    public var kind: Kind
    /// The day the clue was received, in the district's time zone.
    public var receivedOn: LocalDate

    public init(receiver: String, kind: Kind, receivedOn: LocalDate) {
        self.receiver = receiver
        self.kind = kind
        self.receivedOn = receivedOn
    }

    /// The credit for a clue taken in by `receiver`.
    public init(_ receiver: Receiver, receivedOn: LocalDate) {
        self.init(receiver: receiver.name, kind: receiver.kind, receivedOn: receivedOn)
    }
}

/// Where one studio or member stands against the quota.
public struct QuotaStanding: Codable, Sendable, Hashable {
    public var receiver: String
    public var kind: ClueCredit.Kind
    /// The month for a studio (`2026-11`), the year for a member (`2026`).
    public var period: String
    /// Clues received in the period: for a member, in the year up to the end of the month asked about.
    public var count: Int
    public var required: Int
    /// How many clues are missing; 0 when the quota is met.
    public var shortfall: Int

    public init(receiver: String, kind: ClueCredit.Kind, period: String, count: Int, required: Int, shortfall: Int) {
        self.receiver = receiver
        self.kind = kind
        self.period = period
        self.count = count
        self.required = required
        self.shortfall = shortfall
    }
}

/// Counts clues against the quotas (任务数): studios by the month, members by the year.
public enum QuotaCounter {
    /// Every studio and member on the roster, and everyone else credited with a clue in the
    /// period, with their count: studios in the month `month`, members in its year up to the end
    /// of that month (year to date). Ordered by shortfall (largest first), then receiver, then kind.
    /// `month.month` is expected in 1...12.
    public static func standings(
        credits: [ClueCredit], roster: [(receiver: String, kind: ClueCredit.Kind)],
        month: (year: Int, month: Int), rule: QuotaRule
    ) -> [QuotaStanding] {
        var counts: [ReceiverKey: Int] = [:]
        for entry in roster {
            let key = ReceiverKey(receiver: entry.receiver, kind: entry.kind)
            if counts[key] == nil { counts[key] = 0 }
        }
        for credit in credits where isCounted(credit, in: month) {
            counts[ReceiverKey(receiver: credit.receiver, kind: credit.kind), default: 0] += 1
        }
        let monthPeriod = String(month.year) + "-" + (month.month < 10 ? "0" : "") + String(month.month)
        let all = counts.map { entry -> QuotaStanding in
            let key = entry.key
            let required: Int
            let period: String
            switch key.kind {
            case .studio:
                required = rule.studioCluesPerMonth
                period = monthPeriod
            case .member:
                required = rule.memberCluesPerYear
                period = String(month.year)
            }
            return QuotaStanding(
                receiver: key.receiver, kind: key.kind, period: period, count: entry.value, required: required,
                shortfall: max(0, required - entry.value))
        }
        return all.sorted { lhs, rhs in
            if lhs.shortfall != rhs.shortfall { return lhs.shortfall > rhs.shortfall }
            if lhs.receiver != rhs.receiver { return lhs.receiver < rhs.receiver }
            return lhs.kind.rawValue < rhs.kind.rawValue
        }
    }

    /// Only those behind their quota (shortfall above 0), in the order of `standings`.
    public static func behind(
        credits: [ClueCredit], roster: [(receiver: String, kind: ClueCredit.Kind)],
        month: (year: Int, month: Int), rule: QuotaRule
    ) -> [QuotaStanding] {
        standings(credits: credits, roster: roster, month: month, rule: rule).filter { $0.shortfall > 0 }
    }

    /// Whether a credit falls in the period: a studio's in the month, a member's in the year to date.
    private static func isCounted(_ credit: ClueCredit, in month: (year: Int, month: Int)) -> Bool {
        guard credit.receivedOn.year == month.year else { return false }
        switch credit.kind {
        case .studio: return credit.receivedOn.month == month.month
        case .member: return credit.receivedOn.month <= month.month
        }
    }
}

private struct ReceiverKey: Hashable {
    var receiver: String
    var kind: ClueCredit.Kind
}
