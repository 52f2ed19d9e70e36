import EventPipeline
import Logging
import Messaging
import ServiceLifecycle
import Storage
import Synchronization

/// Watches PostgreSQL, the Kafka brokers and the service's consumer, and answers `/health/ready`:
/// ready only while both answer and the consumer is not stalled (lag it does not work off).
/// While any is wrong it checks again with backoff and says so in the log.
public final class Readiness: Service, Sendable {
    public struct State: Sendable, Hashable, Encodable {
        public var database: Bool
        public var kafka: Bool
        public var consuming: Bool
        public var ready: Bool { database && kafka && consuming }
    }

    private let database: Database
    private let admin: KafkaAdmin
    private let consumer: EventConsumer?
    private let logger: Logger
    private let state = Mutex(State(database: false, kafka: false, consuming: true))

    public init(database: Database, admin: KafkaAdmin, consumer: EventConsumer?, logger: Logger) {
        self.database = database
        self.admin = admin
        self.consumer = consumer
        self.logger = logger
    }

    public var current: State { state.withLock { $0 } }

    @discardableResult
    public func check() async -> State {
        async let databaseUp = database.ping()
        async let kafkaUp = admin.ping()
        let stall = consumer?.stall()
        let now = State(database: await databaseUp, kafka: await kafkaUp, consuming: stall == nil)
        let before = state.withLock { state in
            defer { state = now }
            return state
        }
        if now != before {
            if now.ready {
                logger.info("ready: PostgreSQL and Kafka answer")
            } else {
                logger.warning(
                    """
                    not ready: PostgreSQL \(now.database ? "up" : "unreachable"), Kafka \(now.kafka ? "up" : "unreachable"), \
                    consumer \(stall.map { "stalled: \($0)" } ?? "working off its lag")
                    """)
            }
        }
        return now
    }

    public func run() async throws {
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await check().ready {
                backoff.reset()
                await pause(.seconds(5))
            } else {
                await pause(backoff.next())
            }
        }
        await admin.close()
    }
}
