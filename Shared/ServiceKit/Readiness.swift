import EventPipeline
import Logging
import Messaging
import ServiceLifecycle
import Storage
import Synchronization

/// Watches PostgreSQL and the Kafka brokers and answers `/health/ready`: ready only while both
/// answer. While either is down it checks again with backoff and says so in the log.
public final class Readiness: Service, Sendable {
    public struct State: Sendable, Hashable, Encodable {
        public var database: Bool
        public var kafka: Bool
        public var ready: Bool { database && kafka }
    }

    private let database: Database
    private let admin: KafkaAdmin
    private let logger: Logger
    private let state = Mutex(State(database: false, kafka: false))

    public init(database: Database, admin: KafkaAdmin, logger: Logger) {
        self.database = database
        self.admin = admin
        self.logger = logger
    }

    public var current: State { state.withLock { $0 } }

    @discardableResult
    public func check() async -> State {
        async let databaseUp = database.ping()
        async let kafkaUp = admin.ping()
        let now = State(database: await databaseUp, kafka: await kafkaUp)
        let before = state.withLock { state in
            defer { state = now }
            return state
        }
        if now != before {
            if now.ready {
                logger.info("ready: PostgreSQL and Kafka answer")
            } else {
                logger.warning("not ready: PostgreSQL \(now.database ? "up" : "unreachable"), Kafka \(now.kafka ? "up" : "unreachable")")
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
