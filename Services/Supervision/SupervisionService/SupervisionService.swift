import EventPipeline
import Models
import ServiceKit
import Storage

/// Supervision: starts, reports healthy and consumes its input topics; its domain logic comes with its own issue.
public enum SupervisionService {
    public static let definition = ServiceDefinition(name: .supervision, handler: { parts in
        AcknowledgingHandler(logger: parts.logger)
    })
}
