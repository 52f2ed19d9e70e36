import Foundation
import Models

// The rule definitions as staff edit them and as stored, and the problems found when saving.

/// A district's pre-classification rules (分类规则): which special committee's domain a clue
/// belongs to, how urgent it is, whose authority it falls under and which street it comes from.
/// Stored as JSON, one row per version per district; staff edit it through the API, and
/// `compile()` rejects an invalid definition before it is saved.
///
/// Order matters in two lists:
/// - `domains`: the best-scoring matching rule wins; on a tie, the earlier rule.
/// - `jurisdiction`: the first matching rule decides, so put strong municipal markers (metro,
///   rail, expressways) first, then rules keeping local matters (社区, 小区) with the district,
///   then weak municipal markers that also turn up in local clues (码头, 珠江). A clue no rule
///   matches stays with the district.
/// In `urgency` the highest matching level counts; in `streets` the first matching rule names the
/// street, looking at the address first, then the receiver, then the clue's text.
public struct RuleSet: Codable, Sendable, Hashable {
    /// The district's special committees (专委会), the owners of domains.
    public var committees: [CommitteeDefinition]
    public var domains: [DomainRule]
    public var urgency: [UrgencyRule]
    public var jurisdiction: [JurisdictionRule]
    public var streets: [StreetRule]

    public init(
        committees: [CommitteeDefinition], domains: [DomainRule], urgency: [UrgencyRule] = [],
        jurisdiction: [JurisdictionRule] = [], streets: [StreetRule] = []
    ) {
        self.committees = committees
        self.domains = domains
        self.urgency = urgency
        self.jurisdiction = jurisdiction
        self.streets = streets
    }

    private enum CodingKeys: String, CodingKey {
        case committees, domains, urgency, jurisdiction, streets
    }

    /// Committees and domains are the core of a rule set; the other lists may be left out.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        committees = try container.decode([CommitteeDefinition].self, forKey: .committees)
        domains = try container.decode([DomainRule].self, forKey: .domains)
        urgency = try container.decodeIfPresent([UrgencyRule].self, forKey: .urgency) ?? []
        jurisdiction = try container.decodeIfPresent([JurisdictionRule].self, forKey: .jurisdiction) ?? []
        streets = try container.decodeIfPresent([StreetRule].self, forKey: .streets) ?? []
    }
}

/// A special committee (专委会), e.g. `economy` 经济委.
public struct CommitteeDefinition: Codable, Sendable, Hashable {
    public var code: String
    public var name: String

    public init(code: String, name: String) {
        self.code = code
        self.name = name
    }
}

/// A domain (领域) of clues and the special committee that owns it.
public struct DomainRule: Codable, Sendable, Hashable {
    public var code: String
    public var name: String
    /// The code of the owning committee.
    public var committee: String
    /// A match expression, e.g. `公交 | 红绿灯 | (电动自行车 | 电动车) & 头盔`.
    public var match: String

    public init(code: String, name: String, committee: String, match: String) {
        self.code = code
        self.name = name
        self.committee = committee
        self.match = match
    }
}

/// Raises a clue's urgency (分级) to `level` when its expression matches; `normal` is what a
/// clue has without any rule, so it is not a valid level for a rule.
public struct UrgencyRule: Codable, Sendable, Hashable {
    public var id: String
    public var level: Urgency
    public var match: String

    public init(id: String, level: Urgency, match: String) {
        self.id = id
        self.level = level
        self.match = match
    }
}

/// Places a clue under the district's or the city's authority, optionally naming the municipal
/// department concerned (e.g. 市交通运输局), for the through train (直通车) or direct forwarding.
public struct JurisdictionRule: Codable, Sendable, Hashable {
    public var id: String
    public var scope: Jurisdiction
    public var match: String
    public var department: String?

    public init(id: String, scope: Jurisdiction, match: String, department: String? = nil) {
        self.id = id
        self.scope = scope
        self.match = match
        self.department = department
    }
}

/// One of the district's streets (街道), whose member studio follows the clue.
public struct StreetRule: Codable, Sendable, Hashable {
    public var name: String
    public var match: String

    public init(name: String, match: String) {
        self.name = name
        self.match = match
    }
}

// MARK: - Problems found when saving

/// One reason a rule set cannot be saved, pointing at the rule and field, and for match
/// expressions at the character (1-based) where the expression goes wrong.
public struct RuleProblem: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The rule, e.g. `domains[2]`, or the list (`committees`, `domains`) or `ruleSet` as a whole.
    public var rule: String
    /// The field of the rule, e.g. `match`, `code`, `committee`.
    public var field: String
    /// For match expressions: the 1-based character position of the error.
    public var position: Int?
    public var message: String

    public init(rule: String, field: String, position: Int? = nil, message: String) {
        self.rule = rule
        self.field = field
        self.position = position
        self.message = message
    }

    public var description: String {
        let at = position.map { " at character \($0)" } ?? ""
        return "\(rule).\(field)\(at): \(message)"
    }
}

/// All the problems of a rule set, so staff can fix them in one go.
public struct RuleSetInvalid: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [RuleProblem]

    public init(problems: [RuleProblem]) {
        self.problems = problems
    }

    public var description: String {
        "invalid classification rules: " + problems.map(\.description).joined(separator: "; ")
    }
}

/// Limits that keep one district's rules cheap to evaluate on every clue.
enum RuleLimits {
    static let codeLength = 40
    static let nameLength = 40
    static let matchLength = 2_000
    static let rules = 500
    /// Parentheses and `!` nested deeper than this are rejected (bounds the parser's recursion).
    static let nesting = 32
}
