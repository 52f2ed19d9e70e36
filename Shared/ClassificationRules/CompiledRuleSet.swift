import Foundation
import Models

// Classification: a clue's text against a district's compiled rules.

/// The parts of a clue that classification reads.
public struct ClueText: Sendable, Hashable {
    public var title: String
    /// 情况分析.
    public var situation: String
    /// 具体建议.
    public var suggestions: String
    public var address: String?
    /// The receiver (接收人): a member or a street member studio.
    public var receiver: String?

    public init(title: String, situation: String, suggestions: String, address: String? = nil, receiver: String? = nil) {
        self.title = title
        self.situation = situation
        self.suggestions = suggestions
        self.address = address
        self.receiver = receiver
    }

    subscript(field: ClueField) -> String? {
        switch field {
        case .title: return title
        case .situation: return situation
        case .suggestions: return suggestions
        case .address: return address
        case .receiver: return receiver
        }
    }
}

/// A clue's fields as bits, so one byte per phrase records where it was found.
enum ClueField: UInt8, CaseIterable {
    case title = 1, situation = 2, suggestions = 4, address = 8, receiver = 16

    /// What domains, urgency and jurisdiction read: the clue's own text.
    static let body: UInt8 = title.rawValue | situation.rawValue | suggestions.rawValue
    /// Where a street is looked for, most telling first.
    static let streetTiers: [UInt8] = [address.rawValue, receiver.rawValue, body]

    var bit: UInt8 { rawValue }

    var name: String {
        switch self {
        case .title: return "title"
        case .situation: return "situation"
        case .suggestions: return "suggestions"
        case .address: return "address"
        case .receiver: return "receiver"
        }
    }

    static func names(in mask: UInt8) -> [String] {
        allCases.filter { (mask & $0.bit) != 0 }.map(\.name)
    }
}

/// What the rules say about a clue, and why: staff review it before choosing a route.
public struct Classification: Codable, Sendable, Hashable {
    /// The winning domain's code.
    public var domain: String?
    /// The code of the committee owning that domain.
    public var committee: String?
    public var urgency: Urgency
    public var jurisdiction: Jurisdiction
    /// The municipal department named by the jurisdiction rule that fired, if any.
    public var department: String?
    public var street: String?
    /// Domains (winner first, then the alternatives), urgency, jurisdiction, street.
    public var hits: [RuleHit]

    public init(
        domain: String?, committee: String?, urgency: Urgency, jurisdiction: Jurisdiction, department: String?,
        street: String?, hits: [RuleHit]
    ) {
        self.domain = domain
        self.committee = committee
        self.urgency = urgency
        self.jurisdiction = jurisdiction
        self.department = department
        self.street = street
        self.hits = hits
    }
}

/// A rule that matched a clue, the phrases it found and where.
public struct RuleHit: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        case domain, urgency, jurisdiction, street
    }

    public var kind: Kind
    /// The domain code, urgency or jurisdiction rule id, or street name.
    public var rule: String
    /// The phrases found, as written in the rule, in rule order.
    public var phrases: [String]
    /// Which of `title`, `situation`, `suggestions`, `address`, `receiver` contained them.
    public var fields: [String]

    public init(kind: Kind, rule: String, phrases: [String], fields: [String]) {
        self.kind = kind
        self.rule = rule
        self.phrases = phrases
        self.fields = fields
    }
}

extension RuleSet {
    /// Checks the whole rule set, collecting every problem, and compiles each expression once.
    public func compile() throws(RuleSetInvalid) -> CompiledRuleSet {
        var check = RuleChecker()
        if committees.isEmpty {
            check.report("committees", "committees", "at least one special committee is required")
        }
        if domains.isEmpty {
            check.report("domains", "domains", "at least one domain is required")
        }
        let total = domains.count + urgency.count + jurisdiction.count + streets.count
        if total > RuleLimits.rules {
            check.report("ruleSet", "rules", "\(total) rules; at most \(RuleLimits.rules) are allowed")
        }

        var seenCommittees: [String: String] = [:]
        for (index, committee) in committees.enumerated() {
            let rule = "committees[\(index)]"
            check.code(committee.code, of: rule, field: "code", seen: &seenCommittees)
            check.name(committee.name, of: rule, field: "name")
        }
        let committeeCodes = Set(committees.map(\.code))

        var seenDomains: [String: String] = [:]
        var domainExpressions: [MatchExpression?] = []
        for (index, domain) in domains.enumerated() {
            let rule = "domains[\(index)]"
            check.code(domain.code, of: rule, field: "code", seen: &seenDomains)
            check.name(domain.name, of: rule, field: "name")
            if !committeeCodes.contains(domain.committee) {
                check.report(rule, "committee", "unknown committee \"\(domain.committee)\": it is not among the committees")
            }
            domainExpressions.append(check.match(domain.match, of: rule))
        }

        var seenUrgency: [String: String] = [:]
        var urgencyExpressions: [MatchExpression?] = []
        for (index, urgencyRule) in urgency.enumerated() {
            let rule = "urgency[\(index)]"
            check.code(urgencyRule.id, of: rule, field: "id", seen: &seenUrgency)
            if urgencyRule.level == .normal {
                check.report(rule, "level", "a rule raises urgency: its level is important or urgent, not normal")
            }
            urgencyExpressions.append(check.match(urgencyRule.match, of: rule))
        }

        var seenJurisdiction: [String: String] = [:]
        var jurisdictionExpressions: [MatchExpression?] = []
        for (index, jurisdictionRule) in jurisdiction.enumerated() {
            let rule = "jurisdiction[\(index)]"
            check.code(jurisdictionRule.id, of: rule, field: "id", seen: &seenJurisdiction)
            if let department = jurisdictionRule.department {
                check.name(department, of: rule, field: "department")
            }
            jurisdictionExpressions.append(check.match(jurisdictionRule.match, of: rule))
        }

        var seenStreets: [String: String] = [:]
        var streetExpressions: [MatchExpression?] = []
        for (index, street) in streets.enumerated() {
            let rule = "streets[\(index)]"
            if check.name(street.name, of: rule, field: "name") {
                check.unique(street.name, of: rule, field: "name", seen: &seenStreets)
            }
            streetExpressions.append(check.match(street.match, of: rule))
        }

        guard check.problems.isEmpty else { throw RuleSetInvalid(problems: check.problems) }
        return CompiledRuleSet(
            ruleSet: self,
            domains: domainExpressions.compactMap { $0 }, urgency: urgencyExpressions.compactMap { $0 },
            jurisdiction: jurisdictionExpressions.compactMap { $0 }, streets: streetExpressions.compactMap { $0 })
    }
}

/// Collects the problems of a rule set.
private struct RuleChecker {
    var problems: [RuleProblem] = []

    mutating func report(_ rule: String, _ field: String, _ message: String, at position: Int? = nil) {
        problems.append(RuleProblem(rule: rule, field: field, position: position, message: message))
    }

    /// Codes and ids: short, lower-case ASCII letters, digits and hyphens, unique in their list.
    mutating func code(_ code: String, of rule: String, field: String, seen: inout [String: String]) {
        guard !code.isEmpty else {
            report(rule, field, "\(field) must not be empty")
            return
        }
        if code.count > RuleLimits.codeLength {
            report(rule, field, "\(field) \"\(code)\" is longer than \(RuleLimits.codeLength) characters")
        }
        if !code.unicodeScalars.allSatisfy(Self.isCodeScalar) {
            report(rule, field, "\(field) \"\(code)\" may contain only lower-case ASCII letters, digits and hyphens")
        }
        unique(code, of: rule, field: field, seen: &seen)
    }

    /// Names shown to staff; returns whether the name is acceptable.
    @discardableResult
    mutating func name(_ name: String, of rule: String, field: String) -> Bool {
        if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            report(rule, field, "\(field) must not be empty")
            return false
        }
        if name.count > RuleLimits.nameLength {
            report(rule, field, "\(field) is longer than \(RuleLimits.nameLength) characters")
            return false
        }
        return true
    }

    mutating func unique(_ key: String, of rule: String, field: String, seen: inout [String: String]) {
        if let first = seen[key] {
            report(rule, field, "duplicate \(field) \"\(key)\": already used by \(first)")
        } else {
            seen[key] = rule
        }
    }

    /// The parsed expression, or nil after reporting why it cannot be used.
    mutating func match(_ source: String, of rule: String) -> MatchExpression? {
        let length = source.count
        if length > RuleLimits.matchLength {
            report(rule, "match", "the expression is \(length) characters long; at most \(RuleLimits.matchLength) are allowed")
        }
        do throws(MatchSyntaxError) {
            let expression = try MatchExpression(parsing: source)
            return length > RuleLimits.matchLength ? nil : expression
        } catch {
            report(rule, "match", error.message, at: error.position)
            return nil
        }
    }

    private static func isCodeScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x61...0x7A, 0x30...0x39, 0x2D: return true  // a-z, 0-9, -
        default: return false
        }
    }
}

/// A rule's expression, with its phrases numbered in the rule set's shared phrase matcher.
struct CompiledRule: Sendable {
    /// The position in its list of the rule set.
    let index: Int
    /// The domain code, rule id or street name that hits report.
    let name: String
    let expression: MatchExpression
    /// Expression phrase index → matcher phrase id.
    let phraseIDs: [Int]

    /// Whether the rule matches when only the phrases found in `fields` count.
    func matches(_ marks: [UInt8], in fields: UInt8, witnesses: inout [Int]) -> Bool {
        expression.evaluate(where: { (marks[phraseIDs[$0]] & fields) != 0 }, witnesses: &witnesses)
    }

    /// How many of the witnesses were found in `field`.
    func count(_ witnesses: [Int], foundIn field: ClueField, marks: [UInt8]) -> Int {
        var count = 0
        for id in witnesses where (marks[phraseIDs[id]] & field.bit) != 0 { count += 1 }
        return count
    }

    func hit(_ kind: RuleHit.Kind, witnesses: [Int], marks: [UInt8], fields: UInt8) -> RuleHit {
        var seen: UInt8 = 0
        for id in witnesses { seen |= marks[phraseIDs[id]] }
        return RuleHit(
            kind: kind, rule: name, phrases: witnesses.map { expression.distinctPhrases[$0].written },
            fields: ClueField.names(in: seen & fields))
    }
}

/// A validated rule set with every expression parsed and every phrase in one matcher, ready to
/// classify clues: each field of a clue is normalised and scanned once, then each rule is a walk
/// over its small expression tree.
public struct CompiledRuleSet: Sendable {
    public let ruleSet: RuleSet
    private let matcher: PhraseMatcher
    private let domains: [CompiledRule]
    private let urgency: [CompiledRule]
    private let jurisdiction: [CompiledRule]
    private let streets: [CompiledRule]
    private let committeeByDomain: [String: String]
    private let committeeNames: [String: String]

    /// `ruleSet` is valid and each list of expressions parallels its list of rules.
    fileprivate init(
        ruleSet: RuleSet, domains: [MatchExpression], urgency: [MatchExpression], jurisdiction: [MatchExpression],
        streets: [MatchExpression]
    ) {
        self.ruleSet = ruleSet
        var phrases: [String] = []
        var ids: [String: Int] = [:]
        func compiled(_ names: [String], _ expressions: [MatchExpression]) -> [CompiledRule] {
            zip(names, expressions).enumerated().map { index, pair in
                let phraseIDs = pair.1.distinctPhrases.map { phrase -> Int in
                    if let id = ids[phrase.normalised] { return id }
                    phrases.append(phrase.normalised)
                    ids[phrase.normalised] = phrases.count - 1
                    return phrases.count - 1
                }
                return CompiledRule(index: index, name: pair.0, expression: pair.1, phraseIDs: phraseIDs)
            }
        }
        self.domains = compiled(ruleSet.domains.map(\.code), domains)
        self.urgency = compiled(ruleSet.urgency.map(\.id), urgency)
        self.jurisdiction = compiled(ruleSet.jurisdiction.map(\.id), jurisdiction)
        self.streets = compiled(ruleSet.streets.map(\.name), streets)
        matcher = PhraseMatcher(phrases: phrases)
        committeeByDomain = Dictionary(ruleSet.domains.map { ($0.code, $0.committee) }, uniquingKeysWith: { first, _ in first })
        committeeNames = Dictionary(ruleSet.committees.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// The code of the committee owning a domain.
    public func committee(forDomain domain: String) -> String? {
        committeeByDomain[domain]
    }

    /// A committee's name, e.g. 经济委 for `economy`.
    public func committeeName(code: String) -> String? {
        committeeNames[code]
    }

    public func classify(_ text: ClueText) -> Classification {
        var marks = [UInt8](repeating: 0, count: matcher.phraseCount)
        var present: UInt8 = 0
        for field in ClueField.allCases {
            guard let value = text[field], !value.isEmpty else { continue }
            let comparable = ComparableText.of(value)
            guard !comparable.isEmpty else { continue }
            present |= field.bit
            matcher.mark(comparable, with: field.bit, in: &marks)
        }
        let found = marks
        var witnesses: [Int] = []
        witnesses.reserveCapacity(32)

        // Domain: one point per phrase found, one more if it is in the title.
        var domainHits: [(score: Int, index: Int, hit: RuleHit)] = []
        for rule in domains {
            guard rule.matches(found, in: ClueField.body, witnesses: &witnesses) else { continue }
            let score = witnesses.count + rule.count(witnesses, foundIn: .title, marks: found)
            domainHits.append((score, rule.index, rule.hit(.domain, witnesses: witnesses, marks: found, fields: ClueField.body)))
        }
        domainHits.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        let domain = domainHits.first?.hit.rule

        // Urgency: the highest level any rule raises it to.
        var urgencyHits: [(level: Urgency, index: Int, hit: RuleHit)] = []
        for rule in urgency {
            guard rule.matches(found, in: ClueField.body, witnesses: &witnesses) else { continue }
            let level = ruleSet.urgency[rule.index].level
            urgencyHits.append((level, rule.index, rule.hit(.urgency, witnesses: witnesses, marks: found, fields: ClueField.body)))
        }
        urgencyHits.sort { $0.level != $1.level ? $0.level > $1.level : $0.index < $1.index }

        // Jurisdiction: the first matching rule decides.
        var scope = Jurisdiction.district
        var department: String?
        var jurisdictionHit: RuleHit?
        for rule in jurisdiction where rule.matches(found, in: ClueField.body, witnesses: &witnesses) {
            let definition = ruleSet.jurisdiction[rule.index]
            scope = definition.scope
            department = definition.department
            jurisdictionHit = rule.hit(.jurisdiction, witnesses: witnesses, marks: found, fields: ClueField.body)
            break
        }

        // Street: the address is most telling, then the receiving studio, then the text.
        var street: String?
        var streetHit: RuleHit?
        tiers: for tier in ClueField.streetTiers where (present & tier) != 0 {
            for rule in streets where rule.matches(found, in: tier, witnesses: &witnesses) {
                street = rule.name
                streetHit = rule.hit(.street, witnesses: witnesses, marks: found, fields: tier)
                break tiers
            }
        }

        var hits = domainHits.map { $0.hit } + urgencyHits.map { $0.hit }
        if let jurisdictionHit { hits.append(jurisdictionHit) }
        if let streetHit { hits.append(streetHit) }
        return Classification(
            domain: domain, committee: domain.flatMap { committeeByDomain[$0] },
            urgency: urgencyHits.first?.level ?? .normal, jurisdiction: scope, department: department,
            street: street, hits: hits)
    }
}
