import Foundation
import Messaging
import Models
import Testing

@testable import Operations
@testable import ServiceKit

@Suite struct OperationsTests {
    @Test func progressLineShowsCountPercentRateAndTimeLeft() {
        let line = ProgressBar.line(title: "replaying", done: 250, total: 1_000, seconds: 2, barWidth: 10)
        #expect(line == "replaying [##........] 250/1000 25% 125/s ETA 6s")
        #expect(ProgressBar.line(title: "done", done: 10, total: 10, seconds: 4, barWidth: 0) == "done 10/10 100% 2/s in 4.0s")
        #expect(ProgressBar.line(title: "reading", done: 30, total: nil, seconds: 3, barWidth: 10) == "reading 30 10/s")
        #expect(ProgressBar.duration(3_725) == "1h02m")
        #expect(ProgressBar.duration(61) == "1m01s")
    }

    @Test func lagCountsFromTheCommittedOffsetOrTheOldestRetained() {
        #expect(PartitionLag(group: "g", topic: "t", partition: 0, committed: 40, low: 0, high: 47).lag == 7)
        #expect(PartitionLag(group: "g", topic: "t", partition: 0, committed: nil, low: 5, high: 47).lag == 42, "nothing committed: all retained")
        #expect(PartitionLag(group: "g", topic: "t", partition: 0, committed: 2, low: 5, high: 47).lag == 42, "committed below what is retained")
    }

    @Test func deadLetterEntryKnowsItsOriginAndReplaysWithoutDeadLetterHeaders() throws {
        let event = try EventEnvelope(
            ClueReceived(
                clueID: UUID(), trackingNumber: TrackingNumber(rawValue: "HZ-2026-000001"), channel: .web, sourceCategory: .community,
                isAnonymous: true, receivedAt: Date()),
            district: DistrictCode(rawValue: "haizhu")!, occurredAt: Date())
        let original = KafkaMessage(
            topic: "p-intake-events", partition: 3, offset: 41, key: Data("k".utf8), value: try event.encoded(),
            headers: [KafkaHeader(name: "trace", string: "abc")])
        let dead = DeadLetter.message(for: original, reason: "clue is not in the store", consumerGroup: "p-triage")
        let entry = DeadLetterEntry(KafkaMessage(topic: dead.topic, partition: 0, offset: 7, key: dead.key, value: dead.value, headers: dead.headers))
        #expect(entry.originTopic == "p-intake-events" && entry.originPartition == 3 && entry.originOffset == 41)
        #expect(entry.reason == "clue is not in the store" && entry.consumerGroup == "p-triage")
        #expect(entry.eventType == "clue.received" && entry.eventID == event.eventID)
        let replay = try #require(entry.replayMessage())
        #expect(replay.topic == "p-intake-events" && replay.key == original.key && replay.value == original.value)
        #expect(replay.headers.map(\.name) == ["trace", DeadLetter.replayedFromHeader])
        #expect(replay.headers.last?.stringValue == "p-intake-events.dlq/0/7")

        let garbage = DeadLetterEntry(KafkaMessage(topic: "x.dlq", partition: 0, offset: 0, key: nil, value: Data("{".utf8)))
        #expect(garbage.eventType == nil && garbage.replayMessage() == nil, "without its origin it cannot be replayed")
    }

    @Test func dashboardEscapesAndMarksWhatIsPastItsThreshold() {
        var snapshot = OperationsSnapshot(takenAt: Date(timeIntervalSince1970: 0))
        snapshot.lag = [
            .init(
                group: "triage", total: 5_000,
                partitions: [PartitionLag(group: "triage", topic: "intake-events", partition: 2, committed: 0, low: 0, high: 5_000)])
        ]
        snapshot.deadLetters = [.init(topic: "intake-events.dlq", messages: 3, replayed: 1)]
        snapshot.outbox = [OutboxBacklog(source: "intake", unsent: 9, oldestUnsentSeconds: 600)]
        snapshot.assignments = [OpenAssignments(district: "haizhu", open: 10, overdue: 4)]
        snapshot.problems = ["broker: <down>"]
        let page = DashboardPage.render(snapshot)
        #expect(page.contains("<td class=\"n bad\">5000</td>"), "lag above 1,000")
        #expect(page.contains("<td class=\"n bad\">2</td>"), "two dead letters waiting")
        #expect(page.contains("<td class=\"n bad\">600 s</td>"))
        #expect(page.contains("<td class=\"n bad\">40%</td>"))
        #expect(page.contains("intake-events[2] 5000"))
        #expect(page.contains("broker: &lt;down&gt;") && !page.contains("<down>"))
        let calm = DashboardPage.render(OperationsSnapshot(takenAt: Date()))
        #expect(!calm.contains("bad\""))
    }

    @Test func hummingbirdMetricsGetPrometheusNames() {
        let (name, labels) = Telemetry.prometheusNames(
            "http.server.request.duration", [("http.route", "/v1/clues"), ("http.response.status_code", "201")])
        #expect(name == "http_request_duration_seconds")
        #expect(labels.map(\.0) == ["route", "status"])
        #expect(Telemetry.prometheusNames("consumer_lag_messages", [("consumer", "triage")]).0 == "consumer_lag_messages")
        #expect(Telemetry.prometheusNames("some.dotted.name", []).0 == "some_dotted_name")
    }

    @Test func theInvariantCheckReplaysAProposalsHistoryOnTheStateMachine() {
        let walked: [(from: String, transition: String, to: String)] = [
            ("drafting", "submit-for-review", "submitted"), ("submitted", "file", "filed"), ("filed", "assign", "assigned"),
        ]
        #expect(InvariantChecker.replay(walked, endingAt: "assigned") == nil)
        #expect(InvariantChecker.replay([], endingAt: "drafting") == nil, "a draft has no history yet")
        #expect(InvariantChecker.replay(walked, endingAt: "closed") == "the history ends at assigned, the proposal is closed")
        #expect(InvariantChecker.replay([("drafting", "file", "filed")], endingAt: "filed") == "move 1: file is not allowed from drafting")
        #expect(InvariantChecker.replay([("submitted", "file", "filed")], endingAt: "filed") == "move 1 starts at submitted, not drafting")
        #expect(
            InvariantChecker.replay([("drafting", "submit-for-review", "filed")], endingAt: "filed")
                == "move 1 ends at filed, the state machine says submitted")
        #expect(InvariantChecker.replay([("drafting", "teleport", "closed")], endingAt: "closed") == "move 1: unknown transition teleport")
    }
}
