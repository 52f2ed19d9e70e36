import EventPipeline
import Foundation
import Hummingbird
import Logging
import Messaging
import Models
import NIOCore
import ServiceLifecycle
import Storage

/// What a service's routes and handlers are built from.
public struct ServiceParts: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let database: Database
    public let producer: KafkaProducer
    public let tokens: StaffTokenSigner
    let settings: (any ServiceSettings)?

    /// The service's own settings, read once when it started (`ServiceDefinition.settings`).
    public func settings<Settings: ServiceSettings>(as type: Settings.Type = Settings.self) -> Settings {
        guard let settings = settings as? Settings else {
            preconditionFailure(
                "\(configuration.service.rawValue) reads \(Settings.self), its definition declares \(String(describing: self.settings))")
        }
        return settings
    }
}

/// A service's own environment settings beside the common ones. Read once, with the common
/// ones, so a bad value stops the start with the others; the services read the parsed value
/// from `ServiceParts.settings()`.
public protocol ServiceSettings: Sendable {
    /// Reads the settings, recording each bad value in `reader`.
    init(_ reader: EnvironmentReader)
}

/// A service is its name, its reaction to its input topics and its HTTP routes; everything
/// else (store, broker, outbox relay, health, metrics, shutdown) is the same for all five.
public struct ServiceDefinition: Sendable {
    public var name: ServiceName
    public var handler: (@Sendable (ServiceParts) -> any EventHandler)?
    /// Adds the service's routes (its API lives under `/v1`).
    public var routes: @Sendable (Router<AppRequestContext>, ServiceParts) -> Void
    /// The service's own settings, if it has any.
    public var settings: (any ServiceSettings.Type)?
    /// Background work of the service's own (e.g. pruning), run and stopped with the rest.
    public var background: (@Sendable (ServiceParts) -> [any Service])?

    public init(
        name: ServiceName,
        handler: (@Sendable (ServiceParts) -> any EventHandler)? = nil,
        settings: (any ServiceSettings.Type)? = nil,
        background: (@Sendable (ServiceParts) -> [any Service])? = nil,
        routes: @escaping @Sendable (Router<AppRequestContext>, ServiceParts) -> Void = { _, _ in }
    ) {
        self.name = name
        self.handler = handler
        self.settings = settings
        self.background = background
        self.routes = routes
    }
}

/// A built service, ready to run. Tests build the very same thing on port 0.
public final class ServiceApp: Sendable {
    public let parts: ServiceParts
    public let readiness: Readiness
    public let relay: OutboxRelay
    public let consumer: EventConsumer?
    public let group: ServiceGroup
    private let port = AsyncStream<Int>.makeStream()

    public init(_ definition: ServiceDefinition, configuration: ServiceConfiguration, handleSignals: Bool = true) throws {
        Telemetry.bootstrap()
        var logger = Logger(label: definition.name.rawValue)
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "instance"] = "\(configuration.instanceID)"
        let database = Database(configuration: configuration.database, logger: logger)
        let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
        let admin = try KafkaAdmin(configuration: configuration.kafka, logger: logger)
        let parts = ServiceParts(
            configuration: configuration, logger: logger, database: database, producer: producer,
            tokens: StaffTokenSigner(secret: configuration.tokenSecret), settings: try Self.settings(of: definition, in: configuration))
        self.parts = parts
        self.relay = OutboxRelay(database: database, producer: producer, source: definition.name, kafka: configuration.kafka, logger: logger)
        let inputs = TopicCatalogue.inputs(of: definition.name)
        // The topic prefix also separates consumer groups of deployments sharing a cluster.
        let consumerGroup = configuration.kafka.topicPrefix + definition.name.rawValue
        if let makeHandler = definition.handler, !inputs.isEmpty {
            consumer = EventConsumer(
                group: consumerGroup, topics: inputs, kafka: configuration.kafka, database: database,
                deadLetterProducer: producer, handler: makeHandler(parts), logger: logger,
                configure: { $0.maxBatchSize = configuration.consumerMaxBatch })
        } else {
            consumer = nil
        }
        self.readiness = Readiness(database: database, admin: admin, consumer: consumer, logger: logger)

        let router = Router(context: AppRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: ErrorBodyMiddleware())
        router.add(middleware: AuditServiceMiddleware(service: definition.name.rawValue))
        let readiness = self.readiness
        router.get("/health/live") { _, _ in try jsonResponse(["status": "live"]) }
        router.get("/health/ready") { _, _ in
            let state = readiness.current
            return try jsonResponse(state, status: state.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: Telemetry.registry.emitToBuffer())))
        }
        definition.routes(router, parts)

        let continuation = port.continuation
        let serverLogger = logger
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: definition.name.rawValue),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.httpPort
                serverLogger.info("\(definition.name.rawValue) listening on http://\(configuration.httpHost):\(port)")
                continuation.yield(port)
                continuation.finish()
            },
            logger: logger)

        // Stopped in reverse order: HTTP first, then consuming (the batch in flight finishes and
        // commits), the relay, the producer (flushes), and the store last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: database.client),
            .init(service: ProducerService(producer: producer)),
            .init(service: relay),
            // Revocations hold within 2 s; while the store is away the last list stays in force.
            .init(
                service: PeriodicJob("reading token revocations", every: .seconds(2), logger: logger) { [revocations = parts.tokens.revocations] in
                    try await revocations.refresh(from: database)
                }),
        ]
        if consumer != nil {
            let days = configuration.processedEventsRetentionDays
            services.append(
                .init(
                    service: PeriodicJob("pruning processed events", every: .seconds(600), firstAfter: .seconds(60), logger: logger) {
                        try await ProcessedEvents.prune(consumer: consumerGroup, olderThan: days, in: database)
                    }))
        }
        if let consumer { services.append(.init(service: consumer)) }
        for service in definition.background?(parts) ?? [] { services.append(.init(service: service)) }
        services.append(.init(service: readiness))
        services.append(.init(service: application))
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        if handleSignals { groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint] }
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        // A call that ignores cancellation (a connection that never answers) must not keep a
        // stopping process alive: past this the process ends and its supervisor restarts it.
        // Only for a process of its own: tests run several apps in theirs.
        if handleSignals { groupConfiguration.maximumCancellationDuration = .seconds(10) }
        self.group = ServiceGroup(configuration: groupConfiguration)
    }

    public func run() async throws {
        try await group.run()
    }

    /// The settings `fromEnvironment` read; a configuration made in code (tests, benchmarks) has
    /// its `environment` read here, once, with the same checks.
    private static func settings(of definition: ServiceDefinition, in configuration: ServiceConfiguration) throws -> (any ServiceSettings)? {
        if let settings = configuration.settings { return settings }
        guard let type = definition.settings else { return nil }
        let reader = EnvironmentReader(configuration.environment)
        let settings = type.init(reader)
        try reader.validate()
        return settings
    }

    /// The port the HTTP server listens on, once it does.
    public func listeningPort() async -> Int? {
        for await port in port.stream { return port }
        return nil
    }

    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}

/// Closes the producer when the group shuts down, after the services that produce stopped.
struct ProducerService: Service {
    let producer: KafkaProducer

    func run() async throws {
        try? await gracefulShutdown()
        await producer.close()
    }
}

/// The entry point of every service executable: read the environment, build, run; a bad
/// configuration is one line per variable on standard error and exit code 2.
public enum ServiceMain {
    public static func run(_ definition: ServiceDefinition) async {
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.fromEnvironment(definition.name, settings: definition.settings)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            exit(2)
        }
        LoggingSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        do {
            let app = try ServiceApp(definition, configuration: configuration)
            try await app.run()
        } catch {
            FileHandle.standardError.write(Data("\(definition.name.rawValue): \(error)\n".utf8))
            exit(1)
        }
    }
}

/// Names the service serving each request for the audit trail (`AuditTrail.service`).
struct AuditServiceMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let service: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await AuditTrail.$service.withValue(service) { try await next(request, context) }
    }
}
