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

/// One clue to the credit of the register entry that took it in (接收人), and of the studio it
/// was collected for at the time.
public struct ClueCredit: Codable, Sendable, Hashable {
    /// The register entry credited (`RegisterEntry.code`): a member or a studio.
    public var code: String
    /// The studio credited: the studio itself, or the member's studio when the clue was received.
    public var studio: String?
    /// The day the clue was received, in the district's time zone.
    public var receivedOn: LocalDate

    public init(code: String, studio: String? = nil, receivedOn: LocalDate) {
        self.code = code
        self.studio = studio
        self.receivedOn = receivedOn
    }
}

/// Where one studio or member of the register stands against the quota.
public struct QuotaStanding: Codable, Sendable, Hashable {
    /// The register entry's code: what reminders are addressed to.
    public var code: String
    public var name: String
    public var kind: Receiver.Kind
    /// The month for a studio (`2026-11`), the year for a member (`2026`).
    public var period: String
    /// Clues received in the period: for a member, in the year up to the end of the month asked about.
    public var count: Int
    public var required: Int
    /// How many clues are missing; 0 when the quota is met.
    public var shortfall: Int

    public init(code: String, name: String, kind: Receiver.Kind, period: String, count: Int, required: Int, shortfall: Int) {
        self.code = code
        self.name = name
        self.kind = kind
        self.period = period
        self.count = count
        self.required = required
        self.shortfall = shortfall
    }
}

/// Counts clues against the quotas (任务数) of the register's active entries: studios by the
/// month, members by the year.
public enum QuotaCounter {
    /// Every active studio and member of `register` with their count: a studio's clues in the
    /// month `month` (those it took in itself and those its members took in for it), a member's
    /// in its year up to the end of that month (year to date). Credits of entries not in the
    /// register, or inactive, owe nothing and are left out. Ordered by shortfall (largest first),
    /// then name, then code. `month.month` is expected in 1...12.
    public static func standings(
        credits: [ClueCredit], register: [RegisterEntry], month: (year: Int, month: Int), rule: QuotaRule
    ) -> [QuotaStanding] {
        var studioCounts: [String: Int] = [:]
        var memberCounts: [String: Int] = [:]
        for credit in credits where credit.receivedOn.year == month.year {
            if credit.receivedOn.month <= month.month { memberCounts[credit.code, default: 0] += 1 }
            guard credit.receivedOn.month == month.month else { continue }
            // A studio's own clue and a member's clue for it count once each.
            studioCounts[credit.code, default: 0] += 1
            if let studio = credit.studio, studio != credit.code { studioCounts[studio, default: 0] += 1 }
        }
        let monthPeriod = String(month.year) + "-" + (month.month < 10 ? "0" : "") + String(month.month)
        let all = register.filter(\.active).map { entry -> QuotaStanding in
            let (count, required, period) =
                switch entry.kind {
                case .studio: (studioCounts[entry.code] ?? 0, rule.studioCluesPerMonth, monthPeriod)
                case .member: (memberCounts[entry.code] ?? 0, rule.memberCluesPerYear, String(month.year))
                }
            return QuotaStanding(
                code: entry.code, name: entry.name, kind: entry.kind, period: period, count: count, required: required,
                shortfall: max(0, required - count))
        }
        return all.sorted { lhs, rhs in
            if lhs.shortfall != rhs.shortfall { return lhs.shortfall > rhs.shortfall }
            if lhs.name != rhs.name { return lhs.name < rhs.name }
            return lhs.code < rhs.code
        }
    }

    /// Only those behind their quota (shortfall above 0), in the order of `standings`.
    public static func behind(
        credits: [ClueCredit], register: [RegisterEntry], month: (year: Int, month: Int), rule: QuotaRule
    ) -> [QuotaStanding] {
        standings(credits: credits, register: register, month: month, rule: rule).filter { $0.shortfall > 0 }
    }
}
