import EventPipeline
import Foundation
import Hummingbird
import Models
import ServiceKit
import Storage

/// Intake (征集): where every clue enters, is stored durably and announced.
public enum IntakeService {
    public static let definition = ServiceDefinition(name: .intake, routes: { routes, parts in
        ClueController(repository: ClueRepository(database: parts.database)).register(on: routes)
    })
}
