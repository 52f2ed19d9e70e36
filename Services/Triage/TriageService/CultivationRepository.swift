import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// Cultivation (认领、培育) and review and filing (审查立案): proposers claim reference topics,
// draft proposals from their clues, submit them, and the proposals committee files them (on the
// fast track for 百姓提案), refuses them with an alternative route, or returns them for revision.

/// Reference topics, claims and proposals from drafting to filing. Every write of a request
/// happens in one transaction of the caller's district, with its decision record and events.
struct CultivationRepository: Sendable {
    let database: Database
}

// The rows the store's steps share: locks, settings, views, state moves, decision records.
extension CultivationRepository {
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
        for try await (status, clueIDs) in try await transaction.query(
            """
            SELECT status, clue_ids FROM reference_topics WHERE id = \(id) FOR UPDATE
            """
        ).decode((String, [UUID]).self) {
            topic = LockedTopic(id: id, status: status, clueIDs: clueIDs)
        }
        return topic
    }

    /// The clues' triage rows, locked, in the order given (missing ones left out).
    static func lockClues(_ ids: [UUID], in transaction: Transaction) async throws -> [LockedClue] {
        guard !ids.isEmpty else { return [] }
        var found: [UUID: LockedClue] = [:]
        for try await (id, status, domain, committee) in try await transaction.query(
            """
            SELECT clue_id, status, domain, committee FROM triage_clues WHERE clue_id = ANY(\(ids)) ORDER BY clue_id FOR UPDATE
            """
        ).decode((UUID, String, String?, String?).self) {
            found[id] = LockedClue(id: id, status: ClueTriageStatus(rawValue: status) ?? .closed, domain: domain, committee: committee)
        }
        return ids.compactMap { found[$0] }
    }

    /// Subjects holding an active claim on the topic.
    static func activeClaimants(of topicID: UUID, in transaction: Transaction) async throws -> Set<String> {
        var claimants: Set<String> = []
        for try await claimant in try await transaction.query(
            """
            SELECT claimant FROM topic_claims WHERE topic_id = \(topicID) AND released_at IS NULL
            """
        ).decode(String.self) {
            claimants.insert(claimant)
        }
        return claimants
    }

    /// The clues of every topic `subject` holds an active claim on.
    static func cluesHeld(by subject: String, in transaction: Transaction) async throws -> Set<UUID> {
        var ids: Set<UUID> = []
        for try await id in try await transaction.query(
            """
            SELECT DISTINCT unnest(r.clue_ids) FROM topic_claims k JOIN reference_topics r ON r.id = k.topic_id
            WHERE k.claimant = \(subject) AND k.released_at IS NULL
            """
        ).decode(UUID.self) {
            ids.insert(id)
        }
        return ids
    }

    static func settings(of district: DistrictCode, in transaction: Transaction) async throws -> Settings {
        var settings: Settings?
        for try await (coClaiming, session, fastDays, days, prefix) in try await transaction.query(
            """
            SELECT co_claiming, current_session, fast_track_review_days, review_days, coalesce(tracking_prefix, upper(code))
            FROM districts WHERE code = \(district.rawValue)
            """
        ).decode((Bool, Int, Int, Int, String).self) {
            settings = Settings(coClaiming: coClaiming, currentSession: session, fastTrackReviewDays: fastDays, reviewDays: days, prefix: prefix)
        }
        guard let settings else { throw APIError.notFound }
        return settings
    }

    static func topicViews(
        of district: DistrictCode, status: ReferenceTopicStatus?, only id: UUID?, caller: String, in transaction: Transaction
    ) async throws -> [ReferenceTopicView] {
        var topics: [ReferenceTopicView] = []
        for try await (topicID, title, topicStatus, groupID, clueIDs, domain, committee, publishedAt) in try await transaction.query(
            """
            SELECT id, title, status, group_id, clue_ids, domain, committee, published_at FROM reference_topics
            WHERE district = \(district.rawValue)
              AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(id)::uuid IS NULL OR id = \(id))
            ORDER BY published_at DESC, id
            """
        ).decode((UUID, String, String, UUID?, [UUID], String?, String?, Date).self) {
            topics.append(
                ReferenceTopicView(
                    id: topicID, title: title, status: topicStatus, groupID: groupID, clueIds: clueIDs, domain: domain, committee: committee,
                    publishedAt: publishedAt, claimants: []))
        }
        guard !topics.isEmpty else { return [] }
        var claimants: [UUID: [TopicClaimantView]] = [:]
        for try await (topicID, claimID, claimant, role, name, claimedAt) in try await transaction.query(
            """
            SELECT topic_id, id, claimant, claimant_role, claimant_name, claimed_at FROM topic_claims
            WHERE topic_id = ANY(\(topics.map(\.id))) AND released_at IS NULL
            ORDER BY claimed_at, id
            """
        ).decode((UUID, UUID, String, String, String, Date).self) {
            claimants[topicID, default: []].append(
                TopicClaimantView(claimID: claimID, role: role, name: name, claimedAt: claimedAt, mine: claimant == caller))
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
            cosigners: try decoder.decode([ProposerEntry].self, from: Data(row.7.utf8)), clueIds: row.8, topicID: row.9,
            domain: row.10, committee: row.11, fastTrack: row.12, draftedBy: row.13, createdAt: row.14, updatedAt: row.15,
            submittedAt: row.16, reviewDueAt: row.17, caseNumber: row.18, session: row.19, year: row.20, reviewedBy: row.21,
            reviewedAt: row.22, reviewReason: row.23, alternativeRoute: row.24)
    }

    /// A proposal of the transaction's district, its row locked when `lock`; nil for unknown ids
    /// and ids of other districts (row-level security hides them).
    static func loadProposal(_ id: UUID, of district: DistrictCode, lock: Bool, in transaction: Transaction) async throws -> ProposalView? {
        var found: ProposalView?
        for try await row in try await transaction.query(
            """
            SELECT \(unescaped: proposalColumns) FROM proposals
            WHERE id = \(id) AND district = \(district.rawValue) \(unescaped: lock ? "FOR UPDATE" : "")
            """
        ).decode(ProposalRow.self) {
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
        try await transaction.execute(
            """
            INSERT INTO triage_decisions (id, district, action, clue_ids, proposal_id, detail, note, decided_by, decided_at)
            VALUES (\(UUID()), \(claims.district.rawValue), \(action), \(clueIDs), \(proposalID), \(detailText)::jsonb, \(note),
                    \(claims.subject), \(now))
            """)
        try await AuditTrail.record(
            action, proposalID == nil ? "reference-topic" : "proposal",
            (proposalID ?? clueIDs.first)?.uuidString.lowercased(), after: detailText,
            district: claims.district, at: now, in: transaction)
    }
}
