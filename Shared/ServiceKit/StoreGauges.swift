import EventPipeline
import Logging
import Metrics
import ServiceLifecycle
import Storage
import Synchronization

/// Business figures read from the store every `interval` and exported as gauges (open clues,
/// overdue assignments). Every instance of a service exports the same store-wide values, so
/// dashboards and alerts aggregate them with `max`.
public struct StoreGauges: Service {
    /// One gauge value: the metric, its labels and the value.
    public struct Sample: Sendable, Hashable {
        public var metric: String
        public var labels: [String: String]
        public var value: Int

        public init(_ metric: String, _ labels: [String: String], _ value: Int) {
            self.metric = metric
            self.labels = labels
            self.value = value
        }

        var key: Sample { Sample(metric, labels, 0) }
    }

    private let job: PeriodicJob

    /// `read` reads the samples in a transaction that sees every district.
    public init(
        database: Database, interval: Duration = .seconds(30), logger: Logger, read: @escaping @Sendable (Transaction) async throws -> [Sample]
    ) {
        let previous = LastSamples()
        job = PeriodicJob("reading business gauges", every: interval, logger: logger) {
            let samples = try await database.transaction(.allDistricts) { try await read($0) }
            for sample in samples { Self.gauge(sample).record(sample.value) }
            // A label set that no longer appears (the last overdue one answered) reads 0.
            let current = Set(samples.map(\.key))
            for gone in previous.samples.withLock({ previous in
                defer { previous = current }
                return previous.subtracting(current)
            }) { Self.gauge(gone).record(0) }
        }
    }

    public func run() async throws {
        try await job.run()
    }

    /// The label sets of the last reading, to zero those that disappear.
    private final class LastSamples: Sendable {
        let samples = Mutex<Set<Sample>>([])
    }

    private static func gauge(_ sample: Sample) -> Gauge {
        Gauge(label: sample.metric, dimensions: sample.labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}
