import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// What cultivation shows: topics, claims and proposals as the API and the workbench read them.

/// Where a reference topic stands.
enum ReferenceTopicStatus: String, Codable, Sendable, CaseIterable {
    case open, claimed, drafted
}

/// Who puts a proposal forward or signs it.
enum ProposerKind: String, Codable, Sendable, CaseIterable {
    case member
    case specialCommittee = "special-committee"
    case unit
    case resident
}

/// A proposer or cosigner as stored (`proposals.proposers`, `proposals.cosigners`) and shown.
struct ProposerEntry: Codable, Sendable, Hashable {
    var name: String
    var kind: String
}

/// A current claimant of a reference topic.
struct TopicClaimantView: Codable, Sendable, Hashable {
    var claimID: UUID
    var role: String
    var name: String
    var claimedAt: Date
    /// Whether the caller holds this claim.
    var mine: Bool

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case claimID = "claimId", role, name, claimedAt, mine
    }
}

/// A reference topic (参考选题) as listed.
struct ReferenceTopicView: Codable, Sendable, Hashable {
    var id: UUID
    var title: String
    var status: String
    var groupID: UUID?
    var clueIds: [UUID]
    var domain: String?
    var committee: String?
    var publishedAt: Date
    var claimants: [TopicClaimantView]

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, title, status, groupID = "groupId", clueIds, domain, committee, publishedAt, claimants
    }
}

/// A claim just taken (the answer to `POST /v1/reference-topics/:id/claims`).
struct TopicClaimView: Codable, Sendable, Hashable {
    var claimID: UUID
    var topicID: UUID
    var role: String
    var name: String
    var claimedAt: Date
    /// Whether others held the topic too when it was claimed (districts with co-claiming).
    var coClaim: Bool
    var topicStatus: String

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case claimID = "claimId", topicID = "topicId", role, name, claimedAt, coClaim, topicStatus
    }
}

/// A proposal with everything triage knows of it.
struct ProposalView: Codable, Sendable, Hashable {
    var id: UUID
    var district: String
    var status: String
    var title: String
    /// 案由.
    var caseSummary: String
    var reasons: String
    var suggestions: String
    var proposers: [ProposerEntry]
    var cosigners: [ProposerEntry]
    var clueIds: [UUID]
    var topicID: UUID?
    var domain: String?
    var committee: String?
    var fastTrack: Bool
    var draftedBy: String
    var createdAt: Date
    var updatedAt: Date
    var submittedAt: Date?
    var reviewDueAt: Date?
    var caseNumber: String?
    var session: Int?
    var year: Int?
    var reviewedBy: String?
    var reviewedAt: Date?
    var reviewReason: String?
    var alternativeRoute: String?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case id, district, status, title, caseSummary, reasons, suggestions, proposers, cosigners, clueIds, topicID = "topicId", domain, committee,
            fastTrack, draftedBy, createdAt, updatedAt, submittedAt, reviewDueAt, caseNumber, session, year, reviewedBy, reviewedAt, reviewReason,
            alternativeRoute
    }
}
