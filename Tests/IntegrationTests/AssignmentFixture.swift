import AssignmentService
import Foundation
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import TestSupport

/// One or more assignment instances on a database and topics of their own. Filed proposals are
/// written to the store as triage files them and announced on triage-events through the broker,
/// as in production. Districts: haizhu and tianhe.
final class AssignmentFixture: Sendable {
    let store: TestDatabase
    let kafka: KafkaConfiguration
    let apps: [ServiceApp]
    let tasks: [Task<Void, any Error>]
    let bases: [String]
    let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))
    let haizhu = DistrictCode(rawValue: "haizhu")!

    init(instances: Int = 1, settings: String = "{}") async throws {
        let store = try await TestDatabase()
        self.store = store
        try await store.execute("UPDATE districts SET current_session = 14, assignment_settings = \(settings)::jsonb")
        let kafka = try TestEnvironment.kafka()
        self.kafka = kafka
        try TestEnvironment.createTopics(kafka)
        var apps: [ServiceApp] = []
        for instance in 0..<instances {
            apps.append(
                try ServiceApp(
                    AssignmentService.definition,
                    configuration: ServiceConfiguration(
                        service: .assignment, instanceID: "assignment-\(instance)", httpPort: 0, database: store.configuration, kafka: kafka,
                        logLevel: .warning, tokenSecret: String(repeating: "s", count: 32),
                        environment: ["ASSIGNMENT_SWEEP_SECONDS": "1"]), handleSignals: false))
        }
        self.apps = apps
        tasks = apps.map { app in Task { try await app.run() } }
        var bases: [String] = []
        for app in apps { bases.append("http://127.0.0.1:\(await app.listeningPort() ?? 0)") }
        self.bases = bases
    }

    func stop() async throws {
        for app in apps { await app.shutdown() }
        for task in tasks { try await task.value }
    }

    func token(_ role: StaffClaims.Role = .proposalsCommittee, district: String = "haizhu", unit: UUID? = nil, subject: String? = nil) throws
        -> String
    {
        try signer.token(
            for: StaffClaims(
                subject: subject ?? "\(role.rawValue)-1", role: role, district: DistrictCode(rawValue: district)!, unitID: unit,
                expiresAt: Date().addingTimeInterval(3600)))
    }

    func call(_ method: String, _ path: String, json: Any? = nil, token: String, instance: Int = 0) async throws -> HTTPAnswer {
        try await sendHTTP(
            method, bases[instance] + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            contentType: json == nil ? nil : "application/json", headers: ["Authorization": "Bearer \(token)"])
    }

    /// Creates a unit through the API; returns its id.
    func unit(_ code: String, _ name: String, domains: [String] = [], keywords: [String] = [], district: String = "haizhu") async throws -> UUID {
        let answer = try await call(
            "POST", "/v1/assignment/units",
            json: [
                "code": code, "name": name, "kind": "district-department", "domains": domains, "keywords": keywords,
                "contacts": [["name": "联络员", "phone": "020-12345678"]],
            ], token: token(district: district))
        guard answer.status == 201, let id = (answer.json["id"] as? String).flatMap(UUID.init(uuidString:)) else {
            throw FixtureError("creating unit \(code) failed: \(answer.status) \(answer.text)")
        }
        return id
    }

    /// Files a proposal as triage does (the row, then `proposal.filed` on triage-events).
    /// Returns the proposal's id and the envelope sent.
    @discardableResult
    func file(title: String, text: String, domain: String?, number: Int, district: String = "haizhu", fastTrack: Bool = true) async throws -> (
        UUID, EventEnvelope
    ) {
        try await fileProposal(
            store: store, kafka: kafka, title: title, text: text, domain: domain, number: number, district: district, fastTrack: fastTrack)
    }

    func publish(_ envelopes: [EventEnvelope], key: String) async throws {
        let producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
        let topic = kafka.topicName(TopicCatalogue.triageEvents.name)
        for result in await producer.send(try envelopes.map { OutgoingMessage(topic: topic, key: Data(key.utf8), value: try $0.encoded()) }) {
            _ = try result.get()
        }
        await producer.close()
    }

    /// Waits until assignment took the proposals into its queue.
    func awaitCases(_ ids: [UUID]) async throws {
        let taken = try await eventually(timeout: .seconds(60)) {
            try await store.integer("SELECT count(*)::int FROM assignment_cases WHERE proposal_id = ANY(\(ids))") == ids.count
        }
        guard taken else { throw FixtureError("assignment did not take in \(ids.count) proposals in time") }
    }

    func string(_ query: PostgresQuery) async throws -> String? {
        try await store.database.transaction(.allDistricts) { transaction in
            for try await value in try await transaction.query(query).decode(String?.self) { return value }
            return nil
        }
    }

    /// The events of assignment-events, decoded, once at least `count` arrived.
    func assignmentEvents(atLeast count: Int) async throws -> [EventEnvelope] {
        try await readTopic(kafka.topicName(TopicCatalogue.assignmentEvents.name), kafka: kafka, atLeast: count, settle: .milliseconds(700))
            .map { try EventEnvelope.decode(from: $0.value) }
    }

    /// Today in China, as the service counts.
    var today: LocalDate { LocalDate.on(Date(), in: TimeZone(identifier: "Asia/Shanghai")!) }
}

/// Files a proposal as triage does (the row, then `proposal.filed` on triage-events): the input
/// of the stages after triage, for the tests of those stages. Returns the id and the envelope.
@discardableResult
func fileProposal(
    store: TestDatabase, kafka: KafkaConfiguration, title: String, text: String, domain: String?, number: Int, district: String = "haizhu",
    fastTrack: Bool = true
) async throws -> (UUID, EventEnvelope) {
    let id = UUID()
    let code = DistrictCode(rawValue: district)!
    let caseNumber = CaseNumber(prefix: district == "haizhu" ? "HZ" : "TH", session: 14, year: 2026, sequence: number)
    try await store.database.transaction(.district(code)) { transaction in
        try await transaction.execute(
            """
            INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, domain, fast_track,
                                   drafted_by, case_number, session, year, reviewed_at)
            VALUES (\(id), \(district), 'filed', \(title), \(title), \(text), \(text), '[]', \(domain), \(fastTrack), 'member-1',
                    \(caseNumber.rawValue), 14, 2026, now())
            """)
    }
    let envelope = try EventEnvelope(
        ProposalFiled(
            proposalID: id, caseNumber: caseNumber, session: 14, year: 2026, fastTrack: fastTrack, domain: domain,
            committee: nil, clueIDs: []),
        district: code, occurredAt: Date())
    let producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
    let topic = kafka.topicName(TopicCatalogue.triageEvents.name)
    for result in await producer.send([OutgoingMessage(topic: topic, key: Data(id.uuidString.utf8), value: try envelope.encoded())]) {
        _ = try result.get()
    }
    await producer.close()
    return (id, envelope)
}
