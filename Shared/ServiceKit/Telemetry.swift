import Metrics
import Prometheus
import Synchronization

/// One Prometheus registry per process, behind swift-metrics; `/metrics` emits it.
public enum Telemetry {
    public static let registry = PrometheusCollectorRegistry()
    private static let done = Atomic<Bool>(false)

    public static func bootstrap() {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
