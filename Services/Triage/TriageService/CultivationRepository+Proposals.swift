import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

// Proposals from drafting through submission to review and filing (审查立案).
extension CultivationRepository {
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
            for try await id in try await transaction.query(
                """
                SELECT id FROM reference_topics WHERE clue_ids && \(clueIDs) ORDER BY id FOR UPDATE
                """
            ).decode(UUID.self) {
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
            try await transaction.execute(
                """
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, cosigners,
                                       clue_ids, topic_id, domain, committee, fast_track, drafted_by, created_at, updated_at)
                VALUES (\(proposalID), \(district.rawValue), \(ProposalStatus.drafting.rawValue), \(draft.title), \(draft.caseSummary),
                        \(draft.reasons), \(draft.suggestions), \(proposersJSON)::jsonb, \(cosignersJSON)::jsonb, \(clueIDs),
                        \(draft.topicID), \(lead.domain), \(lead.committee), \(fastTrack), \(claims.subject), \(now), \(now))
                """)
            try await transaction.execute(
                """
                UPDATE triage_clues SET status = \(ClueTriageStatus.inProposal.rawValue), proposal_id = \(proposalID)
                WHERE clue_id = ANY(\(clueIDs))
                """)
            // The named topic is drafted; so is any other claimed topic all of whose clues are now in proposals.
            if !touchedTopics.isEmpty {
                try await transaction.execute(
                    """
                    UPDATE reference_topics r SET status = \(ReferenceTopicStatus.drafted.rawValue)
                    WHERE r.id = ANY(\(touchedTopics))
                      AND (r.id = \(draft.topicID) OR (r.status = \(ReferenceTopicStatus.claimed.rawValue) AND NOT EXISTS (
                          SELECT 1 FROM triage_clues c
                          WHERE c.clue_id = ANY(r.clue_ids) AND c.status <> \(ClueTriageStatus.inProposal.rawValue))))
                    """)
            }
            var detail: [String: JSONValue] = ["fastTrack": .bool(fastTrack)]
            if let topicID = draft.topicID { detail["topicId"] = .string(topicID.uuidString) }
            try await Self.recordDecision(
                "draft", clueIDs: clueIDs, proposalID: proposalID, detail: detail, note: "", by: claims, now: now, in: transaction)
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
                throw Self.conflict(
                    "a proposal that is \(status.rawValue) cannot be edited; only a proposal that is \(ProposalStatus.drafting.rawValue) can")
            }
            try await transaction.execute(
                """
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
            try await AuditTrail.record(
                "proposal-edited", "proposal", id.uuidString.lowercased(), before: AuditTrail.json(current),
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
            try await transaction.execute(
                """
                UPDATE proposals SET submitted_at = \(now), review_due_at = \(due)
                WHERE id = \(id)
                """)
            try await AuditTrail.record("proposal-submitted", "proposal", id.uuidString.lowercased(), district: district, at: now, in: transaction)
            let event = ProposalDrafted(
                proposalID: id, clueIDs: current.clueIds, topicID: current.topicID, fastTrack: current.fastTrack, reviewDueAt: due)
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
                for try await value in try await transaction.query(
                    """
                    INSERT INTO case_sequences (district, session, year, last_value)
                    VALUES (\(district.rawValue), \(session)::int, \(year)::int, 1)
                    ON CONFLICT (district, session, year) DO UPDATE SET last_value = case_sequences.last_value + 1
                    RETURNING last_value
                    """
                ).decode(Int.self) {
                    sequence = value
                }
                let caseNumber = CaseNumber(prefix: settings.prefix, session: session, year: year, sequence: sequence)
                try await transaction.execute(
                    """
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
                try await transaction.execute(
                    """
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
                try await transaction.execute(
                    """
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
    func proposals(
        in district: DistrictCode, status: ProposalStatus?, draftedBy: String?, reviewOverdue: Bool = false, now: Date = Date(),
        limit: Int, offset: Int
    ) async throws -> [ProposalView] {
        try await database.transaction(.district(district)) { transaction -> [ProposalView] in
            let rows = try await transaction.query(
                """
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
}
