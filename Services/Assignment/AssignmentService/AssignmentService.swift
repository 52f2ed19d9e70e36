import EventPipeline
import Models
import ServiceKit
import Storage

/// Assignment: starts, reports healthy and consumes its input topics; its domain logic comes with its own issue.
public enum AssignmentService {
    public static let definition = ServiceDefinition(name: .assignment, handler: { parts in
        AcknowledgingHandler(logger: parts.logger)
    })
}
