import EventPipeline
import Foundation
import Logging
import Models
import Mustache
import ServiceKit
import Storage

/// The workbench (工作台): the staff web application and the one place people sign in. It owns
/// accounts and sessions; every page calls the five services' HTTP APIs on the signed-in
/// person's behalf with a short-lived token tied to the session, so the services stay the one
/// authority on who may do what.
public enum WorkbenchService {
    public static let definition = definition(clock: .system)

    /// The service with its own clock: tests move time past a session's idle limit.
    public static func definition(clock: ServiceClock) -> ServiceDefinition {
        ServiceDefinition(
            name: .workbench,
            settings: WorkbenchSettings.self,
            background: { parts in
                [
                    PeriodicJob("ending expired sessions", every: .seconds(300), firstAfter: .seconds(30), logger: parts.logger) {
                        try await SessionRepository(database: parts.database, settings: parts.settings()).endExpired(now: clock.now)
                    }
                ]
            },
            routes: { router, parts in
                let settings = parts.settings(as: WorkbenchSettings.self)
                let pages = Pages.load()
                let context = Workbench(
                    database: parts.database, settings: settings, clock: clock, pages: pages,
                    services: ServiceCalls(settings: settings, signer: parts.tokens), logger: parts.logger)
                SignInController(workbench: context).register(on: router)
                DeskController(workbench: context).register(on: router)
                InboxController(desk: DeskController(workbench: context)).register(on: router)
                UnitDeskController(desk: DeskController(workbench: context)).register(on: router)
                SupervisionBoardController(desk: DeskController(workbench: context)).register(on: router)
                ReplyTemplatesController(desk: DeskController(workbench: context)).register(on: router)
                PrintController(desk: DeskController(workbench: context)).register(on: router)
                ReportsController(desk: DeskController(workbench: context)).register(on: router)
                MembersController(desk: DeskController(workbench: context)).register(on: router)
                MunicipalController(desk: DeskController(workbench: context)).register(on: router)
                AssignmentDeskController(desk: DeskController(workbench: context)).register(on: router)
                EvaluationPageController(workbench: context).register(on: router)
                AdministrationController(workbench: context).register(on: router)
                SettingsController(workbench: context).register(on: router)
            })
    }
}

/// What every page handler needs.
struct Workbench: Sendable {
    let database: Database
    let settings: WorkbenchSettings
    let clock: ServiceClock
    let pages: Pages
    let services: ServiceCalls
    let logger: Logger

    var sessions: SessionRepository { SessionRepository(database: database, settings: settings) }
    var accounts: AccountRepository { AccountRepository(database: database) }
}

/// The workbench's environment settings.
struct WorkbenchSettings: ServiceSettings {
    /// Where the five services answer (their APIs; in compose, by service name).
    var intakeURL: String
    var triageURL: String
    var assignmentURL: String
    var supervisionURL: String
    var publicityURL: String
    /// Minutes without a request after which a session ends (30).
    var idleMinutes: Int
    /// Hours after sign-in after which a session ends whatever happens (12).
    var absoluteHours: Int
    /// The address staff open; `https://…` makes the session cookie `Secure`.
    var publicURL: String

    var secureCookies: Bool { publicURL.hasPrefix("https://") }

    init(_ reader: EnvironmentReader) {
        intakeURL = reader.string("WORKBENCH_INTAKE_URL", default: "http://127.0.0.1:8081", help: "intake's API")
        triageURL = reader.string("WORKBENCH_TRIAGE_URL", default: "http://127.0.0.1:8082", help: "triage's API")
        assignmentURL = reader.string("WORKBENCH_ASSIGNMENT_URL", default: "http://127.0.0.1:8083", help: "assignment's API")
        supervisionURL = reader.string("WORKBENCH_SUPERVISION_URL", default: "http://127.0.0.1:8084", help: "supervision's API")
        publicityURL = reader.string("WORKBENCH_PUBLICITY_URL", default: "http://127.0.0.1:8085", help: "publicity's API")
        idleMinutes = reader.integer("WORKBENCH_SESSION_IDLE_MINUTES", default: 30, range: 1...480)
        absoluteHours = reader.integer("WORKBENCH_SESSION_HOURS", default: 12, range: 1...12)
        publicURL = reader.string("WORKBENCH_PUBLIC_URL", default: "http://localhost:8080", help: "the address staff open")
    }
}
