import EventPipeline
import Models
import ServiceKit
import Storage

/// Publicity: starts, reports healthy and consumes its input topics; its domain logic comes with its own issue.
public enum PublicityService {
    public static let definition = ServiceDefinition(name: .publicity, handler: { parts in
        AcknowledgingHandler(logger: parts.logger)
    })
}
