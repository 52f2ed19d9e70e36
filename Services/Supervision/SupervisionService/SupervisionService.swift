import EventPipeline
import Foundation
import Logging
import Models
import Operations
import ServiceKit
import ServiceLifecycle
import Storage

/// Supervision (督办): every final assignment is tracked until it is answered or closed, and
/// timers kept in PostgreSQL remind units before their deadlines and escalate overdue handling.
public enum SupervisionService {
    public static let definition = definition(clock: .system)

    /// The service with its own clock: tests move time forward instead of waiting for it.
    public static func definition(clock: ServiceClock) -> ServiceDefinition {
        ServiceDefinition(
            name: .supervision,
            handler: { _ in AssignmentTracking(clock: clock) },
            settings: SupervisionServiceSettings.self,
            background: { parts in
                let settings = parts.settings(as: SupervisionServiceSettings.self)
                let (database, logger, batch) = (parts.database, parts.logger, settings.timerBatch)
                return [
                    // Due timers fire as long as the service runs.
                    PeriodicJob("timer pass", every: .seconds(settings.timerSeconds), logger: logger) {
                        let fired = try await TimerRepository.fireDue(database: database, now: clock.now, batch: batch)
                        if fired.total > 0 {
                            logger.info("supervision timers fired", metadata: ["fired": "\(fired.acted)", "moot": "\(fired.total - fired.acted)"])
                        }
                        for failure in fired.failed {
                            logger.error(
                                "a district's timers could not fire; will try again",
                                metadata: ["district": "\(failure.district.rawValue)", "error": "\(failure.error)"])
                        }
                    },
                    StoreGauges(database: parts.database, logger: parts.logger) { transaction in
                        try await openAssignments(today: LocalDate.on(clock.now, in: .districtDefault), in: transaction)
                    },
                ]
            },
            routes: { router, parts in
                SupervisionController(database: parts.database, clock: clock, signer: parts.tokens).register(on: router)
            })
    }
}

/// `assignments_open{district}` and `assignments_overdue{district}`: assignments in handling,
/// and those of them past their deadline (the overdue ratio operators watch).
func openAssignments(today: LocalDate, in transaction: Transaction) async throws -> [StoreGauges.Sample] {
    try await BusinessFigures.openAssignments(today: today, in: transaction).flatMap { row in
        [
            StoreGauges.Sample("assignments_open", ["district": row.district], row.open),
            StoreGauges.Sample("assignments_overdue", ["district": row.district], row.overdue),
        ]
    }
}

/// The service's own environment settings.
struct SupervisionServiceSettings: ServiceSettings {
    /// How often an instance looks for due timers.
    var timerSeconds: Int
    /// TimerRepository fired per transaction.
    var timerBatch: Int

    init(_ reader: EnvironmentReader) {
        timerSeconds = reader.integer("SUPERVISION_TIMER_SECONDS", default: 30, range: 1...3_600)
        timerBatch = reader.integer("SUPERVISION_TIMER_BATCH", default: 1_000, range: 1...10_000)
    }
}
