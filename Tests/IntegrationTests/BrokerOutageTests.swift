import EventPipeline
import Foundation
import Messaging
import Models
import Storage
import Testing
import TestSupport

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

        try cluster.control.brokerDown(2)
        written += try await fixture.writePings(keys: 30, perKey: 10, keyPrefix: "during")
        // Partitions led by broker 2 cannot take messages: part of the backlog waits.
        try await Task.sleep(for: .seconds(4))
        let stuck = try await fixture.pendingOutbox()
        #expect(stuck > 0, "the outage held some events back")
        #expect(stuck < 300, "partitions on the other brokers went on")
        let failedAttempts = try await fixture.store.integer("SELECT count(*)::int FROM outbox WHERE last_error IS NOT NULL")
        #expect(failedAttempts > 0, "failed deliveries are recorded on the outbox rows")

        try cluster.control.brokerUp(2)
        #expect(try await eventually(timeout: .seconds(60)) { try await fixture.pendingOutbox() == 0 }, "the backlog drains")
        try await relay.stop()

        let messages = try await readTopic(fixture.kafka.topicName(pingTopic.name), kafka: fixture.kafka, atLeast: written.count, settle: .milliseconds(500))
        let delivered = Set(try messages.map { try pingOf($0).0.eventID })
        #expect(delivered == Set(written.map(\.eventID)), "every event reached the topic")
        try expectKeyOrder(messages)
        await fixture.close()
    }
}
