import AssignmentService
import EventPipeline
import Foundation
import IntakeService
import Messaging
import Models
import PublicityService
import ServiceKit
import Storage
import SupervisionService
import TestSupport
import Testing
import TriageService

@Suite(.timeLimit(.minutes(3)))
struct WalkingSkeletonTests {
    func configuration(_ service: ServiceName, store: TestDatabase, kafka: KafkaConfiguration) -> ServiceConfiguration {
        ServiceConfiguration(
            service: service, instanceID: "\(service.rawValue)-test", httpPort: 0, database: store.configuration,
            kafka: kafka, logLevel: .warning, tokenSecret: String(repeating: "s", count: 32))
    }

    @Test func oneClueTravelsFromIntakeToTriageExactlyOnce() async throws {
        let store = try await TestDatabase()
        let kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        let definitions = [
            IntakeService.definition, TriageService.definition, AssignmentService.definition, SupervisionService.definition,
            PublicityService.definition,
        ]
        let apps = try definitions.map { try ServiceApp($0, configuration: configuration($0.name, store: store, kafka: kafka), handleSignals: false) }
        let tasks = apps.map { app in Task { try await app.run() } }
        var ports: [ServiceName: Int] = [:]
        for (definition, app) in zip(definitions, apps) { ports[definition.name] = await app.listeningPort() }
        let intake = "http://127.0.0.1:\(ports[.intake]!)"

        for port in ports.values {
            #expect(try await eventually { try await http("GET", "http://127.0.0.1:\(port)/health/ready").status == 200 })
        }

        try await store.execute("UPDATE districts SET public_submission = true WHERE code = 'haizhu'")
        let submitted = try await http(
            "POST", "\(intake)/v1/clues",
            json: """
                {"district":"haizhu","title":"电动自行车楼道充电","situationAnalysis":"楼道充电有火灾隐患",
                 "specificSuggestions":"建设集中充电桩","channel":"web","sourceCategory":"online-platform",
                 "contact":{"name":"王小明","phone":"13800000000","address":"海珠区某街道"}}
                """)
        #expect(submitted.status == 201)
        let accepted = try JSONSerialization.jsonObject(with: Data(submitted.body.utf8)) as? [String: Any]
        let clueID = try #require((accepted?["clueId"] as? String).flatMap { UUID(uuidString: $0) })
        #expect((accepted?["trackingNumber"] as? String)?.hasPrefix("HAIZHU-") == true)

        // Triage records it; assignment and publicity consume what follows from it.
        #expect(try await eventually { try await store.integer("SELECT count(*)::int FROM triage_clues WHERE clue_id = \(clueID)") == 1 })
        #expect(try await eventually { try await store.integer("SELECT count(*)::int FROM processed_events WHERE consumer LIKE '%assignment'") == 1 })
        #expect(try await eventually { try await store.integer("SELECT count(*)::int FROM processed_events WHERE consumer LIKE '%publicity'") == 2 })
        // Exactly once, also after everything had time to settle.
        try await Task.sleep(for: .seconds(1))
        #expect(try await store.integer("SELECT count(*)::int FROM triage_clues") == 1)
        #expect(try await store.integer("SELECT count(*)::int FROM processed_events WHERE consumer LIKE '%triage'") == 1)

        // The clue's events form one chain, and no contact data is on a topic.
        let received = try await readTopic(kafka.topicName(TopicCatalogue.intakeEvents.name), kafka: kafka, atLeast: 1)
        let registered = try await readTopic(kafka.topicName(TopicCatalogue.triageEvents.name), kafka: kafka, atLeast: 1)
        let cause = try EventEnvelope.decode(from: try #require(received.first).value)
        let effect = try EventEnvelope.decode(from: try #require(registered.first).value)
        #expect(effect.causationID == cause.eventID)
        #expect(effect.correlationID == cause.correlationID)
        for message in received + registered {
            let text = String(decoding: message.value, as: UTF8.self)
            #expect(!text.contains("王小明") && !text.contains("13800000000") && !text.contains("某街道"))
        }

        // Bad input is a 4xx that names the field, and stores nothing.
        let invalid = try await http(
            "POST", "\(intake)/v1/clues",
            json:
                #"{"district":"haizhu","title":"x","situationAnalysis":"y","specificSuggestions":"z","channel":"fax","sourceCategory":"community","anonymous":true}"#
        )
        #expect(invalid.status == 422)
        #expect(invalid.body.contains(#""field":"channel""#))
        let unknownDistrict = try await http(
            "POST", "\(intake)/v1/clues",
            json:
                #"{"district":"nowhere","title":"x","situationAnalysis":"y","specificSuggestions":"z","channel":"web","sourceCategory":"community","anonymous":true}"#
        )
        #expect(unknownDistrict.status == 422)
        #expect(unknownDistrict.body.contains(#""field":"district""#))
        let notJSON = try await http("POST", "\(intake)/v1/clues", json: "{")
        #expect(notJSON.status == 400)
        #expect(try await store.integer("SELECT count(*)::int FROM clues") == 1)

        let metrics = try await http("GET", "\(intake)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("outbox_published_events_total"))

        for app in apps { await app.shutdown() }
        for task in tasks { try await task.value }
    }
}
