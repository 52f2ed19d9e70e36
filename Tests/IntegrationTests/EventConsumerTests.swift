import EventPipeline
import Foundation
import Messaging
import Models
import Storage
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct EventConsumerTests {
    func publish(_ fixture: PipelineFixture, _ values: [Data], key: String = "one-key", headers: [KafkaHeader] = []) async throws {
        let topic = fixture.kafka.topicName(pingTopic.name)
        let results = await fixture.producer.send(values.map { OutgoingMessage(topic: topic, key: key, value: $0, headers: headers) })
        for result in results { _ = try result.get() }
    }

    @Test func theSameEventDeliveredTwiceAppliesOnce() async throws {
        let fixture = try await PipelineFixture()
        let event = try ping("k", 1)
        let group = "g-\(UUID())"
        let services = RunningServices([fixture.consumer(group: group)])

        // Twice in one batch, then once more in a later batch.
        try await publish(fixture, [try event.encoded(), try event.encoded()])
        #expect(try await eventually { try await fixture.appliedCount() == 1 })
        try await publish(fixture, [try event.encoded(), try ping("k", 2).encoded()])
        #expect(try await eventually { try await fixture.appliedCount() == 2 })
        try await services.stop()

        #expect(try await fixture.maximumTimesApplied() == 1)
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM processed_events WHERE event_id = \(event.eventID) AND consumer = \(group)")
                == 1)
        await fixture.close()
    }

    @Test func malformedAndUnknownMessagesGoToTheDeadLetterTopicAndThePartitionMovesOn() async throws {
        let fixture = try await PipelineFixture()
        let group = "g-\(UUID())"
        var unknownType = try ping("k", 9)
        unknownType.type = "test.unheard-of"
        var newerVersion = try ping("k", 9)
        newerVersion.schemaVersion = 2
        var wrongPayload = try ping("k", 9)
        wrongPayload.payload = .object(["key": .string("k")])
        let first = try ping("k", 0)
        let poison = try ping("k", -1)
        let last = try ping("k", 1)
        // All on one key, so one partition: the bad ones sit between good ones.
        try await publish(
            fixture,
            [
                try first.encoded(), Data("this is not JSON".utf8), try unknownType.encoded(), try newerVersion.encoded(),
                try wrongPayload.encoded(), try poison.encoded(), try last.encoded(),
            ], headers: [KafkaHeader(name: "origin", string: "test")])

        let services = RunningServices([fixture.consumer(group: group)])
        #expect(try await eventually { try await fixture.appliedCount() == 2 })
        let letters = try await readTopic(
            fixture.kafka.topicName(pingTopic.deadLetterName), kafka: fixture.kafka, atLeast: 5, settle: .milliseconds(500))
        try await services.stop()

        #expect(letters.count == 5)
        let reasons = letters.sorted { $0.offset < $1.offset }.compactMap { $0.header(DeadLetter.reasonHeader) }
        #expect(reasons.count == 5)
        #expect(reasons[0].contains("malformed JSON"))
        #expect(reasons[1].contains("unknown event type test.unheard-of"))
        #expect(reasons[2].contains("unsupported schema version 2"))
        #expect(reasons[3].contains("missing field sequence"))
        #expect(reasons[4].contains("negative sequence -1"))
        for letter in letters {
            #expect(letter.header(DeadLetter.originTopicHeader) == fixture.kafka.topicName(pingTopic.name))
            #expect(letter.header(DeadLetter.originPartitionHeader).flatMap(Int.init) != nil)
            #expect(letter.header(DeadLetter.originOffsetHeader).flatMap(Int.init) != nil)
            #expect(letter.header(DeadLetter.consumerGroupHeader) == group)
            #expect(letter.header("origin") == "test", "original headers are kept")
        }
        #expect(letters.first?.value == Data("this is not JSON".utf8), "the original value is kept for replay")
        // The poison event's partial write was rolled back.
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM applied_pings WHERE sequence < 0") == 0)

        // Offsets were committed past the bad messages: a restarted member dead-letters nothing again.
        let restarted = RunningServices([fixture.consumer(group: group)])
        try await publish(fixture, [try ping("k", 2).encoded()])
        #expect(try await eventually { try await fixture.appliedCount() == 3 })
        try await restarted.stop()
        let lettersAfterRestart = try await readTopic(
            fixture.kafka.topicName(pingTopic.deadLetterName), kafka: fixture.kafka, atLeast: 5, timeout: .seconds(30), settle: .seconds(1))
        #expect(lettersAfterRestart.count == 5)
        await fixture.close()
    }

    /// Events that will fail the same way again never hold their partition: a payload of the
    /// wrong shape, one PostgreSQL refuses, one failing unrecognisably while the store answers.
    @Test func eventsThatCanNeverApplyAreDeadLetteredWithTheirReasons() async throws {
        let fixture = try await PipelineFixture()
        let group = "g-\(UUID())"
        var wrongType = try ping("k", 0)
        wrongType.payload = .object(["key": .string("k"), "sequence": .string("one")])
        let first = try ping("k", 0), refused = try ping("k", -2), mystery = try ping("k", -3), last = try ping("k", 1)
        try await publish(fixture, [try first.encoded(), try wrongType.encoded(), try refused.encoded(), try mystery.encoded(), try last.encoded()])

        let services = RunningServices([fixture.consumer(group: group)])
        #expect(try await eventually(timeout: .seconds(60)) { try await fixture.appliedCount() == 2 }, "the event after the poison is applied")
        let letters = try await readTopic(
            fixture.kafka.topicName(pingTopic.deadLetterName), kafka: fixture.kafka, atLeast: 3, settle: .milliseconds(500))
        try await services.stop()

        let byEvent = Dictionary(
            letters.compactMap { letter -> (String, String)? in
                guard let envelope = try? EventEnvelope.decode(from: letter.value), let reason = letter.header(DeadLetter.reasonHeader) else {
                    return nil
                }
                return (envelope.eventID.uuidString, reason)
            }, uniquingKeysWith: { first, _ in first })
        #expect(letters.count == 3)
        #expect(byEvent[wrongType.eventID.uuidString]?.contains("sequence") == true, "\(byEvent)")
        #expect(byEvent[refused.eventID.uuidString]?.contains("23502") == true, "\(byEvent)")
        #expect(byEvent[mystery.eventID.uuidString]?.contains("failed 3 times") == true, "\(byEvent)")
        #expect(try await fixture.maximumTimesApplied() == 1)
        await fixture.close()
    }

    /// A consumer group's event ids are forgotten past the retention, its own only.
    @Test func processedEventsArePrunedByAge() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.store.execute(
            """
            INSERT INTO processed_events (consumer, event_id, processed_at)
            SELECT consumer, gen_random_uuid(), now() - age * interval '1 day'
            FROM unnest(ARRAY['triage', 'triage', 'triage', 'publicity']) WITH ORDINALITY AS c(consumer, n),
                 unnest(ARRAY[100, 100, 10, 100]) WITH ORDINALITY AS a(age, m)
            WHERE n = m
            """)
        try await ProcessedEvents.prune(consumer: "triage", olderThan: 90, in: fixture.database)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM processed_events WHERE consumer = 'triage'", scope: .none) == 1)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM processed_events WHERE consumer = 'publicity'", scope: .none) == 1)
        await fixture.close()
    }

    /// The verdicts that need no server: decoding failures and refusals are the event's;
    /// PostgreSQL's error classes split into transient and permanent.
    @Test func failuresAreJudgedInOnePlace() async throws {
        let decoding = DecodingError.typeMismatch(Int.self, .init(codingPath: [], debugDescription: "a string"))
        #expect(await EventConsumer.verdict(on: decoding, database: nil).isRejection)
        #expect(await EventConsumer.verdict(on: EnvelopeError.invalidPayload("x"), database: nil).isRejection)
        #expect(await EventConsumer.verdict(on: RuleRefusal("no"), database: nil).isRejection)
        #expect(
            await EventConsumer.verdict(on: IllegalTransition(from: .closed, transition: .reply), database: nil).isRejection,
            "a move the lifecycle forbids will be forbidden again")
        #expect(await EventConsumer.verdict(on: CancellationError(), database: nil) == .retry)
        #expect(await EventConsumer.verdict(on: UnheardOfFailure(), database: nil) == .retryFewTimes("UnheardOfFailure()"))
        for transient in ["08006", "40001", "40P01", "53300", "57P01", "57P03", "55P03", "XX000"] {
            #expect(DatabaseFailure.classify(sqlState: transient, message: "") == .transient, "\(transient)")
        }
        for permanent in ["23505", "23503", "23514", "23502", "22P02", "42703", "P0001"] {
            #expect(DatabaseFailure.classify(sqlState: permanent, message: "") != .transient, "\(permanent)")
        }
    }

    /// A statement PostgreSQL never answers (here: a lock another session holds for as long as
    /// the test likes) must not hold the partition for good: the batch's transaction is given up
    /// after its time limit and the batch tried again, and it applies once the lock is free.
    /// (`StorageTests` checks that a given-up transaction never commits.)
    @Test func aBatchWaitingLongerThanItsTimeLimitIsGivenUpAndTriedAgain() async throws {
        let fixture = try await PipelineFixture()
        let release = try await fixture.store.lockTable("applied_pings")
        let consumer = fixture.consumer(group: "g-\(UUID())", batchTimeLimit: .seconds(1))
        let services = RunningServices([consumer])
        try await publish(fixture, [try ping("k", 1).encoded()])

        // Without the limit the first attempt would wait for ever: it would never be retried.
        // Readiness's log line says why the consumer is stalled, with the batch's retries.
        func retries() -> Int {
            guard let stall = consumer.stall(limit: .milliseconds(500)), stall.hasPrefix("a batch in hand for "),
                let counted = stall.split(separator: ", ").first(where: { $0.hasPrefix("retried ") })
            else { return 0 }
            return Int(counted.split(separator: " ")[1]) ?? 0
        }
        #expect(await eventually { retries() >= 2 }, "\(consumer.stall(limit: .milliseconds(500)) ?? "not stalled")")
        #expect(consumer.stall(limit: .milliseconds(500))?.contains(", applying it, ") == true)
        #expect(try await fixture.appliedCount() == 0)

        release.finish()
        #expect(try await eventually(timeout: .seconds(60)) { try await fixture.appliedCount() == 1 })
        try await services.stop()
        #expect(try await fixture.maximumTimesApplied() == 1)
        await fixture.close()
    }

    @Test func twoMembersSplitThePartitionsAndOneTakesOverWhenTheOtherStops() async throws {
        let fixture = try await PipelineFixture()
        let group = "g-\(UUID())"
        let first = fixture.consumer(group: group)
        let second = fixture.consumer(group: group)
        let firstRunning = RunningServices([first])
        let secondRunning = RunningServices([second])
        let all = Set((0..<Int32(pingTopic.partitions)).map { TopicPartition(topic: fixture.kafka.topicName(pingTopic.name), partition: $0) })

        #expect(
            await eventually(timeout: .seconds(60)) {
                let (a, b) = (first.assignment, second.assignment)
                return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == all
            }, "both members own partitions, together all of them")

        let services = RunningServices([fixture.relay()])
        try await fixture.writePings(keys: 30, perKey: 10, keyPrefix: "a")
        #expect(try await eventually { try await fixture.appliedCount() == 300 })

        try await firstRunning.stop()
        #expect(await eventually(timeout: .seconds(60)) { second.assignment == all }, "the remaining member owns every partition")

        try await fixture.writePings(keys: 30, perKey: 10, keyPrefix: "b")
        #expect(try await eventually { try await fixture.appliedCount() == 600 })
        try await services.stop()
        try await secondRunning.stop()
        #expect(try await fixture.maximumTimesApplied() == 1)
        await fixture.close()
    }
}
