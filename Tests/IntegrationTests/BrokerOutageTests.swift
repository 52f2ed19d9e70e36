import EventPipeline
import Foundation
import Messaging
import Models
import Storage
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct BrokerOutageTests {
    @Test func aBrokerDownWhileEventsAreProducedDelaysButLosesNothing() async throws {
        let cluster = try PrivateMockCluster(brokers: 3)
        defer { cluster.stop() }
        // A short delivery timeout, so the relay sees failures while the broker is away and retries them.
        let fixture = try await PipelineFixture(brokers: cluster.brokers, control: cluster.control, messageTimeoutMilliseconds: 2_000)
        let relay = RunningServices([fixture.relay(batchSize: 100)])

        var written = try await fixture.writePings(keys: 30, perKey: 5, keyPrefix: "before")
        #expect(try await eventually { try await fixture.pendingOutbox() == 0 })

        // Take down the broker leading partition 0, so the outage surely touches the topic.
        let admin = try KafkaAdmin(configuration: fixture.kafka, logger: TestEnvironment.logger)
        let leader = try #require(try await admin.leaders(of: fixture.kafka.topicName(pingTopic.name))[0])
        await admin.close()
        try cluster.control.brokerDown(Int(leader))
        written += try await fixture.writePings(keys: 30, perKey: 10, keyPrefix: "during")
        // Partitions led by that broker cannot take messages: their events wait, with the failed
        // deliveries recorded, while the other partitions' events go on.
        let failedSome = try await eventually(timeout: .seconds(30)) {
            try await fixture.store.integer("SELECT count(*)::int FROM outbox WHERE last_error IS NOT NULL") > 0
        }
        #expect(failedSome, "failed deliveries are recorded on the outbox rows")
        let wentOn = try await eventually(timeout: .seconds(30)) { try await fixture.pendingOutbox() < 300 }
        #expect(wentOn, "partitions on the other brokers went on")
        #expect(try await fixture.pendingOutbox() > 0, "the outage held some events back")

        try cluster.control.brokerUp(Int(leader))
        #expect(try await eventually(timeout: .seconds(60)) { try await fixture.pendingOutbox() == 0 }, "the backlog drains")
        try await relay.stop()

        let messages = try await readTopic(
            fixture.kafka.topicName(pingTopic.name), kafka: fixture.kafka, atLeast: written.count, settle: .milliseconds(500))
        let delivered = Set(try messages.map { try pingOf($0).0.eventID })
        #expect(delivered == Set(written.map(\.eventID)), "every event reached the topic")
        try expectKeyOrder(messages)
        await fixture.close()
    }
}
