import Foundation
import Models

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
