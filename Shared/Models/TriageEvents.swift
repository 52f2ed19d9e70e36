import Foundation

// Triage's events (triage-events). Identifiers, categories and organisation names only: the
// clue text, contact data and staff notes stay in PostgreSQL.

/// A received clue was classified and grouped and waits for review.
public struct ClueTriaged: EventPayload, Hashable {
    public static let eventType = "clue.triaged"
    public static let schemaVersion = 1

    public var clueID: UUID
    public var domain: String?
    public var committee: String?
    public var urgency: Urgency
    public var jurisdiction: Jurisdiction
    public var street: String?
    /// The version of the district's rules that classified it (0: the built-in rules).
    public var ruleVersion: Int
    /// The rules that fired, e.g. `domain:public-safety`, `urgency:danger`.
    public var rules: [String]
    public var groupID: UUID
    /// Clues in the group now (its voices), this one included.
    public var groupVoices: Int
    /// Whether the clue started a group of its own.
    public var startedGroup: Bool
    /// Set when the clue came up the through train from this clue of a member district.
    public var linkedFromClueID: UUID?

    enum CodingKeys: String, CodingKey {
        case clueID = "clueId", domain, committee, urgency, jurisdiction, street, ruleVersion, rules
        case groupID = "groupId", groupVoices, startedGroup, linkedFromClueID = "linkedFromClueId"
    }

    public init(
        clueID: UUID, domain: String?, committee: String?, urgency: Urgency, jurisdiction: Jurisdiction, street: String?,
        ruleVersion: Int, rules: [String], groupID: UUID, groupVoices: Int, startedGroup: Bool, linkedFromClueID: UUID? = nil
    ) {
        self.clueID = clueID
        self.domain = domain
        self.committee = committee
        self.urgency = urgency
        self.jurisdiction = jurisdiction
        self.street = street
        self.ruleVersion = ruleVersion
        self.rules = rules
        self.groupID = groupID
        self.groupVoices = groupVoices
        self.startedGroup = startedGroup
        self.linkedFromClueID = linkedFromClueID
    }
}

/// Staff regrouped clues: merged groups into one, or split clues off into a new group.
public struct ClueGroupsChanged: EventPayload, Hashable {
    public static let eventType = "clue.grouped"
    public static let schemaVersion = 1

    public enum Change: String, Codable, Sendable { case merged, split }

    public var change: Change
    /// The group that received clues (the surviving group of a merge, the new group of a split).
    public var groupID: UUID
    public var groupVoices: Int
    /// The groups that gave clues (merged away, or the group split from).
    public var fromGroupIDs: [UUID]
    public var clueIDs: [UUID]

    enum CodingKeys: String, CodingKey {
        case change, groupID = "groupId", groupVoices, fromGroupIDs = "fromGroupIds", clueIDs = "clueIds"
    }

    public init(change: Change, groupID: UUID, groupVoices: Int, fromGroupIDs: [UUID], clueIDs: [UUID]) {
        self.change = change
        self.groupID = groupID
        self.groupVoices = groupVoices
        self.fromGroupIDs = fromGroupIDs
        self.clueIDs = clueIDs
    }
}

/// Staff gave a clue its route (one event per clue, also when a whole group was routed).
public struct ClueRouted: EventPayload, Hashable {
    public static let eventType = "clue.routed"
    public static let schemaVersion = 1

    public var clueID: UUID
    public var decisionID: UUID
    public var route: ClueRoute.Kind
    public var groupID: UUID?
    public var committee: String?
    public var purpose: CommitteePurpose?
    /// The district body or municipal department it went to.
    public var recipient: String?
    public var topicID: UUID?
    /// Through train: the clue created in the parent tenant.
    public var linkedClueID: UUID?
    public var linkedDistrict: DistrictCode?

    enum CodingKeys: String, CodingKey {
        case clueID = "clueId", decisionID = "decisionId", route, groupID = "groupId", committee, purpose, recipient
        case topicID = "topicId", linkedClueID = "linkedClueId", linkedDistrict
    }

    public init(
        clueID: UUID, decisionID: UUID, route: ClueRoute.Kind, groupID: UUID? = nil, committee: String? = nil,
        purpose: CommitteePurpose? = nil, recipient: String? = nil, topicID: UUID? = nil, linkedClueID: UUID? = nil,
        linkedDistrict: DistrictCode? = nil
    ) {
        self.clueID = clueID
        self.decisionID = decisionID
        self.route = route
        self.groupID = groupID
        self.committee = committee
        self.purpose = purpose
        self.recipient = recipient
        self.topicID = topicID
        self.linkedClueID = linkedClueID
        self.linkedDistrict = linkedDistrict
    }
}

/// A reference topic was claimed (认领).
public struct TopicClaimed: EventPayload, Hashable {
    public static let eventType = "topic.claimed"
    public static let schemaVersion = 1

    public var topicID: UUID
    public var claimID: UUID
    /// The claimant's role (member, special committee, participating unit).
    public var claimantRole: String
    public var coClaim: Bool

    enum CodingKeys: String, CodingKey { case topicID = "topicId", claimID = "claimId", claimantRole, coClaim }

    public init(topicID: UUID, claimID: UUID, claimantRole: String, coClaim: Bool) {
        self.topicID = topicID
        self.claimID = claimID
        self.claimantRole = claimantRole
        self.coClaim = coClaim
    }
}

/// A proposal draft was submitted for review (审查); cultivation (培育) is done.
public struct ProposalDrafted: EventPayload, Hashable {
    public static let eventType = "proposal.drafted"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var clueIDs: [UUID]
    public var topicID: UUID?
    public var fastTrack: Bool
    public var reviewDueAt: Date?

    enum CodingKeys: String, CodingKey { case proposalID = "proposalId", clueIDs = "clueIds", topicID = "topicId", fastTrack, reviewDueAt }

    public init(proposalID: UUID, clueIDs: [UUID], topicID: UUID?, fastTrack: Bool, reviewDueAt: Date?) {
        self.proposalID = proposalID
        self.clueIDs = clueIDs
        self.topicID = topicID
        self.fastTrack = fastTrack
        self.reviewDueAt = reviewDueAt
    }
}

/// The proposals committee filed a proposal (立案): the assignment service's input.
public struct ProposalFiled: EventPayload, Hashable {
    public static let eventType = "proposal.filed"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var caseNumber: CaseNumber
    public var session: Int
    public var year: Int
    public var fastTrack: Bool
    public var domain: String?
    public var committee: String?
    public var clueIDs: [UUID]

    enum CodingKeys: String, CodingKey {
        case proposalID = "proposalId", caseNumber, session, year, fastTrack, domain, committee, clueIDs = "clueIds"
    }

    public init(
        proposalID: UUID, caseNumber: CaseNumber, session: Int, year: Int, fastTrack: Bool, domain: String?,
        committee: String?, clueIDs: [UUID]
    ) {
        self.proposalID = proposalID
        self.caseNumber = caseNumber
        self.session = session
        self.year = year
        self.fastTrack = fastTrack
        self.domain = domain
        self.committee = committee
        self.clueIDs = clueIDs
    }
}

/// The proposals committee returned a draft to its drafter for revision (退回修改).
public struct ProposalReturned: EventPayload, Hashable {
    public static let eventType = "proposal.returned"
    public static let schemaVersion = 1

    public var proposalID: UUID

    enum CodingKeys: String, CodingKey { case proposalID = "proposalId" }

    public init(proposalID: UUID) { self.proposalID = proposalID }
}

/// The proposals committee did not file a proposal; it goes the alternative route instead.
public struct ProposalNotFiled: EventPayload, Hashable {
    public static let eventType = "proposal.not-filed"
    public static let schemaVersion = 1

    public var proposalID: UUID
    public var alternativeRoute: AlternativeRoute
    public var clueIDs: [UUID]

    enum CodingKeys: String, CodingKey { case proposalID = "proposalId", alternativeRoute, clueIDs = "clueIds" }

    public init(proposalID: UUID, alternativeRoute: AlternativeRoute, clueIDs: [UUID]) {
        self.proposalID = proposalID
        self.alternativeRoute = alternativeRoute
        self.clueIDs = clueIDs
    }
}
