import EventPipeline
import Foundation
import Logging
import Models
import ServiceKit
import ServiceLifecycle
import Storage
import Synchronization

/// Assignment (交办): every filed proposal gets a ranked suggestion of handling units and is
/// assigned to one lead unit and any co-units with a deadline; units may contest; the
/// committee reassigns or rejects the contest. Every step is an event for supervision.
public enum AssignmentService {
    public static let definition = ServiceDefinition(
        name: .assignment,
        handler: { parts in FiledProposalHandler(suggestions: SuggestionRepository(indexes: PastProposalIndexes.shared(by: parts))) },
        settings: AssignmentServiceSettings.self,
        background: { parts in
            let settings = parts.settings(as: AssignmentServiceSettings.self)
            let (database, logger) = (parts.database, parts.logger)
            // Pre-assignments whose confirmation window passed without a contest become final.
            return [
                PeriodicJob("pre-assignment sweep", every: .seconds(settings.sweepSeconds), logger: logger) {
                    let finalized = try await PreAssignments.sweep(database: database)
                    if finalized > 0 { logger.info("pre-assignments made final", metadata: ["count": "\(finalized)"]) }
                }
            ]
        },
        routes: { router, parts in
            let suggestions = SuggestionRepository(indexes: PastProposalIndexes.shared(by: parts))
            AssignmentController(
                cases: AssignmentRepository(database: parts.database, suggestions: suggestions),
                units: UnitAssignmentRepository(database: parts.database),
                directory: HandlingUnitRepository(database: parts.database),
                settings: AssignmentSettingsRepository(database: parts.database),
                signer: parts.tokens
            ).register(on: router)
        })
}

/// The service's own environment settings.
struct AssignmentServiceSettings: ServiceSettings {
    /// How often pre-assignments past their confirmation window are made final.
    var sweepSeconds: Int

    init(_ reader: EnvironmentReader) {
        sweepSeconds = reader.integer("ASSIGNMENT_SWEEP_SECONDS", default: 60, range: 1...3_600)
    }
}

extension PastProposalIndexes {
    private static let byDatabase = Mutex<[ObjectIdentifier: PastProposalIndexes]>([:])

    /// One index per store, shared by the consumer and the HTTP routes of one process.
    static func shared(by parts: ServiceParts) -> PastProposalIndexes {
        byDatabase.withLock { indexes in
            let key = ObjectIdentifier(parts.database)
            if let existing = indexes[key] { return existing }
            let created = PastProposalIndexes()
            indexes[key] = created
            return created
        }
    }
}
