import EventPipeline
import Foundation
import Messaging
import Models
import Storage
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct OutboxRelayTests {
    @Test func thousandEventsAllReachTheTopicAndApplyOnceInKeyOrder() async throws {
        let fixture = try await PipelineFixture()
        let written = try await fixture.writePings(keys: 50, perKey: 20)
        #expect(written.count == 1000)
        #expect(try await fixture.pendingOutbox() == 1000)

        let services = RunningServices([fixture.relay(batchSize: 200), fixture.consumer(group: "g-\(UUID())")])
        #expect(try await eventually { try await fixture.appliedCount() == 1000 })
        try await services.stop()

        #expect(try await fixture.pendingOutbox() == 0)
        #expect(try await fixture.maximumTimesApplied() == 1)
        let messages = try await readTopic(fixture.kafka.topicName(pingTopic.name), kafka: fixture.kafka, atLeast: 1000)
        let ids = try messages.map { try pingOf($0).0.eventID }
        #expect(ids.count == 1000)
        #expect(Set(ids) == Set(written.map(\.eventID)))
        try expectKeyOrder(messages)
        // The consumer applied each key's events in order too.
        let outOfOrder = try await fixture.store.integer(
            """
            SELECT count(*)::int FROM (
                SELECT sequence < lag(sequence) OVER (PARTITION BY key ORDER BY applied) AS backwards FROM applied_pings
            ) steps WHERE backwards
            """)
        #expect(outOfOrder == 0)
        await fixture.close()
    }

    struct SimulatedCrash: Error {}

    @Test func relayCrashBetweenPublishingAndCommittingLeavesNoGapAndNoDoubleEffect() async throws {
        let fixture = try await PipelineFixture()
        let written = try await fixture.writePings(keys: 50, perKey: 20)

        // The first relay publishes two batches, then dies after the third batch reached the
        // broker but before its transaction committed.
        let first = fixture.relay(batchSize: 100)
        #expect(try await first.publishBatch() == 100)
        #expect(try await first.publishBatch() == 100)
        await #expect(throws: SimulatedCrash.self) {
            try await first.publishBatch(beforeCommit: { delivered in
                #expect(delivered == 100)
                throw SimulatedCrash()
            })
        }
        #expect(try await fixture.pendingOutbox() == 800)

        // A restarted relay with a new producer publishes the rest, the crashed batch again.
        let restartedProducer = try KafkaProducer(configuration: fixture.kafka, logger: TestEnvironment.logger)
        let restarted = fixture.relay(batchSize: 100, producer: restartedProducer)
        var published = 0
        while true {
            let count = try await restarted.publishBatch()
            if count == 0 { break }
            published += count
        }
        #expect(published == 800)
        #expect(try await fixture.pendingOutbox() == 0)

        let messages = try await readTopic(fixture.kafka.topicName(pingTopic.name), kafka: fixture.kafka, atLeast: 1100, settle: .seconds(1))
        let ids = try messages.map { try pingOf($0).0.eventID }
        #expect(ids.count == 1100, "the crashed batch is on the topic twice")
        #expect(Set(ids) == Set(written.map(\.eventID)), "no event is missing")
        try expectKeyOrder(messages)

        let services = RunningServices([fixture.consumer(group: "g-\(UUID())")])
        #expect(try await eventually { try await fixture.appliedCount() == 1000 })
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM processed_events") == 1000)
        try await services.stop()
        #expect(try await fixture.maximumTimesApplied() == 1)
        await restartedProducer.close()
        await fixture.close()
    }

    @Test func severalRelaysTogetherKeepKeyOrder() async throws {
        let fixture = try await PipelineFixture()
        let written = try await fixture.writePings(keys: 8, perKey: 100)
        var relays: [OutboxRelay] = []
        for _ in 0..<3 { relays.append(fixture.relay(batchSize: 50)) }
        let services = RunningServices(relays)
        #expect(try await eventually { try await fixture.pendingOutbox() == 0 })
        try await services.stop()
        // A relay may publish an event again (at least once), so read on past the count for a
        // moment; under the full suite's load the reader's group can take a while to join.
        let messages = try await readTopic(
            fixture.kafka.topicName(pingTopic.name), kafka: fixture.kafka, atLeast: written.count, timeout: .seconds(120), settle: .seconds(2))
        let read = Set(try messages.map { try pingOf($0).0.eventID })
        let missing = Set(written.map(\.eventID)).subtracting(read)
        #expect(
            missing.isEmpty,
            "\(missing.count) of \(written.count) events missing; \(messages.count) messages read, \(messages.count - read.count) repeated")
        try expectKeyOrder(messages)
        await fixture.close()
    }
}

/// Within each partition, in offset order, every key's first deliveries run 0, 1, 2, ...
func expectKeyOrder(_ messages: [KafkaMessage], sourceLocation: SourceLocation = #_sourceLocation) throws {
    var next: [String: Int] = [:]
    var seen: Set<UUID> = []
    for message in messages.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
        let (envelope, ping) = try pingOf(message)
        guard seen.insert(envelope.eventID).inserted else { continue }
        #expect(ping.sequence == next[ping.key, default: 0], "key \(ping.key) out of order", sourceLocation: sourceLocation)
        next[ping.key] = ping.sequence + 1
    }
}
