import Crypto
import Foundation
import Logging
import Messaging
import Models
import PostgresNIO
import PublicityService
import ServiceKit
import Storage
import Synchronization
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A publicity instance on a database and topics of its own. Upstream stages are played as they
/// run in production: each writes its rows to the store, then announces the outcome on its topic
/// through the broker, and publicity builds the public read model from those.
final class PublicityFixture: Sendable {
    let store: TestDatabase
    let kafka: KafkaConfiguration
    let app: ServiceApp
    let task: Task<Void, any Error>
    let base: String
    let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))
    let producer: KafkaProducer
    private let sequence = Mutex(0)
    private let others = Mutex<[(ServiceApp, Task<Void, any Error>)]>([])
    private let settings: [String: String]

    init(environment: [String: String] = [:], logLevel: Logger.Level = .warning) async throws {
        store = try await TestDatabase()
        kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
        let settings = [
            "PUBLICITY_PAGE_CACHE_SECONDS": "0", "PUBLICITY_NOTIFY_INTERVAL_MS": "100", "PUBLICITY_NOTIFY_RETRY_SECONDS": "1",
            "PUBLICITY_NOTIFY_MAX_ATTEMPTS": "3", "PUBLICITY_WEBHOOK_TIMEOUT_SECONDS": "3", "PUBLICITY_PUBLIC_URL": "https://portal.example.org",
            // The tests' receivers listen on loopback over http.
            "PUBLICITY_NOTIFY_TRUSTED_HOSTS": "127.0.0.1",
        ].merging(environment) { _, new in new }
        self.settings = settings
        app = try ServiceApp(
            PublicityService.definition,
            configuration: ServiceConfiguration(
                service: .publicity, instanceID: "publicity-1", httpPort: 0, database: store.configuration, kafka: kafka, logLevel: logLevel,
                tokenSecret: String(repeating: "s", count: 32), environment: settings), handleSignals: false)
        let app = self.app
        task = Task { try await app.run() }
        base = "http://127.0.0.1:\(await app.listeningPort() ?? 0)"
    }

    func stop() async throws {
        await producer.close()
        let others = self.others.withLock { $0 }
        for (other, _) in others { await other.shutdown() }
        await app.shutdown()
        for (_, running) in others { try await running.value }
        try await task.value
    }

    /// How many partitions each instance holds.
    var partitionsHeld: [Int] {
        [app.consumer?.assignment.count ?? 0] + others.withLock { $0.map { $0.0.consumer?.assignment.count ?? 0 } }
    }

    /// Another instance in the same consumer group.
    func startAnother(_ name: String) async throws {
        let other = try ServiceApp(
            PublicityService.definition,
            configuration: ServiceConfiguration(
                service: .publicity, instanceID: name, httpPort: 0, database: store.configuration, kafka: kafka, logLevel: .warning,
                tokenSecret: String(repeating: "s", count: 32), environment: settings), handleSignals: false)
        let running = Task { try await other.run() }
        _ = await other.listeningPort()
        others.withLock { $0.append((other, running)) }
    }

    func next() -> Int {
        sequence.withLock {
            $0 += 1; return $0
        }
    }

    // MARK: the stages upstream

    struct Clue {
        var id: UUID
        var district: DistrictCode
        var trackingNumber: String
        var token: String
        var groupID: UUID
    }

    /// A clue received by intake and triaged: rows in `clues`, `clue_receipts`, `triage_clues`, then
    /// `clue.received` on intake-events and `clue.triaged` on triage-events.
    func clue(
        _ title: String, text: String, district: String = "haizhu", contact: (name: String, phone: String)? = ("王小明", "13812345678"),
        consent: Bool = true, channel: Models.Channel = .web, street: String? = "南华西街", domain: String? = "交通", call: UUID? = nil,
        integration: String? = nil, group: UUID? = nil, receivedAt: Date = Date()
    ) async throws -> Clue {
        let code = DistrictCode(rawValue: district)!
        let id = UUID()
        let number = TrackingNumber(prefix: district == "haizhu" ? "HZ" : "TH", year: year, sequence: next())
        let token = "receipt-\(UUID().uuidString)"
        let tokenHash = Data(SHA256.hash(data: Data(token.utf8)))
        try await store.database.transaction(.district(code)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                   is_anonymous, contact_name, contact_phone, contact_address, received_at, consent_to_publish, themed_call_id,
                                   submitted_by, status)
                VALUES (\(id), \(district), \(number.rawValue), \(title), \(text), \(text), 'online-platform', \(channel.rawValue), \(contact == nil),
                        \(contact?.name), \(contact?.phone), \(contact == nil ? nil : "海珠区南华西街 12 号"), \(receivedAt), \(consent), \(call),
                        \(integration.map { "integration:\($0)" } ?? "resident:127.0.0.1"), 'awaiting-review')
                """)
            try await transaction.execute("INSERT INTO clue_receipts (clue_id, district, token_hash) VALUES (\(id), \(district), \(tokenHash))")
            try await transaction.execute(
                """
                INSERT INTO triage_clues (clue_id, district, tracking_number, channel, received_at, domain, street, status)
                VALUES (\(id), \(district), \(number.rawValue), \(channel.rawValue), \(receivedAt), \(domain), \(street), 'awaiting-review')
                """)
        }
        let groupID = group ?? UUID()
        try await publish(
            ClueReceived(
                clueID: id, trackingNumber: number, channel: channel, sourceCategory: .onlinePlatform, isAnonymous: contact == nil,
                consentToPublish: consent, themedCallID: call, receivedAt: receivedAt),
            district: code, on: TopicCatalogue.intakeEvents, key: id)
        try await publish(
            ClueTriaged(
                clueID: id, domain: domain, committee: nil, urgency: .normal, jurisdiction: .district, street: street,
                ruleVersion: 1, rules: [], groupID: groupID, groupVoices: 1, startedGroup: group == nil),
            district: code, on: TopicCatalogue.triageEvents, key: id)
        return Clue(id: id, district: code, trackingNumber: number.rawValue, token: token, groupID: groupID)
    }

    /// Triage decides a clue's route (closing it with `note` told to the submitter).
    func route(_ clue: Clue, _ route: ClueRoute.Kind, note: String = "") async throws {
        let status = route == .close ? "closed" : route == .referenceTopic ? "reference-topic" : "forwarded"
        try await store.database.transaction(.district(clue.district)) { transaction in
            try await transaction.execute(
                """
                UPDATE triage_clues SET route = \(route.rawValue), decision_note = \(note), decided_at = now(), decided_by = 'clue-handler-1'
                WHERE clue_id = \(clue.id)
                """)
            try await transaction.execute("UPDATE clues SET status = \(status), status_updated_at = now() WHERE id = \(clue.id)")
        }
        try await publish(
            ClueRouted(clueID: clue.id, decisionID: UUID(), route: route), district: clue.district, on: TopicCatalogue.triageEvents,
            key: clue.id)
    }

    struct Proposal {
        var id: UUID
        var district: DistrictCode
        var caseNumber: String
        /// The year it was filed in (a test running over New Year files in one and asserts in the next).
        var year: Int
    }

    /// The day the test runs on, in the districts' zone, and its year: what the services see.
    var today: LocalDate { LocalDate.on(Date(), in: .chinaTime) }
    var year: Int { today.year }

    /// A proposal drafted from `clues` and filed by the proposals committee.
    func file(
        _ title: String, suggestions: String, clues: [Clue], proposers: [(String, String)] = [("王小明", "resident"), ("李明", "member")],
        district: String = "haizhu", domain: String = "交通"
    ) async throws -> Proposal {
        let code = DistrictCode(rawValue: district)!
        let id = UUID()
        let year = self.year
        let caseNumber = CaseNumber(prefix: district == "haizhu" ? "HZ" : "TH", session: 14, year: year, sequence: next())
        let proposersJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: proposers.map { ["name": $0.0, "kind": $0.1] }), as: UTF8.self)
        try await store.database.transaction(.district(code)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, clue_ids, domain, fast_track,
                                       drafted_by, case_number, session, year, reviewed_at, reviewed_by)
                VALUES (\(id), \(district), 'filed', \(title), \(title), \(suggestions), \(suggestions), \(proposersJSON)::jsonb, \(clues.map(\.id)),
                        \(domain), true, 'member-1', \(caseNumber.rawValue), 14, \(year), now(), 'committee-1')
                """)
            try await transaction.execute("UPDATE clues SET status = 'filed', status_updated_at = now() WHERE id = ANY(\(clues.map(\.id)))")
            try await transaction.execute(
                "UPDATE triage_clues SET proposal_id = \(id), decided_at = coalesce(decided_at, now()) WHERE clue_id = ANY(\(clues.map(\.id)))")
        }
        try await publish(
            ProposalFiled(
                proposalID: id, caseNumber: caseNumber, session: 14, year: year, fastTrack: true, domain: domain, committee: nil,
                clueIDs: clues.map(\.id)),
            district: code, on: TopicCatalogue.triageEvents, key: id)
        return Proposal(id: id, district: code, caseNumber: caseNumber.rawValue, year: year)
    }

    /// Assignment assigns a round; supervision starts tracking it (its rows), as they do.
    @discardableResult
    func assign(
        _ proposal: Proposal, lead: String, co: [String] = [], round: Int = 1, deadline: LocalDate? = nil,
        supersedes: [UUID] = []
    ) async throws -> [AssignedUnit] {
        let today = self.today
        let deadline = deadline ?? today.adding(days: 36)
        var units = [
            AssignedUnit(
                assignmentID: UUID(), unitID: UUID(), unitName: lead, role: .lead, status: .active, assignedOn: today,
                deadline: deadline, contestUntil: today.adding(days: 7))
        ]
        for name in co {
            units.append(
                AssignedUnit(
                    assignmentID: UUID(), unitID: UUID(), unitName: name, role: .coHandling, status: .active, assignedOn: today,
                    deadline: deadline, contestUntil: today.adding(days: 7)))
        }
        try await store.database.transaction(.district(proposal.district)) { transaction in
            for unit in units {
                try await transaction.execute(
                    """
                    INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round,
                                                        assigned_on, deadline, state)
                    VALUES (\(unit.assignmentID), \(proposal.district.rawValue), \(proposal.id), \(proposal.caseNumber), \(unit.unitID), \(unit.unitName),
                            \(unit.role.rawValue), \(round), \(today.description)::date, \(deadline.description)::date, 'handling')
                    """)
            }
        }
        if supersedes.isEmpty {
            try await publish(
                ProposalAssigned(
                    proposalID: proposal.id, caseNumber: proposal.caseNumber, kind: .citizen, round: round, units: units,
                    isKey: false, supervisingLeader: nil, automatic: false, confirmedPreAssignment: false),
                district: proposal.district, on: TopicCatalogue.assignmentEvents, key: proposal.id)
        } else {
            try await publish(
                ProposalReassigned(
                    proposalID: proposal.id, caseNumber: proposal.caseNumber, round: round, units: units,
                    superseded: supersedes, resolvedContests: [], deadlineRule: .restart, note: "改由新单位办理"),
                district: proposal.district, on: TopicCatalogue.assignmentEvents, key: proposal.id)
        }
        return units
    }

    func changeDeadline(_ proposal: Proposal, _ unit: AssignedUnit, to deadline: LocalDate) async throws {
        try await publish(
            AssignmentDeadlineChanged(
                assignmentID: unit.assignmentID, proposalID: proposal.id, unitID: unit.unitID, previous: unit.deadline,
                deadline: deadline, reason: "延期"),
            district: proposal.district, on: TopicCatalogue.assignmentEvents, key: proposal.id)
    }

    /// A unit replies (the row in `replies`, then `assignment.replied`).
    @discardableResult
    func reply(_ proposal: Proposal, _ unit: AssignedUnit, text: String, category: ReplyCategory = .solvedOrAdopted) async throws -> UUID {
        let id = UUID()
        try await store.database.transaction(.district(proposal.district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO replies (id, district, assignment_id, proposal_id, text, category, on_time, replied_at, replied_by)
                VALUES (\(id), \(proposal.district.rawValue), \(unit.assignmentID), \(proposal.id), \(text), \(category.rawValue), true, now(), 'unit-1')
                """)
            try await transaction.execute(
                "UPDATE supervised_assignments SET state = 'replied', replied_at = now() WHERE assignment_id = \(unit.assignmentID)")
        }
        try await publish(
            AssignmentReplied(
                replyID: id, assignmentID: unit.assignmentID, proposalID: proposal.id, unitID: unit.unitID, category: category,
                promisedDate: nil, onTime: true),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
        return id
    }

    func recategorise(_ proposal: Proposal, _ unit: AssignedUnit, reply: UUID, from: ReplyCategory, to: ReplyCategory) async throws {
        try await store.database.transaction(.district(proposal.district)) { transaction in
            try await transaction.execute(
                "UPDATE replies SET reviewed_category = \(to.rawValue), reviewed_at = now(), reviewed_by = 'committee-1' WHERE id = \(reply)")
        }
        try await publish(
            ReplyRecategorised(replyID: reply, assignmentID: unit.assignmentID, proposalID: proposal.id, from: from, to: to),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
    }

    func evaluate(_ proposal: Proposal, _ unit: AssignedUnit, _ result: Satisfaction) async throws {
        try await publish(
            AssignmentEvaluated(assignmentID: unit.assignmentID, proposalID: proposal.id, unitID: unit.unitID, result: result, byProposer: true),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
    }

    func reopen(_ proposal: Proposal, _ unit: AssignedUnit, deadline: LocalDate) async throws {
        try await publish(
            AssignmentReopened(assignmentID: unit.assignmentID, proposalID: proposal.id, unitID: unit.unitID, deadline: deadline, rehandling: 1),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
    }

    func close(_ proposal: Proposal, reason: String = "各方评价满意，办结") async throws {
        try await store.database.transaction(.district(proposal.district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO proposal_closures (proposal_id, district, closed_at, closed_by, by_decision, reason)
                VALUES (\(proposal.id), \(proposal.district.rawValue), now(), 'supervision', false, \(reason))
                """)
        }
        try await publish(
            ProposalClosed(proposalID: proposal.id, byDecision: false, reason: reason),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
    }

    /// Publishes one event `times` times (more than once: a redelivery of the same event).
    func publish<P: EventPayload>(_ payload: P, district: DistrictCode, on topic: TopicSpec, key: UUID, times: Int = 1) async throws {
        let envelope = try EventEnvelope(payload, district: district, occurredAt: Date())
        for _ in 0..<times {
            try await publish(envelope, on: topic, key: key)
        }
    }

    func publish(_ envelope: EventEnvelope, on topic: TopicSpec, key: UUID) async throws {
        for result in await producer.send([
            OutgoingMessage(topic: kafka.topicName(topic.name), key: Data(key.uuidString.utf8), value: try envelope.encoded())
        ]) {
            _ = try result.get()
        }
    }

    /// Waits until publicity applied `count` events.
    func awaitApplied(_ count: Int) async throws {
        let applied = try await eventually(timeout: .seconds(60)) {
            try await store.integer("SELECT count(*)::int FROM processed_events WHERE consumer LIKE '%publicity'") >= count
        }
        guard applied else { throw FixtureError("publicity did not apply \(count) events in time") }
    }

    // MARK: reading

    func get(_ path: String) async throws -> HTTPAnswer {
        try await sendHTTP("GET", base + path)
    }

    func post(form path: String, _ fields: [(String, String)]) async throws -> HTTPAnswer {
        try await sendHTTP("POST", base + path, body: Data(URLEncodedForm.encode(fields).utf8), contentType: "application/x-www-form-urlencoded")
    }

    func token(district: String = "haizhu", role: StaffClaims.Role = .proposalsCommittee) throws -> String {
        try signer.token(
            for: StaffClaims(
                subject: "\(role.rawValue)-1", role: role, district: DistrictCode(rawValue: district)!,
                expiresAt: Date().addingTimeInterval(3600)))
    }

    func staff(_ method: String, _ path: String, json: Any? = nil, district: String = "haizhu", role: StaffClaims.Role = .proposalsCommittee)
        async throws -> HTTPAnswer
    {
        try await sendHTTP(
            method, base + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            contentType: json == nil ? nil : "application/json",
            headers: ["Authorization": "Bearer \(try token(district: district, role: role))"])
    }

    /// The public tables as JSON text, in a fixed order, to compare two builds.
    func snapshot() async throws -> [String: String] {
        var tables: [String: String] = [:]
        let orders = [
            "public_proposals": "proposal_id", "public_assignments": "assignment_id", "public_timeline": "proposal_id, entry",
            "public_clues": "clue_id", "public_reviews": "proposal_id",
        ]
        for (table, order) in orders {
            tables[table] = try await store.database.transaction(.allDistricts) { transaction in
                let rows = try await transaction.query(
                    PostgresQuery(unsafeSQL: "SELECT coalesce(json_agg(t ORDER BY \(order))::text, '[]') FROM \(table) t"))
                for try await text in rows.decode(String.self) { return text }
                return ""
            }
        }
        return tables
    }
}
