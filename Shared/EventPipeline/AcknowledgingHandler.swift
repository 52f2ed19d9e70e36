import Logging
import Models
import Storage

/// Records events as seen and does nothing else: the handler of a service whose reactions
/// are not built yet, so its consumer group still keeps up with its input topics.
public struct AcknowledgingHandler: EventHandler {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func handle(_ event: EventEnvelope, in transaction: Transaction) async throws {
        logger.debug("seen \(event.type) \(event.eventID)")
    }
}
