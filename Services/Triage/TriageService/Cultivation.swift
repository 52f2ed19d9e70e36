import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// Cultivation (认领、培育) and review and filing (审查立案): proposers claim reference topics,
// draft proposals from their clues, submit them, and the proposals committee files them (on the
// fast track for 百姓提案), refuses them with an alternative route, or returns them for revision.

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
    var claimId: UUID
    var role: String
    var name: String
    var claimedAt: Date
    /// Whether the caller holds this claim.
    var mine: Bool
}

/// A reference topic (参考选题) as listed.
struct ReferenceTopicView: Codable, Sendable, Hashable {
    var id: UUID
    var title: String
    var status: String
    var groupId: UUID?
    var clueIds: [UUID]
    var domain: String?
    var committee: String?
    var publishedAt: Date
    var claimants: [TopicClaimantView]
}

/// A claim just taken (the answer to `POST /v1/reference-topics/:id/claims`).
struct TopicClaimView: Codable, Sendable, Hashable {
    var claimId: UUID
    var topicId: UUID
    var role: String
    var name: String
    var claimedAt: Date
    /// Whether others held the topic too when it was claimed (districts with co-claiming).
    var coClaim: Bool
    var topicStatus: String
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
    var topicId: UUID?
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
}

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
    var topicId: String?
    var fastTrack: Bool?
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
        if let text = self.topicId {
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

/// Reference topics, claims and proposals from drafting to filing. Every write of a request
/// happens in one transaction of the caller's district, with its decision record and events.
struct CultivationStore: Sendable {
    let database: Database

    // MARK: Reference topics and claims

    /// The district's reference topics, newest first, with their current claimants.
    func topics(in district: DistrictCode, status: ReferenceTopicStatus?, caller: String) async throws -> [ReferenceTopicView] {
        try await database.transaction(.district(district)) { transaction -> [ReferenceTopicView] in
            try await Self.topicViews(of: district, status: status, only: nil, caller: caller, in: transaction)
        }
    }

    /// Claims a topic for the caller (认领). One claimant at a time unless the district allows co-claiming.
    func claim(_ topicID: UUID, input: NewTopicClaim, by claims: StaffClaims, now: Date = Date()) async throws -> TopicClaimView {
        let name = try FieldText.required(input.name, "name", limit: ProposalLimits.claimantName, multiline: false)
        let note = try FieldText.optional(input.note, "note", limit: ProposalLimits.claimNote, multiline: true) ?? ""
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction -> TopicClaimView in
            // The topic row's lock serialises claims: two concurrent claims cannot both see it unclaimed.
            guard let topic = try await Self.lockTopic(topicID, in: transaction) else { throw APIError.notFound }
            if topic.status == ReferenceTopicStatus.drafted.rawValue {
                throw Self.conflict("the reference topic was drafted into a proposal already; it can no longer be claimed")
            }
            let active = try await Self.activeClaimants(of: topicID, in: transaction)
            if active.contains(claims.subject) {
                throw APIError(.conflict, code: "already-claimed", message: "you hold an active claim on this reference topic already")
            }
            let settings = try await Self.settings(of: district, in: transaction)
            if !active.isEmpty && !settings.coClaiming {
                throw APIError(
                    .conflict, code: "topic-claimed",
                    message: "the reference topic is claimed already; this district allows one claimant at a time")
            }
            let clues = try await Self.lockClues(topic.clueIDs, in: transaction)
            for clue in clues {
                do {
                    _ = try clue.status.claiming()
                } catch {
                    throw Self.conflict(String(describing: error))
                }
            }

            let claimID = UUID()
            try await transaction.execute("""
                INSERT INTO topic_claims (id, topic_id, district, claimant, claimant_role, claimant_name, claimed_at)
                VALUES (\(claimID), \(topicID), \(district.rawValue), \(claims.subject), \(claims.role.rawValue), \(name), \(now))
                """)
            try await transaction.execute("""
                UPDATE reference_topics SET status = \(ReferenceTopicStatus.claimed.rawValue) WHERE id = \(topicID)
                """)
            let clueIDs = clues.map(\.id)
            if !clueIDs.isEmpty {
                try await transaction.execute("""
                    UPDATE triage_clues SET status = \(ClueTriageStatus.claimed.rawValue) WHERE clue_id = ANY(\(clueIDs))
                    """)
            }
            let coClaim = !active.isEmpty
            try await Self.recordDecision(
                "claim", clueIDs: clueIDs, proposalID: nil,
                detail: [
                    "topicId": .string(topicID.uuidString), "claimId": .string(claimID.uuidString),
                    "role": .string(claims.role.rawValue), "name": .string(name), "coClaim": .bool(coClaim),
                ],
                note: note, by: claims, now: now, in: transaction)
            let event = TopicClaimed(topicID: topicID, claimID: claimID, claimantRole: claims.role.rawValue, coClaim: coClaim)
            try await Outbox.append(
                try EventEnvelope(event, district: district, occurredAt: now), to: TopicCatalogue.triageEvents,
                key: topicID.uuidString, in: transaction)
            return TopicClaimView(
                claimId: claimID, topicId: topicID, role: claims.role.rawValue, name: name, claimedAt: now, coClaim: coClaim,
                topicStatus: ReferenceTopicStatus.claimed.rawValue)
        }
    }

    /// Releases the caller's active claim; a topic nobody holds any more is open again, and its
    /// claimed clues go back to being a reference topic. 404 when the caller holds no claim on it.
    func release(_ topicID: UUID, by claims: StaffClaims, now: Date = Date()) async throws -> ReferenceTopicView {
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction -> ReferenceTopicView in
            guard let topic = try await Self.lockTopic(topicID, in: transaction) else { throw APIError.notFound }
            var released: [UUID] = []
            for try await id in try await transaction.query("""
                UPDATE topic_claims SET released_at = \(now)
                WHERE topic_id = \(topicID) AND claimant = \(claims.subject) AND released_at IS NULL
                RETURNING id
                """).decode(UUID.self) {
                released.append(id)
            }
            guard !released.isEmpty else { throw APIError.notFound }
            let remaining = try await Self.activeClaimants(of: topicID, in: transaction)
            var reopened: [UUID] = []
            if remaining.isEmpty && topic.status == ReferenceTopicStatus.claimed.rawValue {
                try await transaction.execute("""
                    UPDATE reference_topics SET status = \(ReferenceTopicStatus.open.rawValue) WHERE id = \(topicID)
                    """)
                if !topic.clueIDs.isEmpty {
                    for try await id in try await transaction.query("""
                        UPDATE triage_clues SET status = \(ClueTriageStatus.referenceTopic.rawValue)
                        WHERE clue_id = ANY(\(topic.clueIDs)) AND status = \(ClueTriageStatus.claimed.rawValue)
                        RETURNING clue_id
                        """).decode(UUID.self) {
                        reopened.append(id)
                    }
                }
            }
            try await Self.recordDecision(
                "release", clueIDs: topic.clueIDs, proposalID: nil,
                detail: [
                    "topicId": .string(topicID.uuidString), "claimIds": .array(released.map { JSONValue.string($0.uuidString) }),
                    "role": .string(claims.role.rawValue), "reopened": .bool(remaining.isEmpty && !reopened.isEmpty),
                ],
                note: "", by: claims, now: now, in: transaction)
            let views = try await Self.topicViews(of: district, status: nil, only: topicID, caller: claims.subject, in: transaction)
            guard let view = views.first else { throw APIError.notFound }
            return view
        }
    }

    // MARK: Proposals

    /// Drafts a proposal from clues and/or a claimed topic (培育); its clues become part of it.
    func draft(_ input: ProposalDraftInput, by claims: StaffClaims, now: Date = Date()) async throws -> ProposalView {
        let draft = try input.validated()
        let district = claims.district
        let proposersJSON = try CultivationText.json(draft.proposers)
        let cosignersJSON = try CultivationText.json(draft.cosigners)
        return try await database.transaction(.district(district)) { transaction -> ProposalView in
            var clueIDs = draft.clueIDs
            if let topicID = draft.topicID {
                guard let topic = try await Self.lockTopic(topicID, in: transaction) else {
                    throw APIError.invalid("topicId", "no reference topic \(topicID) in this district")
                }
                let holders = try await Self.activeClaimants(of: topicID, in: transaction)
                guard holders.contains(claims.subject) else {
                    throw APIError(
                        .conflict, code: "not-claimed",
                        message: "you hold no active claim on this reference topic; claim it before drafting a proposal from it",
                        field: "topicId")
                }
                if topic.status == ReferenceTopicStatus.drafted.rawValue {
                    throw Self.conflict("the reference topic was drafted into a proposal already")
                }
                let listed = Set(clueIDs)
                clueIDs += topic.clueIDs.filter { !listed.contains($0) }
            }
            guard !clueIDs.isEmpty else {
                throw APIError.invalid("clueIds", "the reference topic has no clues; give at least one clue id")
            }
            // Topics touching these clues, locked before the clues (the order claims take too).
            var touchedTopics: [UUID] = []
            for try await id in try await transaction.query("""
                SELECT id FROM reference_topics WHERE clue_ids && \(clueIDs) ORDER BY id FOR UPDATE
                """).decode(UUID.self) {
                touchedTopics.append(id)
            }
            let locked = try await Self.lockClues(clueIDs, in: transaction)
            let byID = Dictionary(locked.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            if let missing = clueIDs.first(where: { byID[$0] == nil }) {
                throw APIError.invalid("clueIds", "no clue \(missing) in this district")
            }
            // A claimed clue belongs to whoever holds its topic.
            var held: Set<UUID> = []
            if claims.role != .administrator { held = try await Self.cluesHeld(by: claims.subject, in: transaction) }
            for id in clueIDs {
                let clue = byID[id]!
                do {
                    _ = try clue.status.drafting()
                } catch {
                    throw APIError(.conflict, code: "illegal-state", message: String(describing: error), field: "clueIds")
                }
                if clue.status == .claimed && claims.role != .administrator && !held.contains(id) {
                    throw APIError(
                        .conflict, code: "not-claimed",
                        message: "clue \(id) belongs to a reference topic someone else claimed; claim the topic first",
                        field: "clueIds")
                }
            }

            let proposalID = UUID()
            let lead = byID[clueIDs[0]]!
            let fastTrack = draft.fastTrack ?? !clueIDs.isEmpty
            try await transaction.execute("""
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, cosigners,
                                       clue_ids, topic_id, domain, committee, fast_track, drafted_by, created_at, updated_at)
                VALUES (\(proposalID), \(district.rawValue), \(ProposalStatus.drafting.rawValue), \(draft.title), \(draft.caseSummary),
                        \(draft.reasons), \(draft.suggestions), \(proposersJSON)::jsonb, \(cosignersJSON)::jsonb, \(clueIDs),
                        \(draft.topicID), \(lead.domain), \(lead.committee), \(fastTrack), \(claims.subject), \(now), \(now))
                """)
            try await transaction.execute("""
                UPDATE triage_clues SET status = \(ClueTriageStatus.inProposal.rawValue), proposal_id = \(proposalID)
                WHERE clue_id = ANY(\(clueIDs))
                """)
            // The named topic is drafted; so is any other claimed topic all of whose clues are now in proposals.
            if !touchedTopics.isEmpty {
                try await transaction.execute("""
                    UPDATE reference_topics r SET status = \(ReferenceTopicStatus.drafted.rawValue)
                    WHERE r.id = ANY(\(touchedTopics))
                      AND (r.id = \(draft.topicID) OR (r.status = \(ReferenceTopicStatus.claimed.rawValue) AND NOT EXISTS (
                          SELECT 1 FROM triage_clues c
                          WHERE c.clue_id = ANY(r.clue_ids) AND c.status <> \(ClueTriageStatus.inProposal.rawValue))))
                    """)
            }
            var detail: [String: JSONValue] = ["fastTrack": .bool(fastTrack)]
            if let topicID = draft.topicID { detail["topicId"] = .string(topicID.uuidString) }
            try await Self.recordDecision("draft", clueIDs: clueIDs, proposalID: proposalID, detail: detail, note: "", by: claims, now: now, in: transaction)
            guard let view = try await Self.loadProposal(proposalID, of: district, lock: false, in: transaction) else { throw APIError.notFound }
            return view
        }
    }

    /// Edits a draft; only its drafter or an administrator, and only while it is drafting.
    func edit(_ id: UUID, input: ProposalEditInput, by claims: StaffClaims, now: Date = Date()) async throws -> ProposalView {
        let title = try FieldText.optional(input.title, "title", limit: ProposalLimits.title, multiline: false)
        let caseSummary = try FieldText.optional(input.caseSummary, "caseSummary", limit: ProposalLimits.caseSummary, multiline: false)
        let reasons = try FieldText.optional(input.reasons, "reasons", limit: ProposalLimits.reasons, multiline: true)
        let suggestions = try FieldText.optional(input.suggestions, "suggestions", limit: ProposalLimits.suggestions, multiline: true)
        // A field that is present must not be blank: the draft keeps every part of the form.
        for (value, text, field) in [
            (input.title, title, "title"), (input.caseSummary, caseSummary, "caseSummary"),
            (input.reasons, reasons, "reasons"), (input.suggestions, suggestions, "suggestions"),
        ] where value != nil && text == nil {
            throw APIError.invalid(field, "must not be empty")
        }
        let proposersJSON = try input.proposers.map {
            try CultivationText.json(try CultivationText.people($0, "proposers", required: true, maximum: ProposalLimits.proposers))
        }
        let cosignersJSON = try input.cosigners.map {
            try CultivationText.json(try CultivationText.people($0, "cosigners", required: false, maximum: ProposalLimits.cosigners))
        }
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction -> ProposalView in
            guard let current = try await Self.loadProposal(id, of: district, lock: true, in: transaction) else { throw APIError.notFound }
            try Self.requireDrafterOrAdministrator(current, claims, "edit")
            let status = try Self.status(of: current)
            guard status == .drafting else {
                throw Self.conflict("a proposal that is \(status.rawValue) cannot be edited; only a proposal that is \(ProposalStatus.drafting.rawValue) can")
            }
            try await transaction.execute("""
                UPDATE proposals SET
                    title = coalesce(\(title), title),
                    case_summary = coalesce(\(caseSummary), case_summary),
                    reasons = coalesce(\(reasons), reasons),
                    suggestions = coalesce(\(suggestions), suggestions),
                    proposers = coalesce(\(proposersJSON)::jsonb, proposers),
                    cosigners = coalesce(\(cosignersJSON)::jsonb, cosigners),
                    fast_track = coalesce(\(input.fastTrack)::boolean, fast_track),
                    updated_at = \(now)
                WHERE id = \(id)
                """)
            guard let view = try await Self.loadProposal(id, of: district, lock: false, in: transaction) else { throw APIError.notFound }
            try await AuditTrail.record("proposal-edited", "proposal", id.uuidString.lowercased(), before: AuditTrail.json(current),
                                        after: AuditTrail.json(view), district: district, at: now, in: transaction)
            return view
        }
    }

    /// Submits a draft for review (审查); the review is due after the district's fast-track or
    /// ordinary number of days.
    func submit(_ id: UUID, by claims: StaffClaims, now: Date = Date()) async throws -> ProposalView {
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction -> ProposalView in
            guard let current = try await Self.loadProposal(id, of: district, lock: true, in: transaction) else { throw APIError.notFound }
            try Self.requireDrafterOrAdministrator(current, claims, "submit")
            try await Self.move(id, .submitForReview, by: claims, at: now, in: transaction)
            let settings = try await Self.settings(of: district, in: transaction)
            let days = current.fastTrack ? settings.fastTrackReviewDays : settings.reviewDays
            let due = now.addingTimeInterval(Double(days) * 86_400)
            try await transaction.execute("""
                UPDATE proposals SET submitted_at = \(now), review_due_at = \(due)
                WHERE id = \(id)
                """)
            try await AuditTrail.record("proposal-submitted", "proposal", id.uuidString.lowercased(), district: district, at: now, in: transaction)
            let event = ProposalDrafted(
                proposalID: id, clueIDs: current.clueIds, topicID: current.topicId, fastTrack: current.fastTrack, reviewDueAt: due)
            try await Outbox.append(
                try EventEnvelope(event, district: district, occurredAt: now), to: TopicCatalogue.triageEvents,
                key: id.uuidString, in: transaction)
            guard let view = try await Self.loadProposal(id, of: district, lock: false, in: transaction) else { throw APIError.notFound }
            return view
        }
    }

    /// The proposals committee's review: file (立案, with a case number), not file (with a reason
    /// and an alternative route), or return for revision.
    func review(_ id: UUID, input: ProposalReviewInput, by claims: StaffClaims, now: Date = Date()) async throws -> ProposalView {
        let review = try input.validated()
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction -> ProposalView in
            // The row's lock serialises reviews: a second concurrent review sees the first's outcome.
            guard let current = try await Self.loadProposal(id, of: district, lock: true, in: transaction) else { throw APIError.notFound }
            try await Self.move(id, review.decision.transition, by: claims, at: now, in: transaction)
            var detail: [String: JSONValue] = ["decision": .string(review.decision.rawValue)]
            switch review.decision {
            case .file:
                let settings = try await Self.settings(of: district, in: transaction)
                let session = review.session ?? settings.currentSession
                let year = TrackingSequences.year(of: now)
                var sequence = 0
                for try await value in try await transaction.query("""
                    INSERT INTO case_sequences (district, session, year, last_value)
                    VALUES (\(district.rawValue), \(session)::int, \(year)::int, 1)
                    ON CONFLICT (district, session, year) DO UPDATE SET last_value = case_sequences.last_value + 1
                    RETURNING last_value
                    """).decode(Int.self) {
                    sequence = value
                }
                let caseNumber = CaseNumber(prefix: settings.prefix, session: session, year: year, sequence: sequence)
                try await transaction.execute("""
                    UPDATE proposals SET case_number = \(caseNumber.rawValue), session = \(session)::int,
                           year = \(year)::int, reviewed_by = \(claims.subject), reviewed_at = \(now), review_reason = \(review.reason),
                           alternative_route = NULL
                    WHERE id = \(id)
                    """)
                detail["caseNumber"] = .string(caseNumber.rawValue)
                detail["session"] = .number(Double(session))
                detail["year"] = .number(Double(year))
                let event = ProposalFiled(
                    proposalID: id, caseNumber: caseNumber, session: session, year: year, fastTrack: current.fastTrack,
                    domain: current.domain, committee: current.committee, clueIDs: current.clueIds)
                try await Outbox.append(
                    try EventEnvelope(event, district: district, occurredAt: now), to: TopicCatalogue.triageEvents,
                    key: id.uuidString, in: transaction)
            case .notFile:
                let route = review.alternativeRoute ?? AlternativeRoute.none
                try await transaction.execute("""
                    UPDATE proposals SET reviewed_by = \(claims.subject), reviewed_at = \(now),
                           review_reason = \(review.reason), alternative_route = \(route.rawValue)
                    WHERE id = \(id)
                    """)
                detail["alternativeRoute"] = .string(route.rawValue)
                let event = ProposalNotFiled(proposalID: id, alternativeRoute: route, clueIDs: current.clueIds)
                try await Outbox.append(
                    try EventEnvelope(event, district: district, occurredAt: now), to: TopicCatalogue.triageEvents,
                    key: id.uuidString, in: transaction)
            case .returnForRevision:
                try await transaction.execute("""
                    UPDATE proposals SET reviewed_by = \(claims.subject), reviewed_at = \(now),
                           review_reason = \(review.reason), review_due_at = NULL
                    WHERE id = \(id)
                    """)
                // The drafter is told (publicity's notices); the reason stays in the store.
                try await Outbox.append(
                    try EventEnvelope(ProposalReturned(proposalID: id), district: district, occurredAt: now), to: TopicCatalogue.triageEvents,
                    key: id.uuidString, in: transaction)
            }
            try await Self.recordDecision(
                review.decision.rawValue, clueIDs: current.clueIds, proposalID: id, detail: detail, note: review.reason ?? "",
                by: claims, now: now, in: transaction)
            guard let view = try await Self.loadProposal(id, of: district, lock: false, in: transaction) else { throw APIError.notFound }
            return view
        }
    }

    /// The district's proposals, newest first.
    /// `draftedBy`: only that person's proposals (for roles that see their own only).
    /// `reviewOverdue`: only proposals submitted for review whose review is past its due date
    /// (the fast track's), the oldest due first.
    func proposals(in district: DistrictCode, status: ProposalStatus?, draftedBy: String?, reviewOverdue: Bool = false, now: Date = Date(),
                   limit: Int, offset: Int) async throws -> [ProposalView] {
        try await database.transaction(.district(district)) { transaction -> [ProposalView] in
            let rows = try await transaction.query("""
                SELECT \(unescaped: Self.proposalColumns) FROM proposals
                WHERE district = \(district.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                  AND (\(draftedBy)::text IS NULL OR drafted_by = \(draftedBy))
                  AND (NOT \(reviewOverdue) OR (status = 'submitted' AND review_due_at < \(now)))
                ORDER BY CASE WHEN \(reviewOverdue) THEN review_due_at END, created_at DESC, id
                LIMIT \(limit) OFFSET \(offset)
                """)
            var views: [ProposalView] = []
            for try await row in rows.decode(ProposalRow.self) { views.append(try Self.view(row, district: district)) }
            return views
        }
    }

    /// One proposal of the district; nil for unknown ids and ids of other districts.
    func proposal(_ id: UUID, in district: DistrictCode) async throws -> ProposalView? {
        try await database.transaction(.district(district)) { transaction -> ProposalView? in
            try await Self.loadProposal(id, of: district, lock: false, in: transaction)
        }
    }

    // MARK: Rows

    struct LockedTopic {
        var id: UUID
        var status: String
        var clueIDs: [UUID]
    }

    struct LockedClue {
        var id: UUID
        var status: ClueTriageStatus
        var domain: String?
        var committee: String?
    }

    struct Settings {
        var coClaiming: Bool
        var currentSession: Int
        var fastTrackReviewDays: Int
        var reviewDays: Int
        /// The district's case-number prefix (its tracking prefix, or its code in capitals).
        var prefix: String
    }

    static func lockTopic(_ id: UUID, in transaction: Transaction) async throws -> LockedTopic? {
        var topic: LockedTopic?
        for try await (status, clueIDs) in try await transaction.query("""
            SELECT status, clue_ids FROM reference_topics WHERE id = \(id) FOR UPDATE
            """).decode((String, [UUID]).self) {
            topic = LockedTopic(id: id, status: status, clueIDs: clueIDs)
        }
        return topic
    }

    /// The clues' triage rows, locked, in the order given (missing ones left out).
    static func lockClues(_ ids: [UUID], in transaction: Transaction) async throws -> [LockedClue] {
        guard !ids.isEmpty else { return [] }
        var found: [UUID: LockedClue] = [:]
        for try await (id, status, domain, committee) in try await transaction.query("""
            SELECT clue_id, status, domain, committee FROM triage_clues WHERE clue_id = ANY(\(ids)) ORDER BY clue_id FOR UPDATE
            """).decode((UUID, String, String?, String?).self) {
            found[id] = LockedClue(id: id, status: ClueTriageStatus(rawValue: status) ?? .closed, domain: domain, committee: committee)
        }
        return ids.compactMap { found[$0] }
    }

    /// Subjects holding an active claim on the topic.
    static func activeClaimants(of topicID: UUID, in transaction: Transaction) async throws -> Set<String> {
        var claimants: Set<String> = []
        for try await claimant in try await transaction.query("""
            SELECT claimant FROM topic_claims WHERE topic_id = \(topicID) AND released_at IS NULL
            """).decode(String.self) {
            claimants.insert(claimant)
        }
        return claimants
    }

    /// The clues of every topic `subject` holds an active claim on.
    static func cluesHeld(by subject: String, in transaction: Transaction) async throws -> Set<UUID> {
        var ids: Set<UUID> = []
        for try await id in try await transaction.query("""
            SELECT DISTINCT unnest(r.clue_ids) FROM topic_claims k JOIN reference_topics r ON r.id = k.topic_id
            WHERE k.claimant = \(subject) AND k.released_at IS NULL
            """).decode(UUID.self) {
            ids.insert(id)
        }
        return ids
    }

    static func settings(of district: DistrictCode, in transaction: Transaction) async throws -> Settings {
        var settings: Settings?
        for try await (coClaiming, session, fastDays, days, prefix) in try await transaction.query("""
            SELECT co_claiming, current_session, fast_track_review_days, review_days, coalesce(tracking_prefix, upper(code))
            FROM districts WHERE code = \(district.rawValue)
            """).decode((Bool, Int, Int, Int, String).self) {
            settings = Settings(coClaiming: coClaiming, currentSession: session, fastTrackReviewDays: fastDays, reviewDays: days, prefix: prefix)
        }
        guard let settings else { throw APIError.notFound }
        return settings
    }

    static func topicViews(
        of district: DistrictCode, status: ReferenceTopicStatus?, only id: UUID?, caller: String, in transaction: Transaction
    ) async throws -> [ReferenceTopicView] {
        var topics: [ReferenceTopicView] = []
        for try await (topicID, title, topicStatus, groupID, clueIDs, domain, committee, publishedAt) in try await transaction.query("""
            SELECT id, title, status, group_id, clue_ids, domain, committee, published_at FROM reference_topics
            WHERE district = \(district.rawValue)
              AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(id)::uuid IS NULL OR id = \(id))
            ORDER BY published_at DESC, id
            """).decode((UUID, String, String, UUID?, [UUID], String?, String?, Date).self) {
            topics.append(ReferenceTopicView(
                id: topicID, title: title, status: topicStatus, groupId: groupID, clueIds: clueIDs, domain: domain, committee: committee,
                publishedAt: publishedAt, claimants: []))
        }
        guard !topics.isEmpty else { return [] }
        var claimants: [UUID: [TopicClaimantView]] = [:]
        for try await (topicID, claimID, claimant, role, name, claimedAt) in try await transaction.query("""
            SELECT topic_id, id, claimant, claimant_role, claimant_name, claimed_at FROM topic_claims
            WHERE topic_id = ANY(\(topics.map(\.id))) AND released_at IS NULL
            ORDER BY claimed_at, id
            """).decode((UUID, UUID, String, String, String, Date).self) {
            claimants[topicID, default: []].append(
                TopicClaimantView(claimId: claimID, role: role, name: name, claimedAt: claimedAt, mine: claimant == caller))
        }
        for index in topics.indices { topics[index].claimants = claimants[topics[index].id] ?? [] }
        return topics
    }

    static let proposalColumns = """
        id, status, title, case_summary, reasons, suggestions, proposers::text, cosigners::text, clue_ids, topic_id, domain,
        committee, fast_track, drafted_by, created_at, updated_at, submitted_at, review_due_at, case_number, session, year,
        reviewed_by, reviewed_at, review_reason, alternative_route
        """
    typealias ProposalRow = (
        UUID, String, String, String, String, String, String, String, [UUID], UUID?, String?,
        String?, Bool, String, Date, Date, Date?, Date?, String?, Int?, Int?,
        String?, Date?, String?, String?
    )

    static func view(_ row: ProposalRow, district: DistrictCode) throws -> ProposalView {
        let decoder = JSONDecoder()
        return ProposalView(
            id: row.0, district: district.rawValue, status: row.1, title: row.2, caseSummary: row.3, reasons: row.4,
            suggestions: row.5, proposers: try decoder.decode([ProposerEntry].self, from: Data(row.6.utf8)),
            cosigners: try decoder.decode([ProposerEntry].self, from: Data(row.7.utf8)), clueIds: row.8, topicId: row.9,
            domain: row.10, committee: row.11, fastTrack: row.12, draftedBy: row.13, createdAt: row.14, updatedAt: row.15,
            submittedAt: row.16, reviewDueAt: row.17, caseNumber: row.18, session: row.19, year: row.20, reviewedBy: row.21,
            reviewedAt: row.22, reviewReason: row.23, alternativeRoute: row.24)
    }

    /// A proposal of the transaction's district, its row locked when `lock`; nil for unknown ids
    /// and ids of other districts (row-level security hides them).
    static func loadProposal(_ id: UUID, of district: DistrictCode, lock: Bool, in transaction: Transaction) async throws -> ProposalView? {
        var found: ProposalView?
        for try await row in try await transaction.query("""
            SELECT \(unescaped: proposalColumns) FROM proposals
            WHERE id = \(id) AND district = \(district.rawValue) \(unescaped: lock ? "FOR UPDATE" : "")
            """).decode(ProposalRow.self) {
            found = try Self.view(row, district: district)
        }
        return found
    }

    static func status(of proposal: ProposalView) throws -> ProposalStatus {
        guard let status = ProposalStatus(rawValue: proposal.status) else {
            throw Self.conflict("the proposal has a status this service does not know: \(proposal.status)")
        }
        return status
    }

    /// Moves the proposal through the shared lifecycle writer; 409 with the rules' reason when
    /// they forbid the move.
    static func move(_ id: UUID, _ transition: ProposalTransition, by claims: StaffClaims, at now: Date, in transaction: Transaction) async throws {
        do {
            try await ProposalStatuses.apply(transition, to: id, by: claims.subject, at: now, in: transaction)
        } catch let error as IllegalTransition {
            throw Self.conflict(String(describing: error))
        }
    }

    static func requireDrafterOrAdministrator(_ proposal: ProposalView, _ claims: StaffClaims, _ action: String) throws {
        guard claims.role == .administrator || claims.subject == proposal.draftedBy else {
            throw APIError.forbidden("only the proposal's drafter or an administrator may \(action) it")
        }
    }

    static func conflict(_ message: String) -> APIError {
        APIError(.conflict, code: "illegal-state", message: message)
    }

    /// Keeps the decision (`triage_decisions`): claims, releases, drafts and reviews.
    static func recordDecision(
        _ action: String, clueIDs: [UUID], proposalID: UUID?, detail: [String: JSONValue], note: String, by claims: StaffClaims,
        now: Date, in transaction: Transaction
    ) async throws {
        let detailText = String(decoding: try JSONEncoder().encode(JSONValue.object(detail)), as: UTF8.self)
        try await transaction.execute("""
            INSERT INTO triage_decisions (id, district, action, clue_ids, proposal_id, detail, note, decided_by, decided_at)
            VALUES (\(UUID()), \(claims.district.rawValue), \(action), \(clueIDs), \(proposalID), \(detailText)::jsonb, \(note),
                    \(claims.subject), \(now))
            """)
        try await AuditTrail.record(action, proposalID == nil ? "reference-topic" : "proposal",
                                    (proposalID ?? clueIDs.first)?.uuidString.lowercased(), after: detailText,
                                    district: claims.district, at: now, in: transaction)
    }
}

/// `/v1/reference-topics` and `/v1/proposals`: claiming, cultivation, review and filing. Every
/// route takes a staff token; the district is always the token's.
struct CultivationController: Sendable {
    let database: Database
    let signer: StaffTokenSigner

    /// Who may claim reference topics (认领).
    static let claimants: Set<StaffClaims.Role> = [.member, .specialCommittee, .memberStudio, .handlingUnit, .administrator]
    /// Who may draft proposals.
    static let drafters: Set<StaffClaims.Role> = claimants.union([.proposalsCommittee])
    /// Who reviews and files (审查立案).
    static let reviewers: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator]
    /// Who reads every proposal of the district; members, studios and units read their own.
    static let readersOfAll: Set<StaffClaims.Role> = [.proposalsCommittee, .administrator, .clueHandler, .specialCommittee]

    /// The drafter a caller's reading is limited to; nil for those who read every proposal.
    static func ownOnly(_ claims: StaffClaims) -> String? { readersOfAll.contains(claims.role) ? nil : claims.subject }

    var store: CultivationStore { CultivationStore(database: database) }

    func register(on router: Router<AppRequestContext>) {
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer))
            .get("/reference-topics", use: topics)
            .delete("/reference-topics/:id/claims/mine", use: release)
            .get("/proposals", use: proposals)
            .get("/proposals/:id", use: proposal)
            .put("/proposals/:id", use: edit)
            .post("/proposals/:id/submit", use: submit)
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.claimants))
            .post("/reference-topics/:id/claims", use: claim)
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.drafters))
            .post("/proposals", use: draft)
        router.group("/v1")
            .add(middleware: StaffAuthenticator(signer: signer, roles: Self.reviewers))
            .post("/proposals/:id/review", use: review)
    }

    @Sendable func topics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        var status: ReferenceTopicStatus?
        if let text = request.uri.queryParameters["status"].map(String.init), !text.isEmpty {
            guard let parsed = ReferenceTopicStatus(rawValue: text) else {
                throw APIError.invalid("status", "must be one of \(ReferenceTopicStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let topics = try await store.topics(in: claims.district, status: status, caller: claims.subject)
        return try jsonResponse(["referenceTopics": topics])
    }

    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: NewTopicClaim.self, context: context, limit: 16 * 1024)
        return try jsonResponse(try await store.claim(id, input: input, by: claims), status: .created)
    }

    @Sendable func release(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        return try jsonResponse(try await store.release(id, by: claims))
    }

    @Sendable func draft(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let input = try await request.decodeJSON(as: ProposalDraftInput.self, context: context, limit: 256 * 1024)
        return try jsonResponse(try await store.draft(input, by: claims), status: .created)
    }

    @Sendable func edit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: ProposalEditInput.self, context: context, limit: 256 * 1024)
        return try jsonResponse(try await store.edit(id, input: input, by: claims))
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        return try jsonResponse(try await store.submit(id, by: claims))
    }

    @Sendable func review(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        let input = try await request.decodeJSON(as: ProposalReviewInput.self, context: context, limit: 16 * 1024)
        return try jsonResponse(try await store.review(id, input: input, by: claims))
    }

    @Sendable func proposals(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let query = request.uri.queryParameters
        var status: ProposalStatus?
        if let text = query["status"].map(String.init), !text.isEmpty {
            guard let parsed = ProposalStatus(rawValue: text) else {
                throw APIError.invalid("status", "must be one of \(ProposalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        var limit = 200
        if let text = query["limit"].map(String.init), !text.isEmpty {
            guard let value = Int(text), (1...1_000).contains(value) else { throw APIError.invalid("limit", "must be between 1 and 1000") }
            limit = value
        }
        var offset = 0
        if let text = query["offset"].map(String.init), !text.isEmpty {
            guard let value = Int(text), (0...1_000_000).contains(value) else { throw APIError.invalid("offset", "must be between 0 and 1000000") }
            offset = value
        }
        var reviewOverdue = false
        if let text = query["reviewOverdue"].map(String.init), !text.isEmpty {
            guard let value = Bool(text) else { throw APIError.invalid("reviewOverdue", "must be true or false") }
            reviewOverdue = value
        }
        let proposals = try await store.proposals(in: claims.district, status: status, draftedBy: Self.ownOnly(claims), reviewOverdue: reviewOverdue,
                                                  limit: limit, offset: offset)
        return try jsonResponse(["proposals": proposals])
    }

    @Sendable func proposal(_ request: Request, context: AppRequestContext) async throws -> Response {
        let claims = try context.staffClaims()
        let id = try context.uuid()
        guard let proposal = try await store.proposal(id, in: claims.district),
              Self.ownOnly(claims).map({ $0 == proposal.draftedBy }) ?? true
        else { throw APIError.notFound }
        return try jsonResponse(proposal)
    }
}
