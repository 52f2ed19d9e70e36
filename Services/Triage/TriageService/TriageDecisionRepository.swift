import ClassificationRules
import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Similarity
import Storage

/// The body of a routing decision (`POST /v1/triage/clues/:id/decision`, `.../groups/:id/decision`).
struct DecisionInput: Decodable, Sendable {
    var route: String?
    /// The district body (转送研处) or municipal department it goes to.
    var recipient: String?
    var committee: String?
    var purpose: String?
    /// The reason the submitter is told when a clue is closed.
    var reason: String?
    /// A reference topic's title; the clue's (or the group representative's) title by default.
    var topicTitle: String?
    var note: String?

    /// The route, checked field by field (committees against the district's rules in force).
    func validated(committees: Set<String>) throws -> (ClueRoute, note: String) {
        let kinds = ClueRoute.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = route else { throw APIError.invalid("route", "is required (one of \(kinds))") }
        guard let kind = ClueRoute.Kind(rawValue: text) else { throw APIError.invalid("route", "must be one of \(kinds)") }
        let note = try FieldText.optional(note, "note", limit: 2_000, multiline: true) ?? ""
        switch kind {
        case .forwardToDistrictBody:
            return (.forwardToDistrictBody(body: try FieldText.required(recipient, "recipient", limit: 100, multiline: false)), note)
        case .municipalDepartment:
            return (.municipalDepartment(department: try FieldText.required(recipient, "recipient", limit: 100, multiline: false)), note)
        case .specialCommittee:
            guard let committee else { throw APIError.invalid("committee", "is required for route special-committee") }
            guard committees.contains(committee) else {
                throw APIError.invalid("committee", "must be one of the district's committees: \(committees.sorted().joined(separator: ", "))")
            }
            let purposes = CommitteePurpose.allCases.map(\.rawValue).joined(separator: ", ")
            guard let purpose else { throw APIError.invalid("purpose", "is required for route special-committee (one of \(purposes))") }
            guard let parsed = CommitteePurpose(rawValue: purpose) else { throw APIError.invalid("purpose", "must be one of \(purposes)") }
            return (.specialCommittee(committee: committee, purpose: parsed), note)
        case .referenceTopic:
            return (.referenceTopic, note)
        case .throughTrain:
            return (.throughTrain, note)
        case .close:
            return (.close(reason: try FieldText.required(reason, "reason", limit: 500, multiline: true)), note)
        }
    }
}

/// What a routing decision did.
struct DecisionOutcome: Codable, Sendable {
    var decisionID: UUID
    var route: String
    var routed: [UUID]
    /// Clues of a group that were not awaiting review, left as they were.
    var skipped: [UUID]
    var topicID: UUID?
    /// Through train: the clues created in the parent tenant, by origin clue.
    var linkedClues: [String: UUID]?

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case decisionID = "decisionId", route, routed, skipped, topicID = "topicId", linkedClues
    }
}

/// Staff decisions of the review queue: routes, merges and splits. Each writes its decision
/// record and its events in the transaction that changes the clues.
struct TriageDecisionRepository: Sendable {
    let database: Database
    let registrar: ClueRegistrar
    let sequences: TrackingSequences
    let hasher = MinHasher()

    enum Target {
        case clue(UUID)
        case group(UUID)
    }

    func route(_ target: Target, input: DecisionInput, by claims: StaffClaims, now: Date = Date()) async throws -> DecisionOutcome {
        let district = claims.district
        let committees = try await registrar.committees(of: district, database: database)
        let (route, note) = try input.validated(committees: committees)
        let topicTitle = try FieldText.optional(input.topicTitle, "topicTitle", limit: 100, multiline: false)
        var parent: (code: DistrictCode, sequence: String)?
        if case .throughTrain = route {
            guard let code = try await parentDistrict(of: district) else {
                throw APIError.invalid("route", "district \(district) has no parent (municipal) committee in this deployment")
            }
            parent = (code, try await sequences.ensure(code, year: TrackingSequences.year(of: now), database: database))
        }

        return try await database.transaction(.district(district)) { transaction in
            // The clues concerned, locked, in arrival order.
            let (clueIDs, groupID) = try await lockTargets(target, in: transaction)
            var members: [(id: UUID, status: ClueTriageStatus, title: String, domain: String?, committee: String?)] = []
            for try await (id, status, title, domain, committee) in try await transaction.query(
                """
                SELECT t.clue_id, t.status, c.title, t.domain, t.committee FROM triage_clues t JOIN clues c ON c.id = t.clue_id
                WHERE t.clue_id = ANY(\(clueIDs)) ORDER BY t.received_at, t.clue_id
                """
            ).decode((UUID, String, String, String?, String?).self) {
                members.append((id, ClueTriageStatus(rawValue: status) ?? .closed, title, domain, committee))
            }
            var routable = members.filter { $0.status == .awaitingReview }
            if case .clue = target, let only = members.first {
                do throws(IllegalTriageDecision) {
                    _ = try only.status.routing(route)
                } catch {
                    throw APIError(.conflict, code: "illegal-state", message: error.description)
                }
            }
            guard let first = routable.first else {
                throw APIError(.conflict, code: "illegal-state", message: "no clue of the group awaits review; nothing can be routed")
            }
            if case .group(let id) = target, let representative = try await representative(of: id, in: transaction),
                let index = routable.firstIndex(where: { $0.id == representative })
            {
                routable.swapAt(0, index)
            }
            let routedIDs = routable.map(\.id)
            let decisionID = UUID()
            var detail = Self.detail(of: route)
            var topicID: UUID?
            if case .referenceTopic = route {
                let id = UUID()
                topicID = id
                let lead = routable.first ?? first
                try await transaction.execute(
                    """
                    INSERT INTO reference_topics (id, district, title, group_id, clue_ids, domain, committee, published_by, published_at)
                    VALUES (\(id), \(district.rawValue), \(topicTitle ?? lead.title), \(groupID), \(routedIDs), \(lead.domain),
                            \(lead.committee), \(claims.subject), \(now))
                    """)
                detail["topicId"] = .string(id.uuidString)
            }
            let detailText = String(decoding: try JSONEncoder().encode(JSONValue.object(detail)), as: UTF8.self)
            try await transaction.execute(
                """
                INSERT INTO triage_decisions (id, district, action, clue_ids, group_id, detail, note, decided_by, decided_at)
                VALUES (\(decisionID), \(district.rawValue), 'route', \(routedIDs), \(groupID), \(detailText)::jsonb, \(note),
                        \(claims.subject), \(now))
                """)
            try await AuditTrail.record(
                "clues-routed", groupID == nil ? "clue" : "clue-group",
                (groupID ?? routedIDs.first)?.uuidString.lowercased(), after: detailText,
                district: district, at: now, in: transaction)
            try await transaction.execute(
                """
                UPDATE triage_clues SET status = \(route.resultingStatus.rawValue), route = \(route.kind.rawValue),
                       route_detail = \(detailText)::jsonb, decided_by = \(claims.subject), decided_at = \(now),
                       decision_note = \(note), topic_id = \(topicID)
                WHERE clue_id = ANY(\(routedIDs))
                """)

            var linked: [UUID: UUID] = [:]
            if let parent {
                linked = try await sendUp(routedIDs, from: district, to: parent.code, sequence: parent.sequence, now: now, in: transaction)
            }
            var rows: [Outbox.Row] = []
            for id in routedIDs {
                var event = ClueRouted(clueID: id, decisionID: decisionID, route: route.kind, groupID: groupID, topicID: topicID)
                switch route {
                case .forwardToDistrictBody(let body): event.recipient = body
                case .municipalDepartment(let department): event.recipient = department
                case .specialCommittee(let committee, let purpose):
                    event.committee = committee
                    event.purpose = purpose
                case .throughTrain:
                    event.linkedClueID = linked[id]
                    event.linkedDistrict = parent?.code
                case .referenceTopic, .close: break
                }
                let envelope = try EventEnvelope(event, district: district, occurredAt: now)
                rows.append(try Outbox.Row(envelope, to: TopicCatalogue.triageEvents, key: id.uuidString))
            }
            try await Outbox.append(rows, in: transaction)
            return DecisionOutcome(
                decisionID: decisionID, route: route.kind.rawValue, routed: routedIDs,
                skipped: members.filter { $0.status != .awaitingReview }.map(\.id), topicID: topicID,
                linkedClues: parent == nil ? nil : Dictionary(uniqueKeysWithValues: linked.map { ($0.key.uuidString, $0.value) }))
        }
    }

    static func detail(of route: ClueRoute) -> [String: JSONValue] {
        var detail: [String: JSONValue] = ["route": .string(route.kind.rawValue)]
        switch route {
        case .forwardToDistrictBody(let body): detail["recipient"] = .string(body)
        case .municipalDepartment(let department): detail["recipient"] = .string(department)
        case .specialCommittee(let committee, let purpose):
            detail["committee"] = .string(committee)
            detail["purpose"] = .string(purpose.rawValue)
        case .close(let reason): detail["reason"] = .string(reason)
        case .referenceTopic, .throughTrain: break
        }
        return detail
    }

    /// The clue ids a decision concerns, their rows locked; 404 when the target is not this district's.
    private func lockTargets(_ target: Target, in transaction: Transaction) async throws -> ([UUID], UUID?) {
        switch target {
        case .clue(let id):
            for try await group in try await transaction.query(
                "SELECT group_id FROM triage_clues WHERE clue_id = \(id) FOR UPDATE"
            ).decode(UUID?.self) {
                return ([id], group)
            }
            throw APIError.notFound
        case .group(let id):
            var exists = false
            for try await _ in try await transaction.query(
                "SELECT 1 FROM clue_groups WHERE id = \(id) AND merged_into IS NULL FOR UPDATE"
            ) { exists = true }
            guard exists else { throw APIError.notFound }
            var ids: [UUID] = []
            for try await clue in try await transaction.query(
                "SELECT clue_id FROM triage_clues WHERE group_id = \(id) ORDER BY clue_id FOR UPDATE"
            ).decode(UUID.self) { ids.append(clue) }
            return (ids, id)
        }
    }

    private func representative(of group: UUID, in transaction: Transaction) async throws -> UUID? {
        for try await id in try await transaction.query("SELECT representative FROM clue_groups WHERE id = \(group)").decode(UUID.self) {
            return id
        }
        return nil
    }

    private func parentDistrict(of district: DistrictCode) async throws -> DistrictCode? {
        try await database.transaction(.none) { transaction in
            for try await parent in try await transaction.query(
                "SELECT parent FROM districts WHERE code = \(district.rawValue)"
            ).decode(String?.self) {
                return parent.flatMap(DistrictCode.init(rawValue:))
            }
            return nil
        }
    }

    /// The through train (直通车): each clue becomes a clue of the parent tenant, with its own
    /// tracking number there, and goes through the parent's own triage (rules, groups, queue).
    private func sendUp(
        _ clueIDs: [UUID], from district: DistrictCode, to parent: DistrictCode, sequence: String, now: Date,
        in transaction: Transaction
    ) async throws -> [UUID: UUID] {
        struct Original {
            var id: UUID, title: String, situation: String, suggestions: String, sourceCategory: String, channel: String
            var anonymous: Bool, name: String?, phone: String?, address: String?, receiverKind: String?, receiverName: String?
            var consent: Bool
        }
        var originals: [Original] = []
        for try await (id, title, situation, suggestions, source, channel, anonymous, name, phone, address, receiverKind, receiverName, consent)
            in try await transaction.query(
                """
                SELECT id, title, situation_analysis, specific_suggestions, source_category, channel, is_anonymous,
                       contact_name, contact_phone, contact_address, receiver_kind, receiver_name, consent_to_publish
                FROM clues WHERE id = ANY(\(clueIDs)) ORDER BY received_at, id
                """
            ).decode((UUID, String, String, String, String, String, Bool, String?, String?, String?, String?, String?, Bool).self)
        {
            originals.append(
                Original(
                    id: id, title: title, situation: situation, suggestions: suggestions, sourceCategory: source, channel: channel,
                    anonymous: anonymous, name: name, phone: phone, address: address, receiverKind: receiverKind,
                    receiverName: receiverName, consent: consent))
        }
        try await transaction.scope(to: .district(parent))
        var prefix = parent.rawValue.uppercased()
        for try await text in try await transaction.query(
            "SELECT coalesce(tracking_prefix, upper(code)) FROM districts WHERE code = \(parent.rawValue)"
        ).decode(String.self) { prefix = text }
        var linked: [UUID: UUID] = [:]
        var incoming: [IncomingClue] = []
        let year = TrackingSequences.year(of: now)
        for original in originals {
            var number = 0
            for try await value in try await transaction.query("SELECT nextval(\(sequence)::regclass)").decode(Int.self) { number = value }
            let trackingNumber = TrackingNumber(prefix: prefix, year: year, sequence: number)
            let id = UUID()
            try await transaction.execute(
                """
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category,
                                   channel, is_anonymous, contact_name, contact_phone, contact_address, received_at, receiver_kind,
                                   receiver_name, consent_to_publish, submitted_by)
                VALUES (\(id), \(parent.rawValue), \(trackingNumber.rawValue), \(original.title), \(original.situation),
                        \(original.suggestions), \(original.sourceCategory), \(original.channel), \(original.anonymous),
                        \(original.name), \(original.phone), \(original.address), \(now), \(original.receiverKind),
                        \(original.receiverName), \(original.consent), \("through-train:" + district.rawValue))
                """)
            linked[original.id] = id
            incoming.append(
                IncomingClue(
                    id: id, trackingNumber: trackingNumber.rawValue, channel: original.channel, receivedAt: now,
                    sourceCategory: original.sourceCategory, themedCallID: nil,
                    text: ClueText(
                        title: original.title, situation: original.situation, suggestions: original.suggestions,
                        address: original.address, receiver: original.receiverName),
                    linkedFromClueID: original.id, cause: nil))
        }
        try await registrar.register(incoming, in: parent, transaction: transaction)
        try await transaction.scope(to: .district(district))
        let origins = Array(linked.keys)
        let links = origins.map { linked[$0]! }
        try await transaction.execute(
            """
            UPDATE triage_clues t SET linked_clue_id = l.linked
            FROM unnest(\(origins)::uuid[], \(links)::uuid[]) AS l(origin, linked) WHERE t.clue_id = l.origin
            """)
        return linked
    }
}

/// The body of `POST /v1/triage/groups/:id/merge`.
struct MergeInput: Decodable, Sendable {
    var groupIds: [UUID]?
    var note: String?
}

/// The body of `POST /v1/triage/groups/:id/split`.
struct SplitInput: Decodable, Sendable {
    var clueIds: [UUID]?
    var note: String?
}

struct RegroupOutcome: Codable, Sendable {
    var decisionID: UUID
    var groupID: UUID
    var voices: Int
    var fromGroupIds: [UUID]
    var movedClueIds: [UUID]

    /// The wire spells identifiers `…Id`.
    enum CodingKeys: String, CodingKey {
        case decisionID = "decisionId", groupID = "groupId", voices, fromGroupIds, movedClueIds
    }
}

extension TriageDecisionRepository {
    /// Merges `sources` into `target`: their clues join it, they stop being candidates.
    func merge(_ sources: MergeInput, into target: UUID, by claims: StaffClaims, now: Date = Date()) async throws -> RegroupOutcome {
        guard let groupIDs = sources.groupIds, !groupIDs.isEmpty else { throw APIError.invalid("groupIds", "name at least one group to merge in") }
        guard groupIDs.count <= 100 else { throw APIError.invalid("groupIds", "at most 100 groups at once") }
        guard Set(groupIDs).count == groupIDs.count else { throw APIError.invalid("groupIds", "names a group twice") }
        guard !groupIDs.contains(target) else { throw APIError.invalid("groupIds", "cannot merge a group into itself") }
        let note = try FieldText.optional(sources.note, "note", limit: 2_000, multiline: true) ?? ""
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            try await ClueRegistrar.lockGrouping(of: district, in: transaction)
            var live: Set<UUID> = []
            for try await id in try await transaction.query(
                """
                SELECT id FROM clue_groups WHERE id = ANY(\(groupIDs + [target])) AND merged_into IS NULL
                """
            ).decode(UUID.self) { live.insert(id) }
            guard live.contains(target) else { throw APIError.notFound }
            if let missing = groupIDs.first(where: { !live.contains($0) }) {
                throw APIError.invalid("groupIds", "no live group \(missing) in this district (unknown or merged already)")
            }
            var moved: [UUID] = []
            for try await id in try await transaction.query(
                """
                UPDATE triage_clues SET group_id = \(target) WHERE group_id = ANY(\(groupIDs)) RETURNING clue_id
                """
            ).decode(UUID.self) { moved.append(id) }
            try await transaction.execute(
                """
                UPDATE clue_groups SET merged_into = \(target), voices = 0, updated_at = \(now),
                       change_seq = nextval('clue_group_changes')
                WHERE id = ANY(\(groupIDs))
                """)
            let voices = try await recount(target, now: now, in: transaction)
            return try await record(
                .merged, group: target, voices: voices, from: groupIDs, moved: moved.sorted { $0.uuidString < $1.uuidString },
                note: note, by: claims, now: now, in: transaction)
        }
    }

    /// Moves `input.clueIds` out of `source` into a new group of their own.
    func split(_ source: UUID, input: SplitInput, by claims: StaffClaims, now: Date = Date()) async throws -> RegroupOutcome {
        guard let clueIDs = input.clueIds, !clueIDs.isEmpty else { throw APIError.invalid("clueIds", "name at least one clue to split off") }
        guard clueIDs.count <= 1_000 else { throw APIError.invalid("clueIds", "at most 1000 clues at once") }
        guard Set(clueIDs).count == clueIDs.count else { throw APIError.invalid("clueIds", "names a clue twice") }
        let note = try FieldText.optional(input.note, "note", limit: 2_000, multiline: true) ?? ""
        let district = claims.district
        return try await database.transaction(.district(district)) { transaction in
            try await ClueRegistrar.lockGrouping(of: district, in: transaction)
            var representative: UUID?
            for try await id in try await transaction.query(
                "SELECT representative FROM clue_groups WHERE id = \(source) AND merged_into IS NULL FOR UPDATE"
            ).decode(UUID.self) { representative = id }
            guard let representative else { throw APIError.notFound }
            var members: [UUID] = []
            for try await id in try await transaction.query(
                "SELECT clue_id FROM triage_clues WHERE group_id = \(source) ORDER BY received_at, clue_id"
            ).decode(UUID.self) { members.append(id) }
            if let stranger = clueIDs.first(where: { !members.contains($0) }) {
                throw APIError.invalid("clueIds", "clue \(stranger) is not in group \(source)")
            }
            let remaining = members.filter { !clueIDs.contains($0) }
            guard let keeper = remaining.first else {
                throw APIError.invalid("clueIds", "a split must leave at least one clue in the group")
            }
            let newGroup = UUID()
            let leader = members.first { clueIDs.contains($0) }!
            try await insertGroup(newGroup, representative: leader, voices: clueIDs.count, district: district, in: transaction)
            try await transaction.execute("UPDATE triage_clues SET group_id = \(newGroup) WHERE clue_id = ANY(\(clueIDs))")
            if clueIDs.contains(representative) {
                // The group lost its representative: the earliest remaining clue stands for it now.
                try await rebase(source, on: keeper, district: district, in: transaction)
            }
            _ = try await recount(source, now: now, in: transaction)
            return try await record(
                .split, group: newGroup, voices: clueIDs.count, from: [source], moved: clueIDs, note: note, by: claims, now: now,
                in: transaction)
        }
    }

    private func signature(of clue: UUID, in transaction: Transaction) async throws -> [UInt32] {
        for try await (title, situation, suggestions) in try await transaction.query(
            "SELECT title, situation_analysis, specific_suggestions FROM clues WHERE id = \(clue)"
        ).decode((String, String, String).self) {
            return hasher.signature(ofText: title + "\n" + situation + "\n" + suggestions)
        }
        throw APIError.notFound
    }

    private func insertGroup(_ id: UUID, representative: UUID, voices: Int, district: DistrictCode, in transaction: Transaction) async throws {
        let signature = try await signature(of: representative, in: transaction)
        try await transaction.execute(
            """
            INSERT INTO clue_groups (id, district, representative, signature, voices)
            VALUES (\(id), \(district.rawValue), \(representative), decode(\(SignatureCoding.hex(signature)), 'hex'), \(voices))
            """)
    }

    private func rebase(_ group: UUID, on representative: UUID, district: DistrictCode, in transaction: Transaction) async throws {
        let signature = try await signature(of: representative, in: transaction)
        try await transaction.execute(
            """
            UPDATE clue_groups SET representative = \(representative), signature = decode(\(SignatureCoding.hex(signature)), 'hex'),
                   change_seq = nextval('clue_group_changes')
            WHERE id = \(group)
            """)
    }

    private func recount(_ group: UUID, now: Date, in transaction: Transaction) async throws -> Int {
        for try await voices in try await transaction.query(
            """
            UPDATE clue_groups SET voices = (SELECT count(*) FROM triage_clues WHERE group_id = \(group)), updated_at = \(now)
            WHERE id = \(group) RETURNING voices
            """
        ).decode(Int.self) { return voices }
        return 0
    }

    private func record(
        _ change: ClueGroupsChanged.Change, group: UUID, voices: Int, from: [UUID], moved: [UUID], note: String,
        by claims: StaffClaims, now: Date, in transaction: Transaction
    ) async throws -> RegroupOutcome {
        let decisionID = UUID()
        let detail: JSONValue = .object(["fromGroupIds": .array(from.map { .string($0.uuidString) })])
        try await transaction.execute(
            """
            INSERT INTO triage_decisions (id, district, action, clue_ids, group_id, detail, note, decided_by, decided_at)
            VALUES (\(decisionID), \(claims.district.rawValue), \(change == .merged ? "merge" : "split"), \(moved), \(group),
                    \(String(decoding: try JSONEncoder().encode(detail), as: UTF8.self))::jsonb, \(note), \(claims.subject), \(now))
            """)
        try await AuditTrail.record(
            change == .merged ? "groups-merged" : "group-split", "clue-group", group.uuidString.lowercased(),
            after: AuditTrail.json(detail), district: claims.district, at: now, in: transaction)
        let event = ClueGroupsChanged(change: change, groupID: group, groupVoices: voices, fromGroupIDs: from, clueIDs: moved)
        try await Outbox.append(
            try EventEnvelope(event, district: claims.district, occurredAt: now), to: TopicCatalogue.triageEvents,
            key: group.uuidString, in: transaction)
        return RegroupOutcome(decisionID: decisionID, groupID: group, voices: voices, fromGroupIds: from, movedClueIds: moved)
    }
}
