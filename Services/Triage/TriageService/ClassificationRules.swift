import Foundation
import Models

// MARK: - Rule definitions, as staff edit them and as stored

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

// MARK: - Match expressions

/// A rule's match expression: phrases combined with `|` (either), `&` (both), `!` (not) and
/// parentheses; `!` binds tighter than `&`, and `&` tighter than `|`. A phrase is a run of
/// characters other than whitespace and `| & ! ( ) "`, or a double-quoted string that may hold
/// anything but `"`. A phrase is found when the clue's comparable text (`ComparableText`: lower
/// case, half width, letters and digits only) contains the phrase's comparable text, so
/// punctuation, spacing and width never matter.
///
/// A rule must require at least one phrase to be present: an expression that only excludes
/// (`!地铁`) would match nearly every clue, so it is rejected.
public struct MatchExpression: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    let root: MatchNode
    /// The distinct phrases (by comparable text) in order of first appearance; `MatchNode.phrase`
    /// holds an index into this list.
    let distinctPhrases: [Phrase]

    public init(parsing source: String) throws(MatchSyntaxError) {
        var parser = MatchParser(source)
        let parsed = try parser.parse()
        self.source = source
        root = parsed.root
        distinctPhrases = parsed.phrases
    }

    /// The distinct phrases as written, in rule order.
    public var phrases: [String] { distinctPhrases.map(\.written) }

    /// The expression with its grouping made explicit, e.g. `a | (b & c)` for `a|b&c`.
    public var description: String { render(root, grouped: false) }

    /// Matches the expression against one text; for previews and tests. Rule sets evaluate
    /// compiled expressions against all of a clue's fields at once.
    public func evaluate(_ text: String) -> MatchOutcome {
        let matcher = PhraseMatcher(phrases: distinctPhrases.map(\.normalised))
        var marks = [UInt8](repeating: 0, count: distinctPhrases.count)
        matcher.mark(ComparableText.of(text), with: 1, in: &marks)
        let found = marks
        var witnesses: [Int] = []
        let matched = evaluate(where: { found[$0] != 0 }, witnesses: &witnesses)
        return MatchOutcome(matched: matched, phrases: witnesses.map { distinctPhrases[$0].written })
    }

    /// Whether the expression matches, given which phrases (by index) are found. `witnesses`
    /// receives the indices, in rule order and without repeats, of the found phrases that made
    /// it match: phrases of satisfied branches, never phrases under `!`.
    func evaluate(where isFound: (Int) -> Bool, witnesses: inout [Int]) -> Bool {
        witnesses.removeAll(keepingCapacity: true)
        guard Self.satisfied(root, isFound, &witnesses) else {
            witnesses.removeAll(keepingCapacity: true)
            return false
        }
        // Phrase indices follow first appearance, so sorting restores rule order.
        witnesses.sort()
        var kept = 0
        for index in witnesses.indices {
            let id = witnesses[index]
            if kept == 0 || witnesses[kept - 1] != id {
                witnesses[kept] = id
                kept += 1
            }
        }
        witnesses.removeSubrange(kept...)
        return true
    }

    /// A failed evaluation leaves `witnesses` as it found it; a successful one appends its own.
    private static func satisfied(_ node: MatchNode, _ isFound: (Int) -> Bool, _ witnesses: inout [Int]) -> Bool {
        switch node {
        case .phrase(let id):
            guard isFound(id) else { return false }
            witnesses.append(id)
            return true
        case .not(let inner):
            let mark = witnesses.count
            let innerMatched = satisfied(inner, isFound, &witnesses)
            witnesses.removeSubrange(mark...)
            return !innerMatched
        case .allOf(let parts):
            let mark = witnesses.count
            for part in parts {
                if !satisfied(part, isFound, &witnesses) {
                    witnesses.removeSubrange(mark...)
                    return false
                }
            }
            return true
        case .oneOf(let parts):
            // Every branch is tried, so the explanation lists every phrase found.
            var matched = false
            for part in parts {
                if satisfied(part, isFound, &witnesses) { matched = true }
            }
            return matched
        }
    }

    private func render(_ node: MatchNode, grouped: Bool) -> String {
        switch node {
        case .phrase(let id):
            let written = distinctPhrases[id].written
            return written.contains(where: MatchParser.endsBarePhrase) ? "\"\(written)\"" : written
        case .not(let inner):
            return "!" + render(inner, grouped: true)
        case .allOf(let parts):
            let text = parts.map { render($0, grouped: true) }.joined(separator: " & ")
            return grouped ? "(\(text))" : text
        case .oneOf(let parts):
            let text = parts.map { render($0, grouped: true) }.joined(separator: " | ")
            return grouped ? "(\(text))" : text
        }
    }
}

/// The result of matching one expression: whether it matched, and the phrases (as written in
/// the rule, in rule order) that made it match.
public struct MatchOutcome: Sendable, Hashable {
    public var matched: Bool
    public var phrases: [String]

    public init(matched: Bool, phrases: [String]) {
        self.matched = matched
        self.phrases = phrases
    }
}

/// Why a match expression cannot be parsed, at a 1-based character position of the expression.
public struct MatchSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var position: Int
    public var message: String

    public init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "at character \(position): \(message)" }
}

/// A phrase as written in the rule and in the comparable form it is searched in.
struct Phrase: Sendable, Hashable {
    var written: String
    var normalised: String
}

indirect enum MatchNode: Sendable, Hashable {
    case phrase(Int)
    case not(MatchNode)
    case allOf([MatchNode])
    case oneOf([MatchNode])

    /// Whether the expression can only match when some phrase is present.
    var requiresAPhrase: Bool {
        switch self {
        case .phrase: return true
        case .not: return false
        case .allOf(let parts): return parts.contains { $0.requiresAPhrase }
        case .oneOf(let parts): return parts.allSatisfy { $0.requiresAPhrase }
        }
    }
}

/// Recursive descent over tokens, keeping each token's character position for error messages:
///
///     either := both ("|" both)*
///     both   := unary ("&" unary)*
///     unary  := "!" unary | primary
///     primary := phrase | "(" either ")"
struct MatchParser {
    private struct Token {
        enum Kind: Equatable {
            case phrase(Int), or, and, not, open, close

            var symbol: String {
                switch self {
                case .phrase: return "phrase"
                case .or: return "|"
                case .and: return "&"
                case .not: return "!"
                case .open: return "("
                case .close: return ")"
                }
            }
        }

        var kind: Kind
        var position: Int
    }

    private let characters: [Character]
    private var tokens: [Token] = []
    private var cursor = 0
    private var depth = 0
    private var phrases: [Phrase] = []
    private var phraseIndex: [String: Int] = [:]

    init(_ source: String) {
        characters = Array(source)
    }

    mutating func parse() throws(MatchSyntaxError) -> (root: MatchNode, phrases: [Phrase]) {
        try tokenise()
        guard !tokens.isEmpty else {
            throw MatchSyntaxError(position: 1, message: "empty expression: write at least one phrase")
        }
        let root = try parseEither()
        // `both` stops only at `|` or `)`, and `either` consumed every `|`.
        if let extra = peek() {
            throw MatchSyntaxError(position: extra.position, message: "unexpected ) without a matching (")
        }
        guard root.requiresAPhrase else {
            throw MatchSyntaxError(
                position: 1,
                message: "the rule must require at least one phrase to be present; this expression only excludes")
        }
        return (root, phrases)
    }

    /// Whether a character ends a phrase written without quotes.
    static func endsBarePhrase(_ character: Character) -> Bool {
        character.isWhitespace || character == "\"" || operatorKind(character) != nil
    }

    private static func operatorKind(_ character: Character) -> Token.Kind? {
        switch character {
        case "|": return .or
        case "&": return .and
        case "!": return .not
        case "(": return .open
        case ")": return .close
        default: return nil
        }
    }

    private mutating func tokenise() throws(MatchSyntaxError) {
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let position = index + 1
            if character.isWhitespace {
                index += 1
                continue
            }
            if let kind = Self.operatorKind(character) {
                tokens.append(Token(kind: kind, position: position))
                index += 1
                continue
            }
            let written: String
            if character == "\"" {
                guard let closing = characters[(index + 1)...].firstIndex(of: "\"") else {
                    throw MatchSyntaxError(position: position, message: "unterminated quote: this \" is never closed")
                }
                written = String(characters[(index + 1)..<closing])
                index = closing + 1
            } else {
                var end = index
                while end < characters.count && !Self.endsBarePhrase(characters[end]) { end += 1 }
                written = String(characters[index..<end])
                index = end
            }
            let id = try register(written, at: position)
            tokens.append(Token(kind: .phrase(id), position: position))
        }
    }

    /// The phrase's index; phrases with the same comparable text share one.
    private mutating func register(_ written: String, at position: Int) throws(MatchSyntaxError) -> Int {
        let normalised = ComparableText.of(written)
        guard !normalised.isEmpty else {
            throw MatchSyntaxError(
                position: position, message: "phrase \"\(written)\" is empty once punctuation and spaces are ignored")
        }
        if let id = phraseIndex[normalised] { return id }
        phrases.append(Phrase(written: written, normalised: normalised))
        phraseIndex[normalised] = phrases.count - 1
        return phrases.count - 1
    }

    private func peek() -> Token? {
        cursor < tokens.count ? tokens[cursor] : nil
    }

    private mutating func parseEither() throws(MatchSyntaxError) -> MatchNode {
        let first = try parseBoth()
        var parts = [first]
        while peek()?.kind == .or {
            cursor += 1
            let next = try parseBoth()
            parts.append(next)
        }
        return parts.count == 1 ? first : .oneOf(parts)
    }

    private mutating func parseBoth() throws(MatchSyntaxError) -> MatchNode {
        let first = try parseUnary()
        var parts = [first]
        loop: while let token = peek() {
            switch token.kind {
            case .and:
                cursor += 1
                let next = try parseUnary()
                parts.append(next)
            case .phrase, .open, .not:
                throw MatchSyntaxError(position: token.position, message: "expected | or & between phrases")
            case .or, .close:
                break loop
            }
        }
        return parts.count == 1 ? first : .allOf(parts)
    }

    private mutating func parseUnary() throws(MatchSyntaxError) -> MatchNode {
        guard let token = peek(), token.kind == .not else { return try parsePrimary() }
        cursor += 1
        try enter(at: token.position)
        let inner = try parseUnary()
        depth -= 1
        return .not(inner)
    }

    private mutating func parsePrimary() throws(MatchSyntaxError) -> MatchNode {
        guard let token = peek() else {
            throw MatchSyntaxError(position: characters.count + 1, message: "the expression ends where a phrase was expected")
        }
        cursor += 1
        switch token.kind {
        case .phrase(let id):
            return .phrase(id)
        case .open:
            try enter(at: token.position)
            let inner = try parseEither()
            guard peek()?.kind == .close else {
                throw MatchSyntaxError(position: token.position, message: "missing ) for the ( opened here")
            }
            cursor += 1
            depth -= 1
            return inner
        case .or, .and, .not, .close:
            throw MatchSyntaxError(position: token.position, message: "unexpected \(token.kind.symbol) where a phrase was expected")
        }
    }

    private mutating func enter(at position: Int) throws(MatchSyntaxError) {
        depth += 1
        guard depth <= RuleLimits.nesting else {
            throw MatchSyntaxError(position: position, message: "nested more than \(RuleLimits.nesting) levels deep")
        }
    }
}

// MARK: - Phrase search

/// Finds, in one pass over a text, every phrase of a fixed set that the text contains
/// (Aho–Corasick over Unicode scalars). A rule set's phrases are searched together, so a clue
/// costs one pass per field however many rules there are.
struct PhraseMatcher: Sendable {
    /// Goto function: (state << 32 | scalar) → next state. State 0 is the root.
    private let transitions: [UInt64: Int32]
    /// Where to continue when a state has no transition for the next scalar.
    private let failure: [Int32]
    /// The phrases ending at each state, including those ending at its failure states.
    private let outputs: [[Int32]]
    let phraseCount: Int

    /// `phrases` in comparable form; a phrase's index is its id.
    init(phrases: [String]) {
        phraseCount = phrases.count
        var transitions: [UInt64: Int32] = [:]
        var children: [[(scalar: UInt32, state: Int32)]] = [[]]
        var outputs: [[Int32]] = [[]]
        for (id, phrase) in phrases.enumerated() where !phrase.isEmpty {
            var state: Int32 = 0
            for scalar in phrase.unicodeScalars {
                let key = Self.key(state, scalar.value)
                if let next = transitions[key] {
                    state = next
                } else {
                    let next = Int32(children.count)
                    children.append([])
                    outputs.append([])
                    children[Int(state)].append((scalar.value, next))
                    transitions[key] = next
                    state = next
                }
            }
            outputs[Int(state)].append(Int32(id))
        }
        // Breadth first, so a state's failure state (always shallower) is complete before it.
        var failure = [Int32](repeating: 0, count: children.count)
        var queue = children[0].map { $0.state }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for (scalar, child) in children[Int(state)] {
                queue.append(child)
                var fallback = failure[Int(state)]
                while fallback != 0 && transitions[Self.key(fallback, scalar)] == nil {
                    fallback = failure[Int(fallback)]
                }
                let target = transitions[Self.key(fallback, scalar)] ?? 0
                failure[Int(child)] = target
                outputs[Int(child)] += outputs[Int(target)]
            }
        }
        self.transitions = transitions
        self.failure = failure
        self.outputs = outputs
    }

    private static func key(_ state: Int32, _ scalar: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: state)) << 32 | UInt64(scalar)
    }

    /// Sets `bit` in `marks[id]` for every phrase `text` contains (`text` in comparable form).
    func mark(_ text: String, with bit: UInt8, in marks: inout [UInt8]) {
        var state: Int32 = 0
        for scalar in text.unicodeScalars {
            let value = scalar.value
            while true {
                if let next = transitions[Self.key(state, value)] {
                    state = next
                    break
                }
                if state == 0 { break }
                state = failure[Int(state)]
            }
            for id in outputs[Int(state)] { marks[Int(id)] |= bit }
        }
    }
}

// MARK: - Classification

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

// MARK: - Built-in rules

extension RuleSet {
    /// The rules a district starts with (version 0): Shared/Models/Resources/default-rules.json,
    /// written for a Guangzhou district like 海珠区. Should the resource be missing, a minimal set
    /// keeps triage running.
    public static let builtIn: RuleSet = {
        if let data = BuiltInClassificationRules.data, let rules = try? JSONDecoder().decode(RuleSet.self, from: data) {
            return rules
        }
        return RuleSet.minimal
    }()

    /// The five special committees and ten domains with their most telling phrases.
    static let minimal = RuleSet(
        committees: [
            CommitteeDefinition(code: "economy", name: "经济委"),
            CommitteeDefinition(code: "agriculture-rural", name: "农业和农村委"),
            CommitteeDefinition(code: "education-culture-health-sports", name: "教科文卫体委"),
            CommitteeDefinition(code: "social-legal-ethnic-religious", name: "社会法制民族宗教委"),
            CommitteeDefinition(code: "hmt-foreign-affairs", name: "港澳台侨外事委"),
        ],
        domains: [
            DomainRule(code: "transport", name: "交通出行", committee: "economy", match: "公交|红绿灯|停车|拥堵|斑马线|非机动车道|共享单车"),
            DomainRule(code: "education", name: "教育", committee: "education-culture-health-sports", match: "学校|幼儿园|学位|课后服务|学生"),
            DomainRule(code: "health", name: "医疗卫生", committee: "education-culture-health-sports", match: "医院|就医|社区卫生服务中心|医保|家庭医生"),
            DomainRule(code: "elderly-care", name: "养老服务", committee: "social-legal-ethnic-religious", match: "养老|长者饭堂|长者|老年人|日间照料"),
            DomainRule(code: "urban-renewal", name: "城市更新", committee: "economy", match: "旧改|老旧小区|加装电梯|违建|城中村"),
            DomainRule(code: "environment", name: "生态环境", committee: "agriculture-rural", match: "垃圾分类|噪音|污水|河涌|油烟"),
            DomainRule(code: "public-safety", name: "公共安全", committee: "social-legal-ethnic-religious", match: "消防|火灾|飞线充电|治安|(充电|电瓶)&(电动自行车|电动车|楼道)"),
            DomainRule(code: "economy", name: "经济发展", committee: "economy", match: "营商环境|中小企业|就业|夜间经济|商圈"),
            DomainRule(code: "government-services", name: "政务服务", committee: "social-legal-ethnic-religious", match: "政务服务|办事|一网通办|审批|证照"),
            DomainRule(code: "culture", name: "文化体育", committee: "education-culture-health-sports", match: "图书馆|文化站|健身|非遗|全民健身"),
        ],
        urgency: [
            UrgencyRule(id: "danger", level: .urgent, match: "安全隐患|火灾|坍塌|倒塌|塌陷|漏电|燃气泄漏|爆炸|溺水|危房|险情|触电"),
            UrgencyRule(id: "vulnerable-groups", level: .important, match: "学生|儿童|老人|残疾人|消防通道|大面积|长期"),
        ],
        jurisdiction: [
            JurisdictionRule(id: "metro", scope: .municipal, match: "地铁|轨道交通", department: "广州地铁集团"),
        ])
}
