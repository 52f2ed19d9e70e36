import Foundation
import Models
import PostgresNIO
import Storage

/// The feedback list's rows, recomputed for the proposals a batch touched: the proposal's text
/// from the store with personal data masked, its units and outcome from `public_assignments`.
enum PublicProposals {
    struct StoredProposal {
        var id: UUID
        var caseNumber: String
        var title: String
        var suggestions: String
        var domain: String?
        var committee: String?
        var fastTrack: Bool
        var year: Int
        var proposers: [PublicNames.Proposer]
        var filedAt: Date
        var call: UUID?
        var residentsConsented: Bool
        var closedAt: Date?
        var closingReason: String?
        var receivedAt: Date?
        var triagedAt: Date?
        /// Everyone the store knows wrote this proposal's texts: its clues' contacts, its resident proposers.
        var personalNames: [String]
    }

    struct StoredPart {
        var proposal: UUID
        var unitName: String?
        var role: String?
        var superseded: Bool
        var deadline: String?
        var repliedAt: Date?
        var replyID: UUID?
        var category: String?
        var reopenedAt: Date?
        var satisfaction: String?
        var evaluatedAt: Date?

        var asStatusPart: PublicProposalStatus.Part {
            .init(isLead: role == "lead", superseded: superseded, repliedAt: repliedAt, reopenedAt: reopenedAt, evaluatedAt: evaluatedAt)
        }
    }

    /// Recomputes the rows of `ids`; the steps before filing go on the timeline of those in `filed`
    /// (the proposals whose filing this batch applies: those steps never change afterwards).
    static func refresh(_ ids: Set<UUID>, filed: Set<UUID>, district: DistrictCode, in transaction: Transaction) async throws {
        guard !ids.isEmpty else { return }
        let ids = Array(ids)
        var proposals: [StoredProposal] = []
        // The clue facts in one pass per proposal (its first themed call, consent, first receipt and
        // triage, the contacts' names).
        let rows = try await transaction.query(
            """
            SELECT p.id, p.case_number, p.title, p.suggestions, p.domain, p.committee, p.fast_track, p.year, p.proposers::text,
                   coalesce(p.reviewed_at, p.updated_at), c.call, coalesce(c.consented, false), pc.closed_at, pc.reason, c.received, c.triaged,
                   coalesce(c.names, '{}')
            FROM proposals p
            LEFT JOIN proposal_closures pc ON pc.proposal_id = p.id
            LEFT JOIN LATERAL (
                SELECT (array_agg(c.themed_call_id ORDER BY c.received_at, c.id) FILTER (WHERE c.themed_call_id IS NOT NULL))[1] AS call,
                       bool_and(c.consent_to_publish AND NOT c.is_anonymous) AS consented, min(c.received_at) AS received,
                       min(t.decided_at) AS triaged, array_agg(c.contact_name) FILTER (WHERE c.contact_name IS NOT NULL) AS names
                FROM clues c LEFT JOIN triage_clues t ON t.clue_id = c.id
                WHERE c.id = ANY(p.clue_ids)
            ) c ON true
            WHERE p.id = ANY(\(ids)::uuid[]) AND p.case_number IS NOT NULL
            """)
        let decoder = JSONDecoder()
        for try await row in rows.decode(
            (UUID, String, String, String, String?, String?, Bool, Int?, String, Date, UUID?, Bool, Date?, String?, Date?, Date?, [String]).self)
        {
            let proposers = (try? decoder.decode([ProposerJSON].self, from: Data(row.8.utf8))) ?? []
            proposals.append(
                StoredProposal(
                    id: row.0, caseNumber: row.1, title: row.2, suggestions: row.3, domain: row.4, committee: row.5, fastTrack: row.6,
                    year: row.7 ?? LocalDate.on(row.9, in: .chinaTime).year, proposers: proposers.map { .init(name: $0.name, kind: $0.kind) },
                    filedAt: row.9, call: row.10, residentsConsented: row.11, closedAt: row.12, closingReason: row.13, receivedAt: row.14,
                    triagedAt: row.15,
                    personalNames: row.16 + proposers.filter { $0.kind == "resident" }.map(\.name)))
        }
        guard !proposals.isEmpty else { return }

        var parts: [UUID: [StoredPart]] = [:]
        let partRows = try await transaction.query(
            """
            SELECT proposal_id, unit_name, role, superseded, deadline::text, replied_at, reply_id, category, reopened_at, satisfaction, evaluated_at
            FROM public_assignments WHERE proposal_id = ANY(\(proposals.map(\.id))::uuid[])
            ORDER BY proposal_id, role, unit_name
            """)
        for try await row in partRows.decode((UUID, String?, String?, Bool, String?, Date?, UUID?, String?, Date?, String?, Date?).self) {
            parts[row.0, default: []].append(
                StoredPart(
                    proposal: row.0, unitName: row.1, role: row.2, superseded: row.3, deadline: row.4, repliedAt: row.5, replyID: row.6,
                    category: row.7, reopenedAt: row.8, satisfaction: row.9, evaluatedAt: row.10))
        }
        let leadReplies = proposals.compactMap { lead(of: parts[$0.id] ?? [])?.replyID }
        var replyTexts: [UUID: String] = [:]
        if !leadReplies.isEmpty {
            for try await (id, text) in try await transaction.query("SELECT id, text FROM replies WHERE id = ANY(\(leadReplies)::uuid[])")
                .decode((UUID, String).self)
            {
                replyTexts[id] = text
            }
        }

        let shown = proposals.map { proposal in
            PublicRow(proposal, parts: parts[proposal.id] ?? [], replyTexts: replyTexts)
        }
        try await transaction.execute(
            """
            INSERT INTO public_proposals (proposal_id, district, case_number, title, summary, domain, committee, fast_track, year, themed_call_id,
                                          proposers, status, units, deadline, reply_summary, result_category, satisfaction, filed_at,
                                          answered_at, closed_at, closing_reason)
            SELECT id, \(district.rawValue), case_number, title, summary, nullif(domain, ''), nullif(committee, ''), fast_track, year,
                   nullif(call, '')::uuid, proposers, status, ARRAY(SELECT jsonb_array_elements_text(units::jsonb)), nullif(deadline, '')::date,
                   nullif(reply, ''), nullif(category, ''), nullif(satisfaction, ''), filed_at, nullif(answered_at, \(noDate)), nullif(closed_at, \(noDate)), nullif(closing, '')
            FROM unnest(\(shown.map(\.id))::uuid[], \(shown.map(\.caseNumber))::text[], \(shown.map(\.title))::text[], \(shown.map(\.summary))::text[],
                        \(shown.map(\.domain))::text[], \(shown.map(\.committee))::text[], \(shown.map(\.fastTrack))::boolean[],
                        \(shown.map(\.year))::int[], \(shown.map(\.call))::text[], \(shown.map(\.proposers))::text[], \(shown.map(\.status))::text[],
                        \(shown.map(\.unitsJSON))::text[], \(shown.map(\.deadline))::text[], \(shown.map(\.reply))::text[],
                        \(shown.map(\.category))::text[], \(shown.map(\.satisfaction))::text[], \(shown.map(\.filedAt))::timestamptz[],
                        \(shown.map { $0.answeredAt ?? noDate })::timestamptz[], \(shown.map { $0.closedAt ?? noDate })::timestamptz[], \(shown.map(\.closing))::text[])
                 AS p(id, case_number, title, summary, domain, committee, fast_track, year, call, proposers, status, units, deadline, reply,
                      category, satisfaction, filed_at, answered_at, closed_at, closing)
            ON CONFLICT (proposal_id) DO UPDATE SET
                case_number = EXCLUDED.case_number, title = EXCLUDED.title, summary = EXCLUDED.summary, domain = EXCLUDED.domain,
                committee = EXCLUDED.committee, fast_track = EXCLUDED.fast_track, year = EXCLUDED.year, themed_call_id = EXCLUDED.themed_call_id,
                proposers = EXCLUDED.proposers, status = EXCLUDED.status, units = EXCLUDED.units, deadline = EXCLUDED.deadline,
                reply_summary = EXCLUDED.reply_summary, result_category = EXCLUDED.result_category, satisfaction = EXCLUDED.satisfaction,
                filed_at = EXCLUDED.filed_at, answered_at = EXCLUDED.answered_at, closed_at = EXCLUDED.closed_at,
                closing_reason = EXCLUDED.closing_reason
            """)

        // The steps before filing come from the store: the first clue's receipt and triage.
        var entries: [(UUID, String, Date)] = []
        for proposal in proposals where filed.contains(proposal.id) {
            if let received = proposal.receivedAt { entries.append((proposal.id, "received", received)) }
            if let triaged = proposal.triagedAt { entries.append((proposal.id, "triaged", triaged)) }
            entries.append((proposal.id, "filed", proposal.filedAt))
        }
        guard !entries.isEmpty else { return }
        try await transaction.execute(
            """
            INSERT INTO public_timeline (proposal_id, entry, stage, occurred_at, detail)
            SELECT proposal, stage, stage, at, '' FROM unnest(\(entries.map(\.0))::uuid[], \(entries.map(\.1))::text[], \(entries.map(\.2))::timestamptz[])
                 AS t(proposal, stage, at)
            ON CONFLICT (proposal_id, entry) DO UPDATE SET occurred_at = EXCLUDED.occurred_at
            """)
    }

    /// Stands for "no time" in timestamp arrays, which carry no NULLs from Swift.
    static let noDate = Date(timeIntervalSince1970: 0)

    /// The current lead unit's part.
    static func lead(of parts: [StoredPart]) -> StoredPart? {
        parts.filter { !$0.superseded && $0.role == "lead" }.max { ($0.repliedAt ?? .distantPast) < ($1.repliedAt ?? .distantPast) }
    }

    struct ProposerJSON: Decodable {
        var name: String
        var kind: String
    }

    /// One row of `public_proposals`, as text columns for `unnest` (empty text is NULL).
    struct PublicRow {
        var id: UUID
        var caseNumber: String
        var title: String
        var summary: String
        var domain: String
        var committee: String
        var fastTrack: Bool
        var year: Int
        var call: String
        var proposers: String
        var status: String
        var unitsJSON: String
        var deadline: String
        var reply: String
        var category: String
        var satisfaction: String
        var filedAt: Date
        var answeredAt: Date?
        var closedAt: Date?
        var closing: String

        init(_ proposal: StoredProposal, parts: [StoredPart], replyTexts: [UUID: String]) {
            id = proposal.id
            caseNumber = proposal.caseNumber
            let names = proposal.personalNames
            title = Redaction.redact(proposal.title, names: names)
            summary = PublicNames.summary(Redaction.redact(proposal.suggestions, names: names))
            domain = proposal.domain ?? ""
            committee = proposal.committee ?? ""
            fastTrack = proposal.fastTrack
            year = proposal.year
            call = proposal.call?.uuidString ?? ""
            proposers = PublicNames.proposers(proposal.proposers, residentsConsented: proposal.residentsConsented)
            let current = parts.filter { !$0.superseded && $0.unitName != nil }
            status = PublicProposalStatus.of(closed: proposal.closedAt != nil, parts: parts.map(\.asStatusPart)).rawValue
            let unitNames = current.filter { $0.role == "lead" }.compactMap(\.unitName) + current.filter { $0.role != "lead" }.compactMap(\.unitName)
            unitsJSON = "[" + unitNames.map(JSONText.quoted).joined(separator: ",") + "]"
            let lead = PublicProposals.lead(of: parts)
            deadline = lead?.deadline ?? ""
            let standing = lead.map { $0.asStatusPart.standingReply } ?? false
            if standing, let lead, let replyID = lead.replyID, let text = replyTexts[replyID] {
                reply = PublicNames.summary(Redaction.redact(text, names: names))
                category = lead.category ?? ""
                answeredAt = lead.repliedAt
            } else {
                reply = ""
                category = ""
                answeredAt = nil
            }
            // An evaluation counts for the reply it followed, not for an earlier one.
            if standing, let lead, let evaluatedAt = lead.evaluatedAt, let repliedAt = lead.repliedAt, evaluatedAt >= repliedAt {
                satisfaction = lead.satisfaction ?? ""
            } else {
                satisfaction = ""
            }
            filedAt = proposal.filedAt
            closedAt = proposal.closedAt
            closing = proposal.closingReason.map { PublicNames.summary(Redaction.redact($0, names: names)) } ?? ""
        }
    }
}
