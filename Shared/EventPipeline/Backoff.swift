import ServiceLifecycle

/// Exponential backoff with jitter for retrying infrastructure failures (database, broker).
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var current: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The next delay, doubled each time up to `maximum`, with ±20 % jitter.
    public mutating func next() -> Duration {
        let delay = current
        current = min(current * 2, maximum)
        return delay * Double.random(in: 0.8...1.2)
    }

    public mutating func reset() { current = initial }
}

/// Sleeps, but wakes at once when the service group starts shutting down.
public func pause(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}
