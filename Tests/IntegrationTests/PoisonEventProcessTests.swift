import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

extension HeavySuites {
    /// Finding 1 of the hardening issue, with supervision and publicity as the processes an operator
    /// runs: an assignment whose payload has a string for its round, and one whose district the store
    /// does not have, sit on one partition before a good one. Both are dead-lettered with their
    /// reasons, the good one is applied by both services, and once the district exists a replay
    /// applies the second exactly once.
    @Suite(.timeLimit(.minutes(3)))
    struct PoisonEventProcessTests {
        func assignment(_ proposal: UUID, district: DistrictCode) throws -> EventEnvelope {
            let today = LocalDate.on(Date(), in: TimeZone(identifier: "Asia/Shanghai")!)
            let unit = AssignedUnit(
                assignmentID: UUID(), unitID: UUID(), unitName: "区交通运输局", role: .lead, status: .active,
                assignedOn: today, deadline: today.adding(days: 90), contestUntil: today.adding(days: 7))
            return try EventEnvelope(
                ProposalAssigned(
                    proposalID: proposal, caseNumber: "HZ-14-\(today.year)-0001", kind: .citizen, round: 1, units: [unit],
                    isKey: false, supervisingLeader: nil, automatic: false, confirmedPreAssignment: false),
                district: district, occurredAt: Date())
        }

        @Test func poisonEventsAreDeadLetteredAndThePartitionMovesOn() async throws {
            let store = try await TestDatabase()
            let kafka = try TestEnvironment.kafka()
            try TestEnvironment.createTopics(kafka)
            let supervision = try ServiceProcess("supervision", databaseURL: store.url, kafka: kafka)
            let publicity = try ServiceProcess("publicity", databaseURL: store.url, kafka: kafka)
            defer {
                supervision.kill()
                publicity.kill()
            }

            // One key, so one partition: the two poisons, then a good event.
            let key = UUID()
            var roundAsText = try JSONSerialization.jsonObject(with: try assignment(key, district: haizhu).encoded()) as! [String: Any]
            var payload = roundAsText["payload"] as! [String: Any]
            payload["round"] = "one"
            roundAsText["payload"] = payload
            let nowhere = try assignment(key, district: DistrictCode(rawValue: "nowhere")!)
            let good = try assignment(key, district: haizhu)
            let producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
            let topic = kafka.topicName(TopicCatalogue.assignmentEvents.name)
            for result in await producer.send([
                OutgoingMessage(topic: topic, key: key.uuidString, value: try JSONSerialization.data(withJSONObject: roundAsText)),
                OutgoingMessage(topic: topic, key: key.uuidString, value: try nowhere.encoded()),
                OutgoingMessage(topic: topic, key: key.uuidString, value: try good.encoded()),
            ]) { _ = try result.get() }

            func applied(_ event: EventEnvelope, by service: String) async throws -> Int {
                try await store.integer(
                    """
                    SELECT count(*)::int FROM processed_events WHERE event_id = \(event.eventID) AND consumer = \(kafka.topicPrefix + service)
                    """, scope: .none)
            }
            let tracked = try await eventually(timeout: .seconds(90)) {
                try await store.integer("SELECT count(*)::int FROM supervised_assignments WHERE district = 'haizhu'") == 1
            }
            #expect(tracked, "supervision applied the good event behind the poison")
            #expect(try await eventually(timeout: .seconds(30)) { try await applied(good, by: "publicity") == 1 }, "so did publicity")

            let letters = try await readTopic(
                kafka.topicName(TopicCatalogue.assignmentEvents.deadLetterName), kafka: kafka, atLeast: 2, settle: .seconds(1))
            let supervisionLetters = letters.filter { $0.header(DeadLetter.consumerGroupHeader) == kafka.topicPrefix + "supervision" }
            let reasons = supervisionLetters.compactMap { $0.header(DeadLetter.reasonHeader) }
            #expect(reasons.contains { $0.contains("round") }, "\(reasons)")
            #expect(reasons.contains { $0.contains("23503") || $0.contains("nowhere") }, "\(reasons)")
            #expect(try await applied(nowhere, by: "supervision") == 0)

            // The cause fixed, the dead letters replayed: the unknown district's event applies once.
            try await store.execute("INSERT INTO districts (code, name) VALUES ('nowhere', '新设区')")
            let replay = try await OperationsCLITests.control(
                ["dlq", "replay", "assignment-events", "--operator", "test"], store: store, kafka: kafka)
            #expect(replay.status == 0, "\(replay.errors)")
            let replayed = try await eventually(timeout: .seconds(60)) { try await applied(nowhere, by: "supervision") == 1 }
            #expect(replayed)
            #expect(try await store.integer("SELECT count(*)::int FROM supervised_assignments WHERE district = 'nowhere'") == 1)
            #expect(supervision.process.isRunning && publicity.process.isRunning)
            await producer.close()
        }
    }
}
