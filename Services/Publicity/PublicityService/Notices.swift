import Foundation
import Models
import PostgresNIO
import Storage

/// An outcome someone is told of: a clue routed or closed, a proposal filed, answered or closed.
struct Notice {
    enum Kind: String {
        case clueRouted = "clue.routed"
        case clueClosed = "clue.closed"
        case proposalFiled = "proposal.filed"
        case proposalAnswered = "proposal.answered"
        case proposalClosed = "proposal.closed"
        case evaluationRequested = "proposal.evaluation-requested"
    }

    var event: EventEnvelope
    var kind: Kind
    /// The clues whose submitters are told; a proposal's own clues are added from the store.
    var clues: [UUID]
    var proposal: UUID?
    var route: ClueRoute.Kind?
    /// For answers: the replying assignment (only the lead unit's reply answers the proposal).
    var assignment: UUID?
    /// For evaluation requests: the link whose address the proposer is sent.
    var evaluationLink: UUID?

    init(event: EventEnvelope, kind: Kind, clues: [UUID], proposal: UUID?, route: ClueRoute.Kind?, assignment: UUID? = nil) {
        self.event = event
        self.kind = kind
        self.clues = clues
        self.proposal = proposal
        self.route = route
        self.assignment = assignment
    }
}

/// Turns notices into notification rows: the submitter of each clue and each proposer through
/// the district's channels (the government-service platform's webhook), and a status callback to
/// the integration that submitted the clue. Contact details stay in these rows, which only the
/// district's staff and the sender read; the public tables never hold them.
enum Notices {
    /// `evaluationPage` gives the address of a proposer's evaluation link (nil: none can be made).
    static func enqueue(
        _ notices: [Notice], district: DistrictCode, in transaction: Transaction,
        evaluationPage: (UUID) -> String?
    ) async throws {
        guard !notices.isEmpty else { return }
        var endpoints: [String: String] = [:]
        var callbacks = false
        let configured = try await transaction.query(
            """
            SELECT channel, url FROM notification_endpoints WHERE district = \(district.rawValue) AND active
            UNION ALL
            (SELECT 'integration-callback', '' FROM integration_keys WHERE active AND callback_url IS NOT NULL LIMIT 1)
            """)
        for try await (channel, url) in configured.decode((String, String).self) {
            if channel == "integration-callback" { callbacks = true } else { endpoints[channel] = url }
        }
        // Nobody to tell (no endpoint here, no integration listening anywhere): nothing to look up.
        guard !endpoints.isEmpty || callbacks else { return }

        // Everything the notices need, in three queries for the whole batch.
        let proposals = try await ProposalFacts.load(Set(notices.compactMap(\.proposal)), in: transaction)
        let answering = Set(notices.filter { $0.kind == .proposalAnswered }.compactMap(\.assignment))
        var leads: Set<UUID> = []
        if !answering.isEmpty {
            let rows = try await transaction.query(
                """
                SELECT assignment_id FROM supervised_assignments WHERE assignment_id = ANY(\(Array(answering))::uuid[]) AND role = 'lead'
                """)
            for try await id in rows.decode(UUID.self) { leads.insert(id) }
        }
        let clueIDs = Set(notices.flatMap(\.clues) + proposals.values.flatMap(\.clueIDs))
        let clues = try await ClueFacts.load(Array(clueIDs), in: transaction)

        var rows: [NotificationRow] = []
        for notice in notices {
            var noticeClues = notice.clues
            var proposal: ProposalFacts?
            var link: String?
            if let id = notice.evaluationLink {
                guard let page = evaluationPage(id) else { continue }
                link = page
            }
            if let id = notice.proposal {
                guard let facts = proposals[id] else { continue }
                proposal = facts
                // The evaluation is the proposer's alone; the clues' submitters are not asked.
                if notice.kind != .evaluationRequested { noticeClues += facts.clueIDs }
                // Only the lead unit's reply answers the proposal.
                if notice.kind == .proposalAnswered, let assignment = notice.assignment, !leads.contains(assignment) { continue }
            }
            for clue in Set(noticeClues).compactMap({ clues[$0] }).sorted(by: { $0.trackingNumber < $1.trackingNumber }) {
                let message = Self.message(notice, proposal: proposal, clue: clue)
                var submitter: [String: JSONValue] = ["trackingNumber": .string(clue.trackingNumber), "anonymous": .bool(clue.anonymous)]
                if !clue.anonymous {
                    if let name = clue.contactName { submitter["name"] = .string(name) }
                    if let phone = clue.contactPhone { submitter["phone"] = .string(phone) }
                }
                for (channel, url) in endpoints.sorted(by: { $0.key < $1.key }) {
                    rows.append(
                        NotificationRow(
                            notice: notice, district: district, recipient: "clue:\(clue.id.uuidString)", channel: channel, target: url,
                            signer: "endpoint",
                            body: body(
                                notice, district: district, message: message,
                                recipient: .object(["kind": .string("submitter"), "submitter": .object(submitter)]),
                                proposal: proposal)))
                }
                if let key = clue.integrationKey, let callback = clue.callbackURL {
                    rows.append(
                        NotificationRow(
                            notice: notice, district: district, recipient: "clue:\(clue.id.uuidString)", channel: "integration-callback",
                            target: callback,
                            signer: "integration:\(key)",
                            body: body(
                                notice, district: district, message: message,
                                recipient: .object([
                                    "kind": .string("integration"), "trackingNumber": .string(clue.trackingNumber),
                                    "clueStatus": .string(clue.status),
                                ]),
                                proposal: proposal)))
                }
            }
            if let proposal {
                for (index, proposer) in proposal.proposers.enumerated() {
                    for (channel, url) in endpoints.sorted(by: { $0.key < $1.key }) {
                        rows.append(
                            NotificationRow(
                                notice: notice, district: district, recipient: "proposer:\(index)", channel: channel, target: url, signer: "endpoint",
                                body: body(
                                    notice, district: district, message: Self.message(notice, proposal: proposal, clue: nil, link: link),
                                    recipient: .object([
                                        "kind": .string("proposer"), "name": .string(proposer.name), "proposerKind": .string(proposer.kind),
                                    ]),
                                    proposal: proposal, link: link)))
                    }
                }
            }
        }
        guard !rows.isEmpty else { return }
        try await transaction.execute(
            """
            INSERT INTO notifications (id, district, event_id, event, recipient, channel, target, signer, body)
            SELECT id, \(district.rawValue), event_id, event, recipient, channel, target, signer, body::jsonb
            FROM unnest(\(rows.map(\.id))::uuid[], \(rows.map(\.eventID))::uuid[], \(rows.map(\.event))::text[], \(rows.map(\.recipient))::text[],
                        \(rows.map(\.channel))::text[], \(rows.map(\.target))::text[], \(rows.map(\.signer))::text[], \(rows.map(\.body))::text[])
                 AS n(id, event_id, event, recipient, channel, target, signer, body)
            ON CONFLICT (event_id, recipient, channel, target) DO NOTHING
            """)
    }

    static func body(
        _ notice: Notice, district: DistrictCode, message: String, recipient: JSONValue, proposal: ProposalFacts?,
        link: String? = nil
    ) -> String {
        var fields: [String: JSONValue] = [
            "event": .string(notice.kind.rawValue),
            "eventId": .string(notice.event.eventID.uuidString),
            "district": .string(district.rawValue),
            "occurredAt": .string(PortalFormat.iso(notice.event.occurredAt)),
            "message": .string(message),
            "recipient": recipient,
        ]
        if let link { fields["evaluationLink"] = .string(link) }
        if let proposal {
            fields["proposal"] = .object([
                "id": .string(proposal.id.uuidString), "caseNumber": .string(proposal.caseNumber ?? ""),
                "page": .string("/proposals/\(proposal.id.uuidString)"),
            ])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(JSONValue.object(fields))) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// What the person is told, in Chinese.
    static func message(_ notice: Notice, proposal: ProposalFacts?, clue: ClueFacts?, link: String? = nil) -> String {
        let yours = clue.map { "您提交的线索（受理编号 \($0.trackingNumber)）" } ?? "您的提案"
        let caseNumber = proposal?.caseNumber.map { "（案号 \($0)）" } ?? ""
        switch notice.kind {
        case .clueRouted:
            return "\(yours)已完成梳理：\(routeLabel(notice.route))。"
        case .clueClosed:
            // Staff's note is free text and reaches integrators' callbacks too: masked like the portal's.
            let reason = clue?.decisionNote.flatMap { $0.isEmpty ? nil : Redaction.redact($0) } ?? "未说明"
            return "\(yours)经梳理暂不予采纳，原因：\(reason)。"
        case .proposalFiled:
            return clue == nil ? "您的提案已立案\(caseNumber)。" : "\(yours)已形成提案并立案\(caseNumber)。"
        case .proposalAnswered:
            return clue == nil ? "您的提案\(caseNumber)已由承办单位答复，请查看并评价。" : "\(yours)所形成的提案\(caseNumber)已由承办单位答复。"
        case .proposalClosed:
            return clue == nil ? "您的提案\(caseNumber)已办结。" : "\(yours)所形成的提案\(caseNumber)已办结。"
        case .evaluationRequested:
            return "请评价您的提案\(caseNumber)的办理结果：\(link ?? "")（无需登录，链接仅供本人使用）"
        }
    }

    static func routeLabel(_ route: ClueRoute.Kind?) -> String {
        switch route {
        case .forwardToDistrictBody: "已转送区有关单位研处"
        case .specialCommittee: "已转有关专门委员会研究"
        case .referenceTopic: "已作为参考选题发布，供提案者认领培育"
        case .throughTrain: "已通过“直通车”报送市政协"
        case .municipalDepartment: "已转送市有关部门"
        case .close: "暂不予采纳"
        case nil: "已处理"
        }
    }
}

struct NotificationRow {
    var id = UUID()
    var eventID: UUID
    var event: String
    var recipient: String
    var channel: String
    var target: String
    var signer: String
    var body: String

    init(notice: Notice, district: DistrictCode, recipient: String, channel: String, target: String, signer: String, body: String) {
        eventID = notice.event.eventID
        event = notice.kind.rawValue
        self.recipient = recipient
        self.channel = channel
        self.target = target
        self.signer = signer
        self.body = body
    }
}

struct ProposalFacts {
    var id: UUID
    var caseNumber: String?
    var clueIDs: [UUID]
    var proposers: [PublicProposals.ProposerJSON]

    static func load(_ ids: Set<UUID>, in transaction: Transaction) async throws -> [UUID: ProposalFacts] {
        guard !ids.isEmpty else { return [:] }
        var facts: [UUID: ProposalFacts] = [:]
        let rows = try await transaction.query(
            "SELECT id, case_number, clue_ids, proposers::text FROM proposals WHERE id = ANY(\(Array(ids))::uuid[])")
        for try await (id, caseNumber, clues, proposers) in rows.decode((UUID, String?, [UUID], String).self) {
            let decoded = (try? JSONDecoder().decode([PublicProposals.ProposerJSON].self, from: Data(proposers.utf8))) ?? []
            facts[id] = ProposalFacts(id: id, caseNumber: caseNumber, clueIDs: clues, proposers: decoded)
        }
        return facts
    }
}

struct ClueFacts {
    var id: UUID
    var trackingNumber: String
    var anonymous: Bool
    var contactName: String?
    var contactPhone: String?
    var status: String
    var decisionNote: String?
    var integrationKey: String?
    var callbackURL: String?

    static func load(_ ids: [UUID], in transaction: Transaction) async throws -> [UUID: ClueFacts] {
        guard !ids.isEmpty else { return [:] }
        var clues: [UUID: ClueFacts] = [:]
        let rows = try await transaction.query(
            """
            SELECT c.id, c.tracking_number, c.is_anonymous, c.contact_name, c.contact_phone, c.status, t.decision_note, k.key_id, k.callback_url
            FROM clues c
            LEFT JOIN triage_clues t ON t.clue_id = c.id
            LEFT JOIN integration_keys k ON c.submitted_by = 'integration:' || k.key_id AND k.callback_url IS NOT NULL AND k.active
            WHERE c.id = ANY(\(ids)::uuid[])
            """)
        for try await row in rows.decode((UUID, String, Bool, String?, String?, String, String?, String?, String?).self) {
            clues[row.0] = ClueFacts(
                id: row.0, trackingNumber: row.1, anonymous: row.2, contactName: row.3, contactPhone: row.4, status: row.5,
                decisionNote: row.6, integrationKey: row.7, callbackURL: row.8)
        }
        return clues
    }
}
