import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// What cultivation's requests carry, and their validation into drafts and reviews.

/// The body of `POST /v1/reference-topics/:id/claims`.
struct NewTopicClaim: Decodable, Sendable {
    /// The claimant's display name (e.g. 王委员).
    var name: String?
    var note: String?
}

/// A proposer or cosigner as sent.
struct ProposerInput: Decodable, Sendable {
    var name: String?
    var kind: String?
}

/// The body of `POST /v1/proposals`.
struct ProposalDraftInput: Decodable, Sendable {
    var title: String?
    var caseSummary: String?
    var reasons: String?
    var suggestions: String?
    var proposers: [ProposerInput]?
    var cosigners: [ProposerInput]?
    /// Clue ids as sent; parsed by hand so a bad one is named by its position.
    var clueIds: [String]?
    var topicID: String?
    var fastTrack: Bool?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case title, caseSummary, reasons, suggestions, proposers, cosigners, clueIds, topicID = "topicId", fastTrack
    }
}

/// The body of `PUT /v1/proposals/:id`: the fields given change, the others stay.
struct ProposalEditInput: Decodable, Sendable {
    var title: String?
    var caseSummary: String?
    var reasons: String?
    var suggestions: String?
    var proposers: [ProposerInput]?
    var cosigners: [ProposerInput]?
    var fastTrack: Bool?
}

/// The body of `POST /v1/proposals/:id/review`.
struct ProposalReviewInput: Decodable, Sendable {
    var decision: String?
    var reason: String?
    var alternativeRoute: String?
    var session: Int?
}

/// Limits of the proposal form, in characters or entries.
enum ProposalLimits {
    static let title = 100
    static let caseSummary = 200
    static let reasons = 5_000
    static let suggestions = 5_000
    static let proposerName = 100
    static let proposers = 20
    static let cosigners = 50
    static let clueIDs = 200
    static let claimantName = 50
    static let claimNote = 500
    static let reviewReason = 500
}

/// The people of the cultivation forms (text fields are checked by `FieldText`).
enum CultivationText {
    /// Proposers or cosigners, each with a name and a kind.
    static func people(_ list: [ProposerInput]?, _ field: String, required: Bool, maximum: Int) throws -> [ProposerEntry] {
        guard let list else {
            if required { throw APIError.invalid(field, "is required (at least one entry)") }
            return []
        }
        if required && list.isEmpty { throw APIError.invalid(field, "must have at least one entry") }
        guard list.count <= maximum else { throw APIError.invalid(field, "must have at most \(maximum) entries") }
        let kinds = ProposerKind.allCases.map(\.rawValue).joined(separator: ", ")
        var people: [ProposerEntry] = []
        for (index, person) in list.enumerated() {
            let name = try FieldText.required(person.name, "\(field).\(index).name", limit: ProposalLimits.proposerName, multiline: false)
            guard let text = person.kind else { throw APIError.invalid("\(field).\(index).kind", "is required (one of \(kinds))") }
            guard let kind = ProposerKind(rawValue: text) else { throw APIError.invalid("\(field).\(index).kind", "must be one of \(kinds)") }
            people.append(ProposerEntry(name: name, kind: kind.rawValue))
        }
        return people
    }

    static func json(_ people: [ProposerEntry]) throws -> String {
        String(decoding: try JSONEncoder().encode(people), as: UTF8.self)
    }
}

/// A validated draft.
struct ValidProposalDraft: Sendable {
    var title: String
    var caseSummary: String
    var reasons: String
    var suggestions: String
    var proposers: [ProposerEntry]
    var cosigners: [ProposerEntry]
    var clueIDs: [UUID]
    var topicID: UUID?
    var fastTrack: Bool?
}

extension ProposalDraftInput {
    /// Checks every field in form order; the first problem is answered 422 naming its field.
    func validated() throws -> ValidProposalDraft {
        let title = try FieldText.required(self.title, "title", limit: ProposalLimits.title, multiline: false)
        let caseSummary = try FieldText.required(self.caseSummary, "caseSummary", limit: ProposalLimits.caseSummary, multiline: false)
        let reasons = try FieldText.required(self.reasons, "reasons", limit: ProposalLimits.reasons, multiline: true)
        let suggestions = try FieldText.required(self.suggestions, "suggestions", limit: ProposalLimits.suggestions, multiline: true)
        let proposers = try CultivationText.people(self.proposers, "proposers", required: true, maximum: ProposalLimits.proposers)
        let cosigners = try CultivationText.people(self.cosigners, "cosigners", required: false, maximum: ProposalLimits.cosigners)
        let texts = self.clueIds ?? []
        guard texts.count <= ProposalLimits.clueIDs else {
            throw APIError.invalid("clueIds", "must have at most \(ProposalLimits.clueIDs) clue ids")
        }
        var clueIDs: [UUID] = []
        var seen: Set<UUID> = []
        for (index, text) in texts.enumerated() {
            guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalid("clueIds.\(index)", "must be a clue id (a UUID)")
            }
            guard seen.insert(id).inserted else { throw APIError.invalid("clueIds", "lists clue \(id) more than once") }
            clueIDs.append(id)
        }
        var topicID: UUID?
        if let text = self.topicID {
            guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalid("topicId", "must be a reference topic id (a UUID)")
            }
            topicID = id
        }
        guard topicID != nil || !clueIDs.isEmpty else {
            throw APIError.invalid("clueIds", "give a topicId or at least one clue id")
        }
        return ValidProposalDraft(
            title: title, caseSummary: caseSummary, reasons: reasons, suggestions: suggestions, proposers: proposers,
            cosigners: cosigners, clueIDs: clueIDs, topicID: topicID, fastTrack: self.fastTrack)
    }
}

/// What the proposals committee decided.
enum ReviewDecision: String, Sendable, CaseIterable {
    case file
    case notFile = "not-file"
    case returnForRevision = "return"

    var transition: ProposalTransition {
        switch self {
        case .file: .file
        case .notFile: .refuseFiling
        case .returnForRevision: .returnForRevision
        }
    }
}

/// A validated review.
struct ValidProposalReview: Sendable {
    var decision: ReviewDecision
    var reason: String?
    var alternativeRoute: AlternativeRoute?
    var session: Int?
}

extension ProposalReviewInput {
    func validated() throws -> ValidProposalReview {
        let decisions = ReviewDecision.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = self.decision else { throw APIError.invalid("decision", "is required (one of \(decisions))") }
        guard let decision = ReviewDecision(rawValue: text) else { throw APIError.invalid("decision", "must be one of \(decisions)") }
        let reason: String?
        switch decision {
        case .notFile, .returnForRevision:
            reason = try FieldText.required(self.reason, "reason", limit: ProposalLimits.reviewReason, multiline: true)
        case .file:
            reason = try FieldText.optional(self.reason, "reason", limit: ProposalLimits.reviewReason, multiline: true)
        }
        let routes = AlternativeRoute.allCases.map(\.rawValue).joined(separator: ", ")
        var route: AlternativeRoute?
        if let text = self.alternativeRoute {
            guard let parsed = AlternativeRoute(rawValue: text) else { throw APIError.invalid("alternativeRoute", "must be one of \(routes)") }
            route = parsed
        }
        if decision == .notFile && route == nil {
            throw APIError.invalid("alternativeRoute", "is required when the proposal is not filed (one of \(routes))")
        }
        if let session = self.session, !(1...999).contains(session) {
            throw APIError.invalid("session", "must be a session number between 1 and 999")
        }
        return ValidProposalReview(
            decision: decision, reason: reason, alternativeRoute: decision == .notFile ? route : nil, session: self.session)
    }
}
