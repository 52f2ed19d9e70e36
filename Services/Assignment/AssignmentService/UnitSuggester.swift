import Foundation
import Models
import Similarity

/// A handling unit as suggestions see it.
public struct UnitProfile: Sendable, Hashable {
    public var id: UUID
    public var code: String
    public var name: String
    public var domains: Set<String>
    public var keywords: [String]
    public var isActive: Bool

    public init(id: UUID, code: String, name: String, domains: Set<String>, keywords: [String], isActive: Bool = true) {
        self.id = id
        self.code = code
        self.name = name
        self.domains = domains
        self.keywords = keywords
        self.isActive = isActive
    }
}

/// Why a unit is suggested: each reason with the points it adds.
public struct SuggestionReason: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        /// The unit owns the proposal's domain.
        case domain
        /// One of the unit's keywords is in the proposal's text.
        case keyword
        /// The unit handled a similar past proposal (as lead or co-unit).
        case similarProposal = "similar-proposal"
    }

    public var kind: Kind
    public var detail: String
    public var points: Double
    /// What the reason is about, for pages to word it: the domain's code, the keyword, or the
    /// similar proposal's case number.
    public var subject: String?
    /// For a similar proposal: how alike (0–1), and whether the unit led it.
    public var similarity: Double?
    public var asLead: Bool?

    public init(kind: Kind, detail: String, points: Double, subject: String? = nil, similarity: Double? = nil, asLead: Bool? = nil) {
        self.kind = kind
        self.detail = detail
        self.points = points
        self.subject = subject
        self.similarity = similarity
        self.asLead = asLead
    }
}

public struct UnitSuggestion: Codable, Sendable, Hashable {
    public var unitID: UUID
    public var code: String
    public var name: String
    public var score: Double
    public var reasons: [SuggestionReason]

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case unitID = "unitId", code, name, score, reasons
    }
}

public struct SimilarProposal: Codable, Sendable, Hashable {
    public var proposalID: UUID
    public var caseNumber: String
    public var similarity: Double
    public var handledBy: [UUID]

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, similarity, handledBy
    }
}

/// A ranked suggestion of the lead unit and co-units for one proposal, with the reasons.
public struct Suggestion: Codable, Sendable, Hashable {
    /// Candidates for the lead unit, best first.
    public var lead: [UnitSuggestion]
    /// Co-units for the best lead: others that score at least half as much.
    public var coUnits: [UnitSuggestion]
    public var similarProposals: [SimilarProposal]

    public var topScore: Double { lead.first?.score ?? 0 }
    public var runnerUpScore: Double? { lead.count > 1 ? lead[1].score : nil }

    public static let empty = Suggestion(lead: [], coUnits: [], similarProposals: [])

    /// The suggestion as stored (`assignment_cases.suggestion`): its Codable form, written
    /// directly, since `JSONEncoder` took a sixth of the consumer's time.
    public var json: String {
        func unit(_ unit: UnitSuggestion) -> String {
            let reasons = unit.reasons.map { reason in
                (reason.asLead.map { #"{"asLead":"# + ($0 ? "true" : "false") + "," } ?? "{")
                    + #""detail":"# + JSONText.quoted(reason.detail) + #","kind":"# + JSONText.quoted(reason.kind.rawValue)
                    + #","points":"# + JSONText.number(reason.points)
                    + (reason.similarity.map { #","similarity":"# + JSONText.number($0) } ?? "")
                    + (reason.subject.map { #","subject":"# + JSONText.quoted($0) } ?? "") + "}"
            }
            return #"{"code":"# + JSONText.quoted(unit.code) + #","name":"# + JSONText.quoted(unit.name)
                + #","reasons":["# + reasons.joined(separator: ",") + #"],"score":"# + JSONText.number(unit.score)
                + #","unitId":""# + unit.unitID.uuidString + #""}"#
        }
        let similar = similarProposals.map { proposal in
            #"{"caseNumber":"# + JSONText.quoted(proposal.caseNumber) + #","handledBy":"#
                + JSONText.strings(proposal.handledBy.map(\.uuidString)) + #","proposalId":""# + proposal.proposalID.uuidString
                + #"","similarity":"# + JSONText.number(proposal.similarity) + "}"
        }
        return #"{"coUnits":["# + coUnits.map(unit).joined(separator: ",") + #"],"lead":["# + lead.map(unit).joined(separator: ",")
            + #"],"similarProposals":["# + similar.joined(separator: ",") + "]}"
    }
}

/// How much each kind of evidence counts.
public struct SuggestionWeights: Sendable, Hashable {
    public var domain = 3.0
    /// Per distinct keyword found, up to `keywordsCounted` of them.
    public var keyword = 1.5
    public var keywordsCounted = 3
    /// Times the similarity, per similar past proposal the unit led.
    public var similarAsLead = 6.0
    /// Times the similarity, per similar past proposal the unit helped with.
    public var similarAsCoUnit = 2.0
    public var neighbours = 10
    /// LSH bands a past proposal must share to be compared at all. Two (as for clue groups):
    /// pairs at 0.5 are still found with 97.5 % probability, and the thousands of past proposals
    /// sharing one band by chance (same domain, same stock wording) are never compared; measured
    /// with 100,000 past proposals, 4 times faster and no less accurate than one band.
    public var minimumSharedBands = 2
    public var minimumSimilarity = 0.2
    public var coUnitShare = 0.5
    public var maximumCoUnits = 2
    public var listed = 5

    public init() {}
}

/// Past proposals with the units that handled them, in memory, found by MinHash LSH on the
/// same character shingles as clue grouping. A proposal assigned anew replaces its old entry.
public struct PastProposals: Sendable {
    public struct Entry: Sendable, Hashable {
        public var proposalID: UUID
        public var caseNumber: String
        public var signature: [UInt32]
        /// Lead unit first.
        public var handledBy: [UUID]

        public init(proposalID: UUID, caseNumber: String, signature: [UInt32], handledBy: [UUID]) {
            self.proposalID = proposalID
            self.caseNumber = caseNumber
            self.signature = signature
            self.handledBy = handledBy
        }
    }

    private var index = LSHIndex(banding: .stored, capacity: 1 << 12)
    private var tally = LSHTally()
    private var entries: [Entry] = []
    private var live: [Bool] = []
    private var position: [UUID: Int] = [:]

    public init() {}

    public var count: Int { position.count }

    public mutating func record(_ entry: Entry) {
        if let old = position[entry.proposalID] {
            if entries[old] == entry { return }
            live[old] = false
        }
        guard !entry.handledBy.isEmpty else {
            position[entry.proposalID] = nil
            return
        }
        position[entry.proposalID] = entries.count
        index.insert(entries.count, signature: entry.signature)
        entries.append(entry)
        live.append(true)
    }

    /// The most similar past proposals at or above `minimumSimilarity`, most similar first,
    /// among those sharing at least `bands` LSH bands with the signature.
    public mutating func nearest(
        to signature: [UInt32], limit: Int, minimumSimilarity: Double, sharingAtLeast bands: Int = 1, excluding: UUID? = nil
    ) -> [(Entry, Double)] {
        var found: [(Entry, Double)] = []
        for candidate in index.candidates(for: signature, sharingAtLeast: bands, tally: &tally) where live[candidate] {
            let entry = entries[candidate]
            guard entry.proposalID != excluding else { continue }
            let similarity = MinHasher.similarity(signature, entry.signature)
            if similarity >= minimumSimilarity { found.append((entry, similarity)) }
        }
        found.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.caseNumber < $1.0.caseNumber }
        return Array(found.prefix(limit))
    }
}

/// Ranks a district's active handling units for a proposal: the unit owning its domain, the
/// units whose keywords it contains, and the units that handled the most similar past proposals.
public struct UnitSuggester: Sendable {
    public let units: [UnitProfile]
    public let weights: SuggestionWeights
    /// Keywords (comparable text) by their first two characters: one pass over the text finds them all.
    private let keywordStarts: [UInt64: [(unit: Int, keyword: [Unicode.Scalar], shown: String)]]
    private let unitIndex: [UUID: Int]

    public init(units: [UnitProfile], weights: SuggestionWeights = SuggestionWeights()) {
        let active = units.filter(\.isActive).sorted { $0.code < $1.code }
        self.units = active
        self.weights = weights
        var starts: [UInt64: [(unit: Int, keyword: [Unicode.Scalar], shown: String)]] = [:]
        for (position, unit) in active.enumerated() {
            for keyword in Set(unit.keywords) {
                let scalars = Array(ComparableText.of(keyword).unicodeScalars)
                guard scalars.count >= 2 else { continue }
                starts[Self.pair(scalars[0], scalars[1]), default: []].append((position, scalars, keyword))
            }
        }
        keywordStarts = starts
        unitIndex = Dictionary(uniqueKeysWithValues: active.enumerated().map { ($1.id, $0) })
    }

    @inline(__always)
    static func pair(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> UInt64 {
        UInt64(first.value) << 32 | UInt64(second.value)
    }

    /// The suggestion for a proposal's text (title and body), domain and nearest past proposals.
    public func suggest(text: String, domain: String?, similar: [(PastProposals.Entry, Double)]) -> Suggestion {
        var reasons = [[SuggestionReason]](repeating: [], count: units.count)
        if let domain {
            for (position, unit) in units.enumerated() where unit.domains.contains(domain) {
                reasons[position].append(
                    SuggestionReason(kind: .domain, detail: "owns the domain \(domain)", points: weights.domain, subject: domain))
            }
        }
        for (position, keywords) in keywordHits(in: text) {
            for keyword in keywords.prefix(weights.keywordsCounted) {
                reasons[position].append(SuggestionReason(kind: .keyword, detail: "keyword \(keyword)", points: weights.keyword, subject: keyword))
            }
        }
        for (entry, similarity) in similar {
            for (rank, unitID) in entry.handledBy.enumerated() {
                guard let position = unitIndex[unitID] else { continue }
                let asLead = rank == 0
                let points = (asLead ? weights.similarAsLead : weights.similarAsCoUnit) * similarity
                let role = asLead ? "led" : "co-handled"
                reasons[position].append(
                    SuggestionReason(
                        kind: .similarProposal, detail: "\(role) \(entry.caseNumber) (similarity \((similarity * 100).rounded() / 100))",
                        points: (points * 100).rounded() / 100, subject: entry.caseNumber, similarity: (similarity * 100).rounded() / 100,
                        asLead: asLead))
            }
        }
        var ranked: [UnitSuggestion] = []
        for (position, unitReasons) in reasons.enumerated() where !unitReasons.isEmpty {
            let unit = units[position]
            let score = (unitReasons.reduce(0) { $0 + $1.points } * 100).rounded() / 100
            ranked.append(UnitSuggestion(unitID: unit.id, code: unit.code, name: unit.name, score: score, reasons: unitReasons))
        }
        ranked.sort { $0.score != $1.score ? $0.score > $1.score : $0.code < $1.code }
        let coUnits: [UnitSuggestion] =
            ranked.first.map { best in
                Array(ranked.dropFirst().filter { $0.score >= best.score * weights.coUnitShare }.prefix(weights.maximumCoUnits))
            } ?? []
        return Suggestion(
            lead: Array(ranked.prefix(weights.listed)), coUnits: coUnits,
            similarProposals: similar.map {
                SimilarProposal(
                    proposalID: $0.0.proposalID, caseNumber: $0.0.caseNumber,
                    similarity: ($0.1 * 100).rounded() / 100, handledBy: $0.0.handledBy)
            })
    }

    /// For each unit, the distinct keywords found in `text`, in the order first found.
    func keywordHits(in text: String) -> [(Int, [String])] {
        let scalars = Array(ComparableText.of(text).unicodeScalars)
        guard scalars.count >= 2 else { return [] }
        var hits: [Int: [String]] = [:]
        for start in 0..<(scalars.count - 1) {
            guard let keywords = keywordStarts[Self.pair(scalars[start], scalars[start + 1])] else { continue }
            for (unit, keyword, shown) in keywords where start + keyword.count <= scalars.count {
                var matches = true
                for offset in 2..<keyword.count where scalars[start + offset] != keyword[offset] {
                    matches = false
                    break
                }
                if matches && !(hits[unit]?.contains(shown) ?? false) { hits[unit, default: []].append(shown) }
            }
        }
        return hits.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
