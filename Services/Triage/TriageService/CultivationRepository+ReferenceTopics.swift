import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// Reference topics (参考选题) and their claims (认领).
extension CultivationRepository {
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
            try await transaction.execute(
                """
                INSERT INTO topic_claims (id, topic_id, district, claimant, claimant_role, claimant_name, claimed_at)
                VALUES (\(claimID), \(topicID), \(district.rawValue), \(claims.subject), \(claims.role.rawValue), \(name), \(now))
                """)
            try await transaction.execute(
                """
                UPDATE reference_topics SET status = \(ReferenceTopicStatus.claimed.rawValue) WHERE id = \(topicID)
                """)
            let clueIDs = clues.map(\.id)
            if !clueIDs.isEmpty {
                try await transaction.execute(
                    """
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
                claimID: claimID, topicID: topicID, role: claims.role.rawValue, name: name, claimedAt: now, coClaim: coClaim,
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
            for try await id in try await transaction.query(
                """
                UPDATE topic_claims SET released_at = \(now)
                WHERE topic_id = \(topicID) AND claimant = \(claims.subject) AND released_at IS NULL
                RETURNING id
                """
            ).decode(UUID.self) {
                released.append(id)
            }
            guard !released.isEmpty else { throw APIError.notFound }
            let remaining = try await Self.activeClaimants(of: topicID, in: transaction)
            var reopened: [UUID] = []
            if remaining.isEmpty && topic.status == ReferenceTopicStatus.claimed.rawValue {
                try await transaction.execute(
                    """
                    UPDATE reference_topics SET status = \(ReferenceTopicStatus.open.rawValue) WHERE id = \(topicID)
                    """)
                if !topic.clueIDs.isEmpty {
                    for try await id in try await transaction.query(
                        """
                        UPDATE triage_clues SET status = \(ClueTriageStatus.referenceTopic.rawValue)
                        WHERE clue_id = ANY(\(topic.clueIDs)) AND status = \(ClueTriageStatus.claimed.rawValue)
                        RETURNING clue_id
                        """
                    ).decode(UUID.self) {
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
}
