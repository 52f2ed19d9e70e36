import Foundation
import Logging
import Metrics
import Synchronization

/// An idempotent producer (`enable.idempotence=true`, `acks=all`): `send` returns only once the
/// broker acknowledged the message, so a caller may then mark it published.
public final class KafkaProducer: Sendable {
    private let client: RDKafkaClient
    private let logger: Logger
    private let pollLoop = PollLoop()
    private let flushMilliseconds: Int32
    /// How long `send` waits at most for a message's delivery report (`message.timeout.ms`).
    public let messageTimeout: Duration

    public init(configuration: KafkaConfiguration, messageTimeoutMilliseconds: Int = 30_000, logger: Logger) throws(KafkaError) {
        var properties = [
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "5",
            "message.timeout.ms": String(messageTimeoutMilliseconds),
            "queue.buffering.max.messages": "200000",
        ]
        properties.merge(configuration.commonProperties) { _, configured in configured }
        self.client = try RDKafkaClient(kind: .producer, properties: properties, logger: logger)
        self.logger = logger
        self.flushMilliseconds = Int32(min(messageTimeoutMilliseconds, 10_000))
        self.messageTimeout = .milliseconds(messageTimeoutMilliseconds)
        startPollThread()
    }

    deinit {
        pollLoop.stopping.store(true, ordering: .releasing)
    }

    /// The poll thread's stop flag and the callers waiting for it to finish.
    private final class PollLoop: Sendable {
        let stopping = Atomic<Bool>(false)
        let stopped = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    }

    /// Serves delivery reports on a thread of its own: `rd_kafka_poll` blocks.
    private func startPollThread() {
        let thread = Thread { [client, pollLoop, flushMilliseconds, logger] in
            while !pollLoop.stopping.load(ordering: .acquiring) {
                client.poll(milliseconds: 100)
            }
            if let error = client.flush(milliseconds: flushMilliseconds) {
                logger.warning("producer closed with undelivered messages: \(error)")
            }
            let waiters = pollLoop.stopped.withLock { state in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
        thread.name = "kafka-producer-poll"
        thread.start()
    }

    public func send(_ message: OutgoingMessage) async throws(KafkaError) -> DeliveryReport {
        try await send([message])[0].get()
    }

    /// Publishes `messages` and waits for every delivery report. Results are in input order;
    /// messages with one key keep their order on their partition.
    public func send(_ messages: [OutgoingMessage]) async -> [Result<DeliveryReport, KafkaError>] {
        guard !messages.isEmpty else { return [] }
        let batch = DeliveryBatch(count: messages.count)
        for (index, message) in messages.enumerated() {
            let ticket = DeliveryTicket { batch.complete(index, $0) }
            while true {
                guard let error = client.produce(message, ticket: ticket) else { break }
                if error.code == -184 {  // RD_KAFKA_RESP_ERR__QUEUE_FULL: wait for deliveries to make room
                    try? await Task.sleep(for: .milliseconds(5))
                    continue
                }
                batch.complete(index, .failure(error))
                break
            }
        }
        let results = await batch.results()
        Self.count(messages, results)
        return results
    }

    /// `producer_messages_total` and `producer_failures_total` per topic, once per call.
    private static func count(_ messages: [OutgoingMessage], _ results: [Result<DeliveryReport, KafkaError>]) {
        var tally: [String: (delivered: Int, failed: Int)] = [:]
        for (message, result) in zip(messages, results) {
            if case .success = result {
                tally[message.topic, default: (0, 0)].delivered += 1
            } else {
                tally[message.topic, default: (0, 0)].failed += 1
            }
        }
        for (topic, counts) in tally {
            if counts.delivered > 0 { Counter(label: "producer_messages_total", dimensions: [("topic", topic)]).increment(by: counts.delivered) }
            if counts.failed > 0 { Counter(label: "producer_failures_total", dimensions: [("topic", topic)]).increment(by: counts.failed) }
        }
    }

    /// Flushes what is in flight, then stops serving callbacks.
    public func close() async {
        pollLoop.stopping.store(true, ordering: .releasing)
        await withCheckedContinuation { continuation in
            let alreadyDone = pollLoop.stopped.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if alreadyDone { continuation.resume() }
        }
    }
}

/// Collects the delivery reports of one `send` call.
private final class DeliveryBatch: Sendable {
    private struct State {
        var results: [Result<DeliveryReport, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    func complete(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        let finished: (CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>, [Result<DeliveryReport, KafkaError>])? = state.withLock {
            state in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        if let (continuation, results) = finished { continuation.resume(returning: results) }
    }

    func results() async -> [Result<DeliveryReport, KafkaError>] {
        await withCheckedContinuation { continuation in
            let ready: [Result<DeliveryReport, KafkaError>]? = state.withLock { state in
                if state.remaining == 0 { return state.results.map { $0! } }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
