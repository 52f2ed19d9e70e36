import Foundation
import Logging
import Messaging
import Metrics
import Models
import ServiceLifecycle
import Storage

/// Publishes a service's outbox rows to Kafka in batches and marks them published in the
/// transaction that claimed them. A crash between publishing and committing publishes the
/// batch again: consumers are idempotent, so that costs a duplicate delivery, never a gap.
public final class OutboxRelay: Service, Sendable {
    public struct Settings: Sendable {
        public var batchSize = 500
        /// Shards one relay claims per batch; leaves the rest to other instances.
        public var maximumShards = 8
        /// How long an idle relay waits before looking again when its process's doorbell does not
        /// ring: for rows written by processes without a relay of this source (proposals-ctl).
        public var idleDelay: Duration = .milliseconds(500)
        public var retention: Duration = .seconds(7 * 24 * 3600)
        public init() {}
    }

    private let database: Database
    private let producer: KafkaProducer
    private let source: ServiceName
    private let kafka: KafkaConfiguration
    private let settings: Settings
    private let logger: Logger
    private let published: Counter
    private let failures: Counter
    private let backlogGauge: Gauge
    private let ageGauge: Gauge

    public init(
        database: Database, producer: KafkaProducer, source: ServiceName, kafka: KafkaConfiguration, settings: Settings = Settings(), logger: Logger
    ) {
        self.database = database
        self.producer = producer
        self.source = source
        self.kafka = kafka
        self.settings = settings
        var logger = logger
        logger[metadataKey: "component"] = "outbox-relay"
        self.logger = logger
        let dimensions = [("source", source.rawValue)]
        self.published = Counter(label: "outbox_published_events_total", dimensions: dimensions)
        self.failures = Counter(label: "outbox_publish_failures_total", dimensions: dimensions)
        self.backlogGauge = Gauge(label: "outbox_backlog_events", dimensions: dimensions)
        self.ageGauge = Gauge(label: "outbox_oldest_pending_age_seconds", dimensions: dimensions)
    }

    public func run() async throws {
        var backoff = Backoff()
        var lastHousekeeping = ContinuousClock.now - .seconds(60)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if ContinuousClock.now - lastHousekeeping > .seconds(5) {
                    try await housekeeping()
                    lastHousekeeping = .now
                }
                let count = try await publishBatch()
                backoff.reset()
                if count == 0 {
                    let (doorbell, idleDelay) = (database.outboxDoorbell, settings.idleDelay)
                    await cancelWhenGracefulShutdown { await doorbell.wait(upTo: idleDelay) }
                }
            } catch {
                let delay = backoff.next()
                logger.warning("outbox relay failed, retrying in \(delay): \(String(reflecting: error))")
                await pause(delay)
            }
        }
        logger.info("outbox relay stopped")
    }

    /// Publishes one batch; returns how many events were published. `beforeCommit` runs after
    /// every delivery report and before the commit: the worst moment for a crash, which fault
    /// tests simulate by throwing from it.
    @discardableResult
    public func publishBatch(beforeCommit: (@Sendable (Int) async throws -> Void)? = nil) async throws -> Int {
        let (source, settings, producer, kafka) = (self.source, self.settings, self.producer, self.kafka)
        let (published, failures, logger) = (self.published, self.failures, self.logger)
        return try await database.transaction(.none, timeLimit: timeLimit) { transaction in
            let events = try await Outbox.claim(source: source, limit: settings.batchSize, maximumShards: settings.maximumShards, in: transaction)
            guard !events.isEmpty else { return 0 }
            let messages = events.map { event in
                OutgoingMessage(
                    topic: kafka.topicName(event.topic), key: event.key, value: Data(event.envelope.utf8),
                    headers: [
                        KafkaHeader(name: "event-type", string: event.eventType), KafkaHeader(name: "content-type", string: "application/json"),
                    ])
            }
            let results = await producer.send(messages)
            // A key whose earlier event failed keeps its later ones unpublished too, so the
            // next batch sends them again in order.
            var failedKeys: Set<String> = []
            var delivered: [Int64] = []
            var undelivered: [Int64] = []
            var firstError: KafkaError?
            for (event, result) in zip(events, results) {
                switch result {
                case .success where !failedKeys.contains(event.key):
                    delivered.append(event.id)
                case .success:
                    undelivered.append(event.id)
                case .failure(let error):
                    failedKeys.insert(event.key)
                    undelivered.append(event.id)
                    firstError = firstError ?? error
                }
            }
            try await Outbox.markPublished(delivered, in: transaction)
            if let firstError {
                try await Outbox.recordFailure(undelivered, error: firstError.description, in: transaction)
                failures.increment(by: undelivered.count)
                logger.warning("\(undelivered.count) of \(events.count) events not delivered: \(firstError)")
            }
            try await beforeCommit?(delivered.count)
            published.increment(by: delivered.count)
            return delivered.count
        }
    }

    /// A batch's transaction waits for the broker's delivery reports: it is given up (and its
    /// claim with it) only well after the producer gives up on a message.
    private var timeLimit: Duration { producer.messageTimeout + .seconds(30) }

    private func housekeeping() async throws {
        let (source, retention) = (self.source, settings.retention)
        let backlog = try await database.transaction(.none, timeLimit: timeLimit) { transaction in
            try await Outbox.prune(olderThan: retention, in: transaction)
            return try await Outbox.backlog(source: source, in: transaction)
        }
        backlogGauge.record(backlog.pending)
        ageGauge.record(backlog.oldestAgeSeconds)
    }
}
