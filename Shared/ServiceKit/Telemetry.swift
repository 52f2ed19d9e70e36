import Foundation
import Metrics
import Prometheus
import Synchronization

/// One Prometheus registry per process, behind swift-metrics; `/metrics` emits it.
public enum Telemetry {
    public static let registry = PrometheusCollectorRegistry()
    private static let done = Atomic<Bool>(false)

    public static func bootstrap() {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = prometheusNames
        MetricsSystem.bootstrap(factory)
    }

    /// Hummingbird names its HTTP metrics after OpenTelemetry (`http.server.request.duration`,
    /// `http.route`); Prometheus wants `http_request_duration_seconds{route=...}`.
    public static let renamedMetrics = [
        "hb.requests": "http_requests_total",
        "hb.request.errors": "http_request_errors_total",
        "http.server.request.duration": "http_request_duration_seconds",
        "http.server.active_requests": "http_active_requests",
    ]
    static let renamedLabels = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status",
    ]

    @Sendable static func prometheusNames(_ name: String, _ labels: [(String, String)]) -> (String, [(String, String)]) {
        let name = renamedMetrics[name] ?? name.replacingOccurrences(of: ".", with: "_")
        return (name, labels.map { (renamedLabels[$0.0] ?? $0.0.replacingOccurrences(of: ".", with: "_"), $0.1) })
    }
}
