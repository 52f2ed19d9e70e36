import Foundation
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import TestSupport
import Testing

/// `proposals-ctl` as operators run it: the real executable against the local broker and a
/// database of the test's own.
@Suite(.timeLimit(.minutes(3)))
struct OperationsCLITests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the CLI to its end with the store's and broker's variables.
    static func binary() throws -> String {
        URL(fileURLWithPath: try TestEnvironment.value("SERVICE_BINARIES")).appendingPathComponent("proposals-ctl").path
    }

    static func control(_ arguments: [String], store: TestDatabase? = nil, kafka: KafkaConfiguration? = nil, extra: [String: String] = [:])
        async throws -> Run
    {
        var environment = ["PATH": "/usr/bin:/bin", "TOKEN_SECRET": String(repeating: "s", count: 32)]
        if let store { environment["DATABASE_URL"] = store.url }
        if let kafka {
            environment["KAFKA_BROKERS"] = kafka.brokers.joined(separator: ",")
            environment["KAFKA_TOPIC_PREFIX"] = kafka.topicPrefix
        }
        environment.merge(extra) { _, new in new }
        let process = try ChildProcess(try binary(), arguments, environment: environment, standardOutput: .pipe, standardError: .pipe)
        let (out, err, status) = await process.output()
        return Run(status: status, output: String(decoding: out, as: UTF8.self), errors: String(decoding: err, as: UTF8.self))
    }

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("every command answers --help; unknown commands and bad arguments print usage and exit 2")
    func usage() async throws {
        let commands = [
            [], ["migrate"], ["topics"], ["topics", "create"], ["topics", "list"], ["topics", "describe"], ["lag"], ["dlq"], ["dlq", "list"],
            ["dlq", "show"], ["dlq", "replay"], ["outbox"], ["outbox", "status"], ["replay"], ["districts", "add"], ["seed-demo"],
            ["token"], ["token", "issue"], ["token", "issue", "staff"], ["token", "issue", "unit"], ["token", "issue", "integration"],
            ["integration-key", "add"], ["dashboard"], ["check"],
        ]
        for command in commands {
            let run = try await Self.control(command + ["--help"])
            #expect(run.status == 0, "\(command) --help")
            #expect(run.output.contains("USAGE:") || run.output.contains("Usage:"), "\(command) --help: \(run.output.prefix(200))")
        }
        for bad in [
            ["frobnicate"], ["dlq", "replay"], ["lag", "--topic", "intake-events"], ["replay", "some-model"],
            ["token", "issue", "staff", "--role", "king", "--district", "haizhu", "--subject", "x"],
            ["dlq", "show", "nowhere-events", "--offset", "1"],
        ] {
            let run = try await Self.control(bad)
            #expect(run.status == 2, "\(bad): exit \(run.status)")
            #expect(run.errors.contains("Usage:"), "\(bad): \(run.errors)")
        }
        let missing = try await Self.control(["outbox", "status"])
        #expect(missing.status == 2 && missing.errors.contains("DATABASE_URL"), "a missing variable is named: \(missing.errors)")
    }

    @Test("lag after producing N unconsumed messages equals N")
    func lag() async throws {
        let kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        let topic = kafka.topicName(TopicCatalogue.intakeEvents.name)
        let producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
        func produce(_ count: Int, from start: Int) async throws {
            let messages = (start..<(start + count)).map { OutgoingMessage(topic: topic, key: "key-\($0)", value: Data("{}".utf8)) }
            for result in await producer.send(messages) { _ = try result.get() }
        }
        // Triage's group reads and commits 10 messages; then 7 more arrive.
        try await produce(10, from: 0)
        let group = kafka.topicPrefix + "triage"
        var settings = ConsumerConfiguration(groupID: group, topics: [topic])
        settings.pollTimeoutMilliseconds = 200
        let consumer = try KafkaConsumer(configuration: kafka, consumer: settings, logger: TestEnvironment.logger)
        var read: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while read.count < 10 && ContinuousClock.now < deadline { read += try await consumer.poll() }
        #expect(read.count == 10)
        try await consumer.commit(read)
        await consumer.close()
        try await produce(7, from: 10)
        await producer.close()

        let run = try await Self.control(["lag", "--group", group, "--json"], kafka: kafka)
        #expect(run.status == 0, "\(run.errors)")
        let rows = try #require(try Self.json(run.output) as? [[String: Any]])
        let intake = rows.filter { $0["topic"] as? String == topic }
        #expect(intake.count == TopicCatalogue.intakeEvents.partitions)
        #expect(intake.reduce(0) { $0 + ($1["lag"] as? Int ?? 0) } == 7)

        // A group that committed nothing is behind by every message.
        let publicity = try await Self.control(["lag", "--group", kafka.topicPrefix + "publicity", "--json"], kafka: kafka)
        let behind = try #require(try Self.json(publicity.output) as? [[String: Any]]).filter { $0["topic"] as? String == topic }
        #expect(behind.reduce(0) { $0 + ($1["lag"] as? Int ?? 0) } == 17)

        let table = try await Self.control(["lag", "--group", group], kafka: kafka)
        #expect(
            table.output.split(separator: "\n").contains { $0.hasPrefix(group) && $0.contains("(total)") && $0.hasSuffix(" 7") }, "\(table.output)")
    }

    @Test("outbox status reflects an unsent backlog")
    func outboxStatus() async throws {
        let store = try await TestDatabase()
        for index in 0..<3 {
            try await store.execute(
                """
                INSERT INTO outbox (event_id, source, topic, partition_key, shard, event_type, district, envelope, created_at)
                VALUES (\(UUID()), 'triage', 'triage-events', \("key-\(index)"), 0, 'clue.triaged', 'haizhu', '{}', now() - interval '90 seconds')
                """)
        }
        try await store.execute(
            """
            INSERT INTO outbox (event_id, source, topic, partition_key, shard, event_type, district, envelope, published_at)
            VALUES (\(UUID()), 'intake', 'intake-events', 'k', 0, 'clue.received', 'haizhu', '{}', now())
            """)
        let run = try await Self.control(["outbox", "status", "--json"], store: store)
        #expect(run.status == 0, "\(run.errors)")
        let rows = try #require(try Self.json(run.output) as? [[String: Any]])
        let triage = try #require(rows.first { $0["source"] as? String == "triage" })
        #expect(triage["unsent"] as? Int == 3)
        #expect((triage["oldestUnsentSeconds"] as? Double ?? 0) >= 90)
        let intake = try #require(rows.first { $0["source"] as? String == "intake" })
        #expect(intake["unsent"] as? Int == 0 && intake["publishedLastHour"] as? Int == 1)
        #expect(rows.count == ServiceName.allCases.count, "every service is listed")
    }

    @Test("migrate refuses a database migrated by a newer release")
    func newerSchema() async throws {
        let store = try await TestDatabase()
        let current = try await Self.control(["migrate"], store: store)
        #expect(current.status == 0 && current.output.contains("up to date"), "\(current.output) \(current.errors)")
        try await store.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'from-the-future', 'x')")
        let run = try await Self.control(["migrate"], store: store)
        #expect(run.status == 1)
        #expect(run.errors.contains("schema version 9999") && run.errors.contains("newer"), "\(run.errors)")
    }

    @Test("a dead letter replayed before its cause is fixed comes back with the reason; once fixed it is applied once")
    func deadLetterReplay() async throws {
        let fixture = try await TriageFixture()
        let kafka = fixture.kafka
        let intakeTopic = kafka.topicName(TopicCatalogue.intakeEvents.name)
        let deadLetters = kafka.topicName(TopicCatalogue.intakeEvents.deadLetterName)
        let admin = try KafkaAdmin(configuration: kafka, logger: TestEnvironment.logger)
        func count(_ topic: String) async throws -> Int64 { try await admin.messageCount(topic: topic) }

        // A clue announced before it is in the store: triage cannot register it.
        let clueID = UUID()
        let received = ClueReceived(
            clueID: clueID, trackingNumber: TrackingNumber(prefix: "HZ", year: 2026, sequence: 990_001), channel: .web,
            sourceCategory: .onlinePlatform, isAnonymous: true, receivedAt: Date())
        let event = try EventEnvelope(received, district: DistrictCode(rawValue: "haizhu")!, occurredAt: Date())
        _ = try await fixture.apps[0].parts.producer.send(OutgoingMessage(topic: intakeTopic, key: clueID.uuidString, value: try event.encoded()))
        #expect(await eventually(timeout: .seconds(30)) { (try? await count(deadLetters)) == 1 }, "dead-lettered")

        let listed = try await Self.control(["dlq", "list", "intake-events", "--json"], store: fixture.store, kafka: kafka)
        #expect(listed.status == 0, "\(listed.errors)")
        let entries = try #require(try Self.json(listed.output) as? [[String: Any]])
        #expect(entries.count == 1)
        #expect((entries.first?["reason"] as? String)?.contains("not in the store") == true)
        #expect(entries.first?["eventType"] as? String == "clue.received" && entries.first?["replayedAt"] == nil)
        let shown = try await Self.control(["dlq", "show", "intake-events.dlq", "--offset", "0"], store: fixture.store, kafka: kafka)
        #expect(shown.output.lowercased().contains(clueID.uuidString.lowercased()) && shown.output.contains("dlq-reason"), "\(shown.output)")

        let dry = try await Self.control(["dlq", "replay", "intake-events", "--dry-run"], store: fixture.store, kafka: kafka)
        #expect(dry.status == 0 && dry.output.contains("1 would be replayed"), "\(dry.output) \(dry.errors)")
        #expect(try await count(intakeTopic) == 1, "a dry run publishes nothing")

        // Replayed with the cause not fixed: rejected again, a new dead letter, and no loop.
        let early = try await Self.control(["dlq", "replay", "intake-events", "--operator", "ops-test"], store: fixture.store, kafka: kafka)
        #expect(early.status == 0 && early.output.contains("1 replayed"), "\(early.output) \(early.errors)")
        #expect(await eventually(timeout: .seconds(30)) { (try? await count(deadLetters)) == 2 })
        try await Task.sleep(for: .seconds(2))
        #expect(try await count(deadLetters) == 2, "the rejected replay is not replayed again by itself")

        // Fixed: the clue is in the store now. Only the new entry is replayed; triage registers it once.
        try await fixture.store.execute(
            """
            INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                               is_anonymous, received_at, consent_to_publish)
            VALUES (\(clueID), 'haizhu', 'HZ-2026-990001', '电动自行车楼道充电隐患', '楼道充电有火灾隐患', '建设集中充电桩',
                    'online-platform', 'web', true, now(), true)
            """, scope: .district(DistrictCode(rawValue: "haizhu")!))
        let fixed = try await Self.control(["dlq", "replay", "intake-events"], store: fixture.store, kafka: kafka)
        #expect(fixed.status == 0 && fixed.output.contains("1 replayed, 1 skipped"), "\(fixed.output) \(fixed.errors)")
        try await fixture.awaitTriaged([clueID])
        let again = try await Self.control(["dlq", "replay", "intake-events"], store: fixture.store, kafka: kafka)
        #expect(again.output.contains("0 replayed, 2 skipped"), "\(again.output)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM triage_clues WHERE clue_id = \(clueID)") == 1)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM processed_events WHERE event_id = \(event.eventID)") == 1)
        #expect(try await count(deadLetters) == 2)

        // The service's metrics saw it: dead letters by reason, lag per partition, HTTP by route.
        let metricsSeen = await eventually(timeout: .seconds(20)) {
            let metrics = (try? await http("GET", fixture.triage[0] + "/metrics").body) ?? ""
            return metrics.contains(
                "consumer_dead_lettered_total{consumer=\"\(kafka.topicPrefix)triage\",topic=\"\(intakeTopic)\",reason=\"rejected\"} 2")
                && metrics.contains("consumer_lag_messages{") && metrics.contains("http_requests_total{")
        }
        #expect(metricsSeen)
        await admin.close()
        try await fixture.stop()
    }

    @Test("the dashboard serves the figures as a page and as JSON")
    func dashboard() async throws {
        let store = try await TestDatabase()
        let kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        try await store.execute(
            """
            INSERT INTO outbox (event_id, source, topic, partition_key, shard, event_type, district, envelope, created_at)
            VALUES (\(UUID()), 'assignment', 'assignment-events', 'k', 0, 'proposal.assigned', 'haizhu', '{}', now() - interval '10 minutes')
            """)
        let port = try TestEnvironment.freePort()
        let process = try ChildProcess(
            try Self.binary(), ["dashboard", "--port", String(port)],
            environment: [
                "DATABASE_URL": store.url,
                "KAFKA_BROKERS": kafka.brokers.joined(separator: ","), "KAFKA_TOPIC_PREFIX": kafka.topicPrefix,
            ], standardError: .inherit)
        defer { process.terminate() }
        #expect(await eventually(timeout: .seconds(20)) { (try? await http("GET", "http://127.0.0.1:\(port)/health").status) == 200 })
        let page = try await http("GET", "http://127.0.0.1:\(port)/")
        #expect(page.status == 200)
        for text in ["Consumer lag", "\(kafka.topicPrefix)triage", "Dead letters", "\(kafka.topicPrefix)intake-events.dlq", "Outbox", "assignment"] {
            #expect(page.body.contains(text), "the page shows \(text)")
        }
        #expect(page.body.contains("class=\"n bad\">600") || page.body.contains("class=\"n bad\">60"), "the ten-minute-old unsent event is marked")
        let snapshot = try #require(try Self.json(try await http("GET", "http://127.0.0.1:\(port)/snapshot.json").body) as? [String: Any])
        #expect((snapshot["lag"] as? [Any])?.count == 4, "triage, assignment, supervision and publicity consume")
        #expect((snapshot["problems"] as? [Any])?.isEmpty == true, "\(snapshot["problems"] ?? "")")
        process.terminate()
        #expect(await eventually(timeout: .seconds(15)) { !process.isRunning })
    }
}
