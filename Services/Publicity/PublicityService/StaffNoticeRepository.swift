import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Storage

/// The staff notices: written from each batch of lifecycle events (`StaffNoticeRouting` decides
/// who must act), read by each account as its workbench inbox.
struct StaffNoticeRepository: Sendable {
    let database: Database

    /// The audience a signed-in person's role belongs to; nil for roles no group notice is
    /// addressed to. Everyone also reads the notices addressed to their own account.
    static func audience(of claims: StaffClaims) -> (kind: String, key: String)? {
        switch claims.role {
        case .handlingUnit: claims.unitID.map { ("unit", $0.uuidString.lowercased()) }
        case .proposalsCommittee: ("committee", "")
        case .supervisingLeader: claims.name.map { ("leader", $0) }
        // Linked to the register, by its entry; else by the name clues carried before it.
        case .memberStudio: (claims.register ?? claims.name).map { ("studio", $0) }
        case .member: (claims.register ?? claims.name).map { ("member", $0) }
        case .clueHandler, .specialCommittee, .administrator: nil
        }
    }

    static func row(_ audience: NoticeAudience) -> (kind: String, key: String) {
        switch audience {
        case .unit(let id): ("unit", id.uuidString.lowercased())
        case .committee: ("committee", "")
        case .leader(let name): ("leader", name)
        case .receiver(.studio, let name): ("studio", name)
        case .receiver(.member, let name): ("member", name)
        case .account(let login): ("account", login)
        }
    }

    /// What routing needs from the store for a batch: case numbers, drafters, the receivers of
    /// claimed topics' clues; evaluation pages from the link's id (`links`: nil makes none).
    static func facts(of events: [EventEnvelope], links: StaffTokenSigner?, in transaction: Transaction) async throws -> NoticeFacts {
        let (proposals, topics) = NoticeFacts.subjects(of: events)
        var facts = NoticeFacts()
        if let links { facts.evaluationPage = { StaffNoticeRouting.evaluationPage(links.evaluationLinkToken(for: $0)) } }
        if !proposals.isEmpty {
            let rows = try await transaction.query(
                "SELECT id, case_number, drafted_by FROM proposals WHERE id = ANY(\(Array(proposals))::uuid[])")
            for try await (id, number, drafter) in rows.decode((UUID, String?, String).self) {
                if let number { facts.caseNumbers[id] = number }
                facts.drafters[id] = drafter
            }
        }
        if !topics.isEmpty {
            let rows = try await transaction.query(
                """
                SELECT DISTINCT t.id, c.receiver_kind, c.receiver_name, c.receiver_code
                FROM reference_topics t JOIN clues c ON c.id = ANY(t.clue_ids)
                WHERE t.id = ANY(\(Array(topics))::uuid[]) AND c.receiver_kind IS NOT NULL AND c.receiver_name IS NOT NULL
                ORDER BY 1, 2, 3, 4
                """)
            for try await (topic, kind, name, code) in rows.decode((UUID, String, String, String?).self) {
                guard let kind = Receiver.Kind(rawValue: kind) else { continue }
                facts.topicReceivers[topic, default: []].append(Receiver(kind: kind, name: name, code: code))
            }
        }
        return facts
    }

    /// Writes the notices `events` ask for, in the batch's transaction; an event seen before
    /// adds nothing (one notice per event and audience). Each new notice also goes to the
    /// district's webhook when it has one, and with `mail` as an e-mail to every active account
    /// of its audience with an address (`notice_recipients`), once per event and account.
    static func post(
        _ events: [EventEnvelope], district: DistrictCode, mail: MailSettings?, workbenchURL: String, links: StaffTokenSigner?,
        in transaction: Transaction
    ) async throws {
        let facts = try await Self.facts(of: events, links: links, in: transaction)
        var columns:
            (
                ids: [UUID], events: [UUID], kinds: [String], audiences: [String], keys: [String], titles: [String], links: [String],
                proposals: [String], assignments: [String], times: [Date]
            ) = ([], [], [], [], [], [], [], [], [], [])
        for event in events {
            // An event whose payload does not decode is dead-lettered by the projection before this.
            let notices = try StaffNoticeRouting.notices(for: event, facts: facts)
            for notice in notices {
                let (kind, key) = row(notice.audience)
                columns.ids.append(UUID())
                columns.events.append(event.eventID)
                columns.kinds.append(notice.kind)
                columns.audiences.append(kind)
                columns.keys.append(key)
                columns.titles.append(notice.title)
                columns.links.append(notice.link)
                // As text, '' for none: arrays of optional uuids do not bind.
                columns.proposals.append(notice.proposalID?.uuidString ?? "")
                columns.assignments.append(notice.assignmentID?.uuidString ?? "")
                columns.times.append(event.occurredAt)
            }
        }
        guard !columns.ids.isEmpty else { return }
        let inserted = try await transaction.query(
            """
            INSERT INTO staff_notices (id, district, event_id, kind, audience, audience_key, title, link, proposal_id, assignment_id, created_at)
            SELECT n.id, \(district.rawValue), n.event_id, n.kind, n.audience, n.audience_key, n.title, n.link,
                   NULLIF(n.proposal_id, '')::uuid, NULLIF(n.assignment_id, '')::uuid, n.created_at
            FROM unnest(\(columns.ids)::uuid[], \(columns.events)::uuid[], \(columns.kinds)::text[], \(columns.audiences)::text[],
                        \(columns.keys)::text[], \(columns.titles)::text[], \(columns.links)::text[], \(columns.proposals)::text[],
                        \(columns.assignments)::text[], \(columns.times)::timestamptz[])
                 AS n(id, event_id, kind, audience, audience_key, title, link, proposal_id, assignment_id, created_at)
            ON CONFLICT (event_id, audience, audience_key) DO NOTHING
            RETURNING id
            """)
        var new: [UUID] = []
        for try await id in inserted.decode(UUID.self) { new.append(id) }
        guard !new.isEmpty else { return }
        // The district's signed webhook (its platform reaches people where they are): one
        // delivery per notice, naming the audience, never a person's contact.
        try await transaction.execute(
            """
            INSERT INTO notifications (id, district, event_id, event, recipient, channel, target, signer, body)
            SELECT gen_random_uuid(), n.district, n.event_id, n.kind, 'audience:' || n.audience || ':' || n.audience_key, e.channel, e.url, 'endpoint',
                   jsonb_build_object('event', n.kind, 'eventId', n.event_id, 'district', n.district,
                                      'occurredAt', to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                      'message', n.title, 'link', \(workbenchURL) || n.link,
                                      'recipient', jsonb_build_object('kind', 'staff', 'audience', n.audience, 'key', n.audience_key))
            FROM staff_notices n JOIN notification_endpoints e ON e.district = n.district AND e.channel = 'webhook' AND e.active
            WHERE n.id = ANY(\(new)::uuid[])
            ON CONFLICT (event_id, recipient, channel, target) DO NOTHING
            """)
        guard mail != nil else { return }
        try await transaction.execute(
            """
            INSERT INTO notifications (id, district, event_id, event, recipient, channel, target, signer, body)
            SELECT gen_random_uuid(), n.district, n.event_id, n.kind, 'account:' || r.login, 'email', r.email, 'none',
                   jsonb_build_object('subject', '【百姓提案】' || n.title,
                                      'text', n.title || E'\n\n' || CASE WHEN n.link LIKE '/evaluate/%' THEN '请打开以下链接评价（无需登录）：'
                                                                       ELSE '请登录工作台查看和处理：' END
                                              || \(workbenchURL) || n.link
                                              || E'\n\n（本邮件由政协百姓提案工作台发出，请勿直接回复。）')
            FROM staff_notices n
            JOIN notice_recipients r ON r.district = n.district AND r.audience = n.audience AND r.audience_key = n.audience_key
            WHERE n.id = ANY(\(new)::uuid[])
            ON CONFLICT (event_id, recipient, channel, target) DO NOTHING
            """)
    }

    struct Item: Codable, Sendable {
        var id: UUID
        var kind: String
        var title: String
        var link: String
        var proposalID: UUID?
        var assignmentID: UUID?
        var createdAt: Date
        var read: Bool

        /// The wire spells identifiers `…Id`.
        enum CodingKeys: String, CodingKey {
            case id, kind, title, link, proposalID = "proposalId", assignmentID = "assignmentId", createdAt, read
        }
    }

    struct Page: Codable, Sendable {
        var notices: [Item]
        var unread: Int
    }

    func page(for claims: StaffClaims, unreadOnly: Bool, limit: Int, offset: Int) async throws -> Page {
        // A role without a group audience still reads its own account's notices.
        let (kind, key) = Self.audience(of: claims) ?? ("account", claims.subject)
        return try await database.transaction(.district(claims.district)) { transaction in
            var items: [Item] = []
            let rows = try await transaction.query(
                """
                SELECT n.id, n.kind, n.title, n.link, n.proposal_id, n.assignment_id, n.created_at, r.notice_id IS NOT NULL
                FROM staff_notices n LEFT JOIN staff_notice_reads r ON r.notice_id = n.id AND r.reader = \(claims.subject)
                WHERE n.district = \(claims.district.rawValue)
                  AND ((n.audience = \(kind) AND n.audience_key = \(key)) OR (n.audience = 'account' AND n.audience_key = \(claims.subject)))
                  AND (NOT \(unreadOnly) OR r.notice_id IS NULL)
                ORDER BY n.created_at DESC, n.id DESC LIMIT \(limit) OFFSET \(offset)
                """)
            for try await (id, kind, title, link, proposal, assignment, at, read)
                in rows.decode((UUID, String, String, String, UUID?, UUID?, Date, Bool).self)
            {
                items.append(
                    Item(id: id, kind: kind, title: title, link: link, proposalID: proposal, assignmentID: assignment, createdAt: at, read: read))
            }
            let unread = try await transaction.query(
                """
                SELECT count(*)::int FROM staff_notices n
                WHERE n.district = \(claims.district.rawValue)
                  AND ((n.audience = \(kind) AND n.audience_key = \(key)) OR (n.audience = 'account' AND n.audience_key = \(claims.subject)))
                  AND NOT EXISTS (SELECT 1 FROM staff_notice_reads r WHERE r.notice_id = n.id AND r.reader = \(claims.subject))
                """
            ).decode(Int.self)
            var count = 0
            for try await value in unread { count = value }
            return Page(notices: items, unread: count)
        }
    }

    /// Marks notices read for this person: the ones named, or all of theirs. Only their own
    /// audience's notices can be marked; returns how many were newly marked.
    func markRead(_ ids: [UUID]?, for claims: StaffClaims) async throws -> Int {
        let (kind, key) = Self.audience(of: claims) ?? ("account", claims.subject)
        return try await database.transaction(.district(claims.district)) { transaction in
            let rows = try await transaction.query(
                """
                WITH marked AS (
                    INSERT INTO staff_notice_reads (notice_id, reader, district)
                    SELECT n.id, \(claims.subject), n.district FROM staff_notices n
                    WHERE n.district = \(claims.district.rawValue)
                      AND ((n.audience = \(kind) AND n.audience_key = \(key)) OR (n.audience = 'account' AND n.audience_key = \(claims.subject)))
                      AND (\(ids)::uuid[] IS NULL OR n.id = ANY(\(ids)::uuid[]))
                    ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*)::int FROM marked
                """)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }
}
