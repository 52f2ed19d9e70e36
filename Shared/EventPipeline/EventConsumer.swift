import Foundation
import Logging
import Messaging
import Metrics
import Models
import ServiceLifecycle
import Storage
import Synchronization

/// A service's reaction to events. `handle` runs inside the batch's transaction, already scoped
/// to the event's district, and sees each event once per consumer group.
public protocol EventHandler: Sendable {
    /// The batch's new events of one district, in their order, in one transaction scoped to it,
    /// so a handler can apply many events in one statement. A payload that does not decode
    /// (`EventEnvelope.decodePayload`) throws what the consumer dead-letters; handlers need not
    /// wrap it.
    func handle(_ events: [EventEnvelope], of district: DistrictCode, in transaction: Transaction) async throws
}

/// Thrown by a handler for an event it can never apply (bad payload, impossible reference):
/// the message goes to the dead-letter topic and the partition moves on.
public struct EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var kind: Kind

    /// Why, as the `reason` label of `consumer_dead_lettered_total` (alerts and the runbook use it).
    public enum Kind: String, Sendable {
        case malformed
        case unexpectedTopic = "unexpected-topic"
        case unknownType = "unknown-type"
        case unsupportedVersion = "unsupported-version"
        /// A handler refused it: it contradicts the store.
        case rejected
        /// PostgreSQL refused what it asked for (a constraint, check or foreign-key violation,
        /// invalid data): it would be refused again.
        case storeRefused = "store-refused"
        /// It failed the same unrecognised way on every attempt while the store answered.
        case failedRepeatedly = "failed-repeatedly"
    }

    public init(_ reason: String, kind: Kind = .rejected) {
        self.reason = reason
        self.kind = kind
    }
    public var description: String { reason }
}

/// Reads a service's input topics as one consumer group and applies each batch of events in one
/// PostgreSQL transaction, then commits the offsets. Redeliveries are recognised by event id;
/// malformed or unknown messages go to `<topic>.dlq` with the reason; database or broker
/// failures are retried, holding the batch, so nothing is skipped.
public final class EventConsumer: Service, Sendable {
    private let group: String
    private let topics: [TopicSpec]
    private let kafka: KafkaConfiguration
    private let settings: ConsumerConfiguration
    private let database: Database
    private let producer: KafkaProducer
    private let handler: any EventHandler
    private let logger: Logger
    private let started = Mutex<KafkaConsumer?>(nil)
    private let lagInterval: Duration
    private let batchTimeLimit: Duration
    let progress = ConsumerProgress()

    public init(
        group: String, topics: [TopicSpec], kafka: KafkaConfiguration, database: Database,
        deadLetterProducer producer: KafkaProducer, handler: any EventHandler, logger: Logger,
        lagInterval: Duration = .seconds(10), batchTimeLimit: Duration = .seconds(30),
        configure: (inout ConsumerConfiguration) -> Void = { _ in }
    ) {
        self.lagInterval = lagInterval
        self.batchTimeLimit = batchTimeLimit
        self.group = group
        self.topics = topics
        self.kafka = kafka
        var settings = ConsumerConfiguration(groupID: group, topics: topics.map { kafka.topicName($0.name) })
        configure(&settings)
        self.settings = settings
        self.database = database
        self.producer = producer
        self.handler = handler
        var logger = logger
        logger[metadataKey: "consumer"] = "\(group)"
        self.logger = logger
    }

    /// Why this instance has lag it is not working off, nil when it has none: a batch in hand for
    /// longer than `limit`, or messages waiting while nothing was committed for that long.
    /// `/health/ready` answers 503 while there is a reason.
    public func stall(limit: Duration = .seconds(60)) -> String? { progress.stall(limit: limit) }

    /// The partitions this instance owns now (empty before the first rebalance).
    public var assignment: Set<TopicPartition> { started.withLock { $0?.assignment ?? [] } }

    public func run() async throws {
        let consumer = try KafkaConsumer(configuration: kafka, consumer: settings, logger: logger)
        started.withLock { $0 = consumer }
        logger.info("consuming \(settings.topics.joined(separator: ", "))")
        defer { started.withLock { $0 = nil } }
        let lag = Task { await reportLag(of: consumer) }
        do {
            for try await batch in consumer.batches {
                await process(batch, consumer: consumer)
            }
        } catch {
            // The service group stops the process; a supervisor restarts it.
            logger.error("consuming failed: \(error)")
            lag.cancel()
            await lag.value
            await consumer.close()
            throw error
        }
        // The lag reporter reads the consumer: it stops before the consumer closes.
        lag.cancel()
        await lag.value
        await consumer.close()
    }

    /// `consumer_lag_messages` of the partitions this instance owns, every `lagInterval`, from
    /// the brokers' high watermarks (asked, not cached, so a stuck batch shows as growing lag).
    private func reportLag(of consumer: KafkaConsumer) async {
        guard let admin = try? KafkaAdmin(configuration: kafka, logger: logger) else { return }
        var reported: Set<TopicPartition> = []
        while !Task.isCancelled {
            let offsets = consumer.consumedOffsets()
            var total: Int64 = 0
            for (partition, consumed) in offsets {
                guard let marks = try? await admin.watermarks(topic: partition.topic, partition: partition.partition) else { continue }
                let lag = max(0, marks.high - max(consumed, marks.low))
                total += lag
                lagGauge(partition).record(lag)
            }
            // Partitions that moved to another instance are reported there.
            for partition in reported.subtracting(offsets.keys) { lagGauge(partition).record(0) }
            reported = Set(offsets.keys)
            progress.lagChanged(to: total)
            try? await Task.sleep(for: lagInterval)
        }
        await admin.close()
    }

    private func lagGauge(_ partition: TopicPartition) -> Gauge {
        Gauge(
            label: "consumer_lag_messages", dimensions: [("consumer", group), ("topic", partition.topic), ("partition", String(partition.partition))])
    }

    /// Applies one batch and commits its offsets; returns only when both are done (or the
    /// service is stopping hard). Transient failures hold the batch and are retried with backoff
    /// for as long as they last; an event that can never apply goes to the dead-letter topic.
    func process(_ batch: [KafkaMessage], consumer: KafkaConsumer) async {
        let start = ContinuousClock.now
        progress.batchStarted()
        defer { progress.batchEnded() }
        var decoded: [(KafkaMessage, EventEnvelope)] = []
        var rejected: [(KafkaMessage, EventRejection)] = []
        for message in batch {
            switch decode(message) {
            case .success(let envelope): decoded.append((message, envelope))
            case .failure(let rejection): rejected.append((message, rejection))
            }
        }

        var backoff = Backoff()
        var unrecognised = 0
        progress.entered(.applying)
        applying: while true {
            do {
                try await apply(decoded.map(\.1))
                break applying
            } catch {
                let verdict = await Self.verdict(on: error, database: database)
                if case .retry = verdict, !stopping {
                    recordRetry()
                    let delay = backoff.next()
                    logger.warning("batch of \(decoded.count) events failed, retrying in \(delay): \(String(reflecting: error))")
                    await pause(delay)
                    continue applying
                }
                if case .retryFewTimes = verdict, unrecognised < Self.attemptsBeforeDeadLetter - 1, !stopping {
                    unrecognised += 1
                    recordRetry()
                    let delay = backoff.next()
                    logger.warning(
                        "batch of \(decoded.count) events failed (attempt \(unrecognised)), retrying in \(delay): \(String(reflecting: error))")
                    await pause(delay)
                    continue applying
                }
                guard !stopping else {
                    logger.warning("stopping with an unapplied batch; it will be redelivered: \(String(reflecting: error))")
                    return
                }
                // Some event of the batch can never apply: one at a time to find it.
                guard let spoilt = await applyOneByOne(decoded) else { return }
                rejected += spoilt
                break applying
            }
        }

        progress.entered(.deadLettering)
        guard await deadLetter(rejected) else { return }
        progress.entered(.committing)
        do {
            try await consumer.commit(batch)
        } catch {
            // After a rebalance the new owner receives these again and skips them by event id.
            logger.warning("offset commit failed (messages will be redelivered and deduplicated): \(error)")
        }
        retriesGauge.record(0)
        progress.advanced()
        Timer(label: "consumer_batch_duration_seconds", dimensions: [("consumer", group)])
            .recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        for (topic, count) in Dictionary(grouping: batch, by: \.topic).mapValues(\.count) {
            Counter(label: "consumer_messages_total", dimensions: [("consumer", group), ("topic", topic)]).increment(by: count)
        }
    }

    /// Attempts of an event that fails in a way no rule recognises before it is dead-lettered
    /// (while the store answers; an unreachable store makes every failure transient).
    public static let attemptsBeforeDeadLetter = 3

    /// What to do after applying failed.
    public enum Verdict: Equatable, Sendable {
        public var isRejection: Bool { if case .reject = self { true } else { false } }

        /// It will fail the same way again.
        case reject(EventRejection)
        /// The store or the broker is away or lost a race: it passes later.
        case retry
        /// Not recognised: a few more attempts, then the dead-letter topic.
        case retryFewTimes(String)
    }

    /// The one place that decides whether a failure is the event's or the infrastructure's; the
    /// handlers need not wrap decoding errors or refusals themselves.
    public static func verdict(on error: any Error, database: Database?) async -> Verdict {
        switch error {
        case let rejection as EventRejection:
            return .reject(rejection)
        case let error as EnvelopeError:
            return .reject(EventRejection(error.description, kind: .malformed))
        case let error as DecodingError:
            return .reject(EventRejection(EventCoding.describe(error, droppingLeading: 0), kind: .malformed))
        case let refusal as RuleRefusal:
            return .reject(EventRejection(refusal.reason, kind: .rejected))
        case let illegal as IllegalTransition:
            return .reject(EventRejection(illegal.description, kind: .rejected))
        case let unknown as UnknownDistrict:
            return .reject(EventRejection(unknown.description, kind: .rejected))
        case let unknown as ProposalStatuses.UnknownProposal:
            return .reject(EventRejection(unknown.description, kind: .rejected))
        case is CancellationError:
            return .retry
        default:
            break
        }
        switch DatabaseFailure.classify(error) {
        case .transient?:
            return .retry
        case .permanent(let state, let message)?:
            return .reject(EventRejection("PostgreSQL refused it (\(state)): \(message)", kind: .storeRefused))
        case nil:
            // A failure we cannot read is the event's only while the store answers.
            if let database, await !database.ping() { return .retry }
            return .retryFewTimes(String(describing: error))
        }
    }

    /// The batch in hand was retried once more: `consumer_batch_retries` counts the retries of
    /// the batch in hand (0 once it passed), which `ConsumerStalled` watches.
    private func recordRetry() {
        retriesGauge.record(progress.retried())
    }

    private var retriesGauge: Gauge { Gauge(label: "consumer_batch_retries", dimensions: [("consumer", group)]) }

    private func decode(_ message: KafkaMessage) -> Result<EventEnvelope, EventRejection> {
        let topicName = kafka.unprefixed(message.topic)
        guard let topic = topics.first(where: { $0.name == topicName }) else {
            return .failure(EventRejection("message from unexpected topic \(message.topic)", kind: .unexpectedTopic))
        }
        let envelope: EventEnvelope
        do {
            envelope = try EventEnvelope.decode(from: message.value)
        } catch {
            return .failure(EventRejection(error.description, kind: .malformed))
        }
        guard topic.knows(type: envelope.type) else {
            return .failure(EventRejection("unknown event type \(envelope.type) on \(topic.name)", kind: .unknownType))
        }
        guard topic.accepts(type: envelope.type, version: envelope.schemaVersion) else {
            return .failure(EventRejection("unsupported schema version \(envelope.schemaVersion) of \(envelope.type)", kind: .unsupportedVersion))
        }
        return .success(envelope)
    }

    /// Applies events in one transaction; events seen before (by id) are skipped. A transaction
    /// that waits longer than `batchTimeLimit` is given up and retried: a statement PostgreSQL
    /// never answers would otherwise hold the partition for good.
    private func apply(_ events: [EventEnvelope]) async throws {
        guard !events.isEmpty else { return }
        let (group, handler) = (self.group, self.handler)
        let duplicates = try await database.transaction(.none, timeLimit: batchTimeLimit) { transaction in
            var fresh = try await ProcessedEvents.recordNew(events.map(\.eventID), consumer: group, in: transaction)
            // Events of different districts concern different aggregates: each district's events
            // keep their order and are handled together in one scope, districts in code order, so
            // instances that take per-district locks (triage's grouping) take them in one order.
            var districts: [DistrictCode] = []
            var byDistrict: [DistrictCode: [EventEnvelope]] = [:]
            var skipped = 0
            for event in events {
                guard fresh.remove(event.eventID) != nil else {
                    skipped += 1
                    continue
                }
                if byDistrict[event.district] == nil { districts.append(event.district) }
                byDistrict[event.district, default: []].append(event)
            }
            for district in districts.sorted() {
                try await transaction.scope(to: .district(district))
                try await handler.handle(byDistrict[district]!, of: district, in: transaction)
            }
            return skipped
        }
        if duplicates > 0 {
            Counter(label: "consumer_duplicate_events_total", dimensions: [("consumer", group)]).increment(by: duplicates)
        }
    }

    /// Infrastructure failures are retried until they pass, unless the service is stopping.
    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// The slow path after a rejection: each event in a transaction of its own. Nil when the
    /// service stopped before every event was applied or rejected.
    private func applyOneByOne(_ events: [(KafkaMessage, EventEnvelope)]) async -> [(KafkaMessage, EventRejection)]? {
        var rejected: [(KafkaMessage, EventRejection)] = []
        for (message, event) in events {
            var backoff = Backoff()
            var unrecognised = 0
            retrying: while true {
                do {
                    try await apply([event])
                    break retrying
                } catch {
                    switch await Self.verdict(on: error, database: database) {
                    case .reject(let rejection):
                        rejected.append((message, rejection))
                        break retrying
                    case .retryFewTimes(let reason) where unrecognised + 1 >= Self.attemptsBeforeDeadLetter:
                        rejected.append(
                            (
                                message,
                                EventRejection(
                                    "failed \(Self.attemptsBeforeDeadLetter) times while the store answered: \(reason)", kind: .failedRepeatedly)
                            ))
                        break retrying
                    case .retryFewTimes:
                        unrecognised += 1
                    case .retry:
                        break
                    }
                    if stopping { return nil }
                    recordRetry()
                    let delay = backoff.next()
                    logger.warning("event \(event.eventID) failed, retrying in \(delay): \(String(reflecting: error))")
                    await pause(delay)
                }
            }
        }
        return rejected
    }

    /// Publishes rejected messages to their topic's dead-letter topic and waits for delivery, so
    /// the offsets committed next never pass a message that is neither applied nor dead-lettered.
    /// False when the service stopped first.
    private func deadLetter(_ rejected: [(KafkaMessage, EventRejection)]) async -> Bool {
        guard !rejected.isEmpty else { return true }
        var pending = rejected.map { DeadLetter.message(for: $0.0, reason: $0.1.reason, consumerGroup: group) }
        for (message, rejection) in rejected {
            logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(rejection.reason)")
            Counter(
                label: "consumer_dead_lettered_total",
                dimensions: [("consumer", group), ("topic", message.topic), ("reason", rejection.kind.rawValue)]
            ).increment()
        }
        var backoff = Backoff()
        while true {
            let results = await producer.send(pending)
            pending = zip(pending, results).compactMap { message, result in
                if case .failure = result { return message }
                return nil
            }
            if pending.isEmpty { return true }
            if stopping { return false }
            logger.warning("\(pending.count) dead letters not delivered yet, retrying")
            await pause(backoff.next())
        }
    }
}

/// What `stall` reads: when the batch in hand started, what it is doing and how often it was
/// retried, when the consumer last committed, and its lag as last measured.
final class ConsumerProgress: Sendable {
    /// The steps of a batch, in order.
    enum Step: String {
        case applying = "applying it"
        case deadLettering = "sending dead letters"
        case committing = "committing offsets"
    }

    private struct State {
        var batchStartedAt: ContinuousClock.Instant?
        var step = Step.applying
        var retries = 0
        var lastAdvance = ContinuousClock.now
        var lag: Int64 = 0
    }
    private let state = Mutex(State())

    func batchStarted() {
        state.withLock {
            $0.batchStartedAt = .now; $0.retries = 0
        }
    }
    func entered(_ step: Step) { state.withLock { $0.step = step } }
    func batchEnded() { state.withLock { $0.batchStartedAt = nil } }
    func advanced() { state.withLock { $0.lastAdvance = .now } }
    func lagChanged(to lag: Int64) { state.withLock { $0.lag = lag } }

    /// The retries of the batch in hand, counting this one.
    func retried() -> Int {
        state.withLock {
            $0.retries += 1; return $0.retries
        }
    }

    func stall(limit: Duration, now: ContinuousClock.Instant = .now) -> String? {
        state.withLock { state in
            if let started = state.batchStartedAt, now - started > limit {
                return "a batch in hand for \((now - started).components.seconds) s, \(state.step.rawValue), retried \(state.retries) times"
            }
            guard state.lag > 0, state.batchStartedAt == nil, now - state.lastAdvance > limit else { return nil }
            return "lag \(state.lag) and nothing received for \((now - state.lastAdvance).components.seconds) s"
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
