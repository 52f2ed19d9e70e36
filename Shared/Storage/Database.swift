import Logging
import Models
import NIOSSL
import PostgresNIO
import Synchronization

/// Which district's rows a transaction may see. Row-level security enforces it in PostgreSQL.
public enum DistrictScope: Sendable, Hashable {
    case district(DistrictCode)
    /// System-wide reads (operators, statistics); writes to district tables are refused.
    case allDistricts
    /// No district: district tables look empty. For infrastructure tables only.
    case none

    var setting: String {
        switch self {
        case .district(let code): code.rawValue
        case .allDistricts: "*"
        case .none: ""
        }
    }
}

/// The shared PostgreSQL store: a connection pool and district-scoped transactions.
/// Run `client` as a service (swift-service-lifecycle) for as long as the store is used.
public final class Database: Sendable {
    public let client: PostgresClient
    public let configuration: DatabaseConfiguration
    /// Rung after every commit of a transaction that wrote outbox rows (see `Transaction.wroteOutbox()`).
    public let outboxDoorbell = Doorbell()
    let logger: Logger

    public init(configuration: DatabaseConfiguration, logger: Logger) {
        var postgres = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.user,
            password: configuration.password, database: configuration.database,
            tls: configuration.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        postgres.options.maximumConnections = configuration.maximumConnections
        postgres.options.connectTimeout = .seconds(5)
        // A session whose client went away (a transaction given up after its time limit closes
        // its connection) usually stops waiting for a lock within this, not when it gets it (not
        // always: under the full test suite's load some waited on). PostgreSQL 14 and later.
        postgres.options.additionalStartupParameters = [("client_connection_check_interval", "1s")]
        self.client = PostgresClient(configuration: postgres, backgroundLogger: logger)
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` in one transaction whose district tables are limited to `scope`.
    /// Commits when `body` returns, rolls back and rethrows `body`'s own error when it throws.
    ///
    /// `scopeSetByBody`: the body's first statement sets the scope itself (see
    /// `Transaction.scopeSetting`), saving a round trip on hot paths. Until it does, district
    /// tables are empty and refuse writes, so forgetting it fails safe.
    public func transaction<Result: Sendable>(
        _ scope: DistrictScope,
        scopeSetByBody: Bool = false,
        _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        try await withOpenConnection { connection in
            try await run(Transaction(connection: connection, logger: logger), scope, scopeSetByBody: scopeSetByBody, body)
        }
    }

    /// `transaction`, given up after `limit`: for loops that hold a partition or the outbox while
    /// they wait (consumers, the relay), where a wait that never ends stops the pipeline.
    ///
    /// A lease from the pool takes microseconds while the pool works, so one that takes
    /// `leaseLimit` is given up first: after PostgreSQL restarts, PostgresNIO's pool (1.33) has
    /// left a lease waiting with the server up. When time is up, a pending lease is cancelled, or
    /// the transaction's connection is closed, which fails the statement PostgreSQL has not
    /// answered and keeps the transaction from committing. A statement written just as
    /// the server closed the connection is never answered at all, so the body is not waited for
    /// after its time is up: it is left to end, or not, by itself. Then it throws
    /// `TransactionTimedOut`, naming what it waited for.
    public func transaction<Result: Sendable>(
        _ scope: DistrictScope,
        timeLimit limit: Duration,
        leaseLimit: Duration = .seconds(5),
        _ body: @escaping @Sendable (Transaction) async throws -> Result
    ) async throws -> Result {
        let leaseLimit = min(leaseLimit, limit)
        let open = Latest<Transaction>()
        let work = Task {
            try await self.withOpenConnection { connection in
                // Given up while it waited for the lease: it does not start late.
                try Task.checkCancellation()
                let transaction = Transaction(connection: connection, logger: self.logger)
                open.value = transaction
                return try await self.run(transaction, scope, scopeSetByBody: false, body)
            }
        }
        let finished = await Self.outcome(of: work) {
            try await Task.sleep(for: leaseLimit)
            if open.value != nil { try await Task.sleep(for: limit - leaseLimit) }
        }
        if let finished { return try finished.get() }
        work.cancel()
        // While PostgreSQL is away a lease waits as long: the caller's retry says so.
        guard let transaction = open.value else { throw TransactionTimedOut(limit: leaseLimit, statement: nil) }
        let timedOut = TransactionTimedOut(limit: limit, statement: transaction.statementSent)
        logger.error("\(timedOut); closing its connection")
        try? await transaction.connection.close()
        throw timedOut
    }

    /// `work`'s result, or nil when `deadline` returns first; `work` is not waited for after that.
    /// `deadline` throws when it is cancelled, as `work` finished.
    private static func outcome<T: Sendable>(
        of work: Task<T, any Error>, deadline: @escaping @Sendable () async throws -> Void
    ) async -> Swift.Result<T, any Error>? {
        let decided = FirstAnswer<Swift.Result<T, any Error>?>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                decided.wait(with: continuation)
                let timer = Task {
                    do { try await deadline() } catch { return }
                    decided.answer(nil)
                }
                Task {
                    let result = await work.result
                    timer.cancel()
                    decided.answer(result)
                }
            }
        } onCancel: {
            work.cancel()
        }
    }

    /// `body` on a leased connection that is open. The pool can hand out a connection that closed
    /// while it was idle (the server restarted, a transaction past its time limit was closed)
    /// before it noticed: that one goes back, and another is leased, a few times, before anything
    /// is sent on it.
    private nonisolated(nonsending) func withOpenConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        for _ in 0..<3 {
            do {
                return try await client.withConnection { connection in
                    if connection.isClosed { throw StaleConnection() }
                    return try await body(connection)
                }
            } catch is StaleConnection {
                continue
            }
        }
        throw ConnectionClosed()
    }

    /// One transaction on a leased connection: commits when `body` returns, rolls back and
    /// rethrows `body`'s own error when it throws. On the caller's executor, like `body`, which
    /// need not be Sendable.
    private nonisolated(nonsending) func run<Result: Sendable>(
        _ transaction: Transaction, _ scope: DistrictScope, scopeSetByBody: Bool, _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        try await transaction.execute("BEGIN")
        do {
            if !scopeSetByBody { try await transaction.scope(to: scope) }
            let result = try await body(transaction)
            try await transaction.execute("COMMIT")
            if transaction.effects.outboxWritten.load(ordering: .relaxed) { outboxDoorbell.ring() }
            return result
        } catch {
            // A connection that closed (the server restarted) has nothing to roll back, and a
            // statement written to it would never be answered.
            if !transaction.connection.isClosed { try? await transaction.execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body`'s statements on one pooled connection outside any transaction (each statement
    /// its own) and with no district scope: one round trip a statement instead of four (BEGIN,
    /// scope, statement, COMMIT). For tables without a district policy, such as the public read
    /// model; district tables look empty here, so a misuse shows nothing rather than too much.
    public func unscopedReads<Result: Sendable>(_ body: (Transaction) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await body(Transaction(connection: connection, logger: logger))
        }
    }

    /// Runs `body` while the connection pool runs, for commands that are not a service group.
    public func running<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let client = self.client
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Whether the server answers a trivial query within `timeout`; the pool keeps trying to
    /// connect to an absent server, so a ping must not wait for it.
    public func ping(timeout: Duration = .seconds(2)) async -> Bool {
        let (client, logger) = (self.client, self.logger)
        // Raced like a timed transaction: a query on a connection closing under it may never be
        // answered, and the check must still say no in time.
        let work = Task {
            try await client.query("SELECT 1", logger: logger)
            return true
        }
        guard let answered = await Self.outcome(of: work, deadline: { try await Task.sleep(for: timeout) }) else {
            work.cancel()
            return false
        }
        return (try? answered.get()) ?? false
    }
}

/// A leased connection that had closed in the pool (see `Database.withOpenConnection`).
private struct StaleConnection: Error {}

/// A continuation resumed by whichever of several tasks answers first; later answers are dropped.
private final class FirstAnswer<Value: Sendable>: Sendable {
    private let waiting = Mutex<CheckedContinuation<Value, Never>?>(nil)
    func wait(with continuation: CheckedContinuation<Value, Never>) { waiting.withLock { $0 = continuation } }
    func answer(_ value: Value) { waiting.withLock { $0.take() }?.resume(returning: value) }
}

/// A value one task sets and another reads.
private final class Latest<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)
    var value: Value? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

/// One open transaction on a leased connection. Queries bind their interpolated values.
public struct Transaction: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger
    let effects = Effects()

    /// What a transaction did that matters after it commits, and the statement it sent last.
    final class Effects: Sendable {
        let outboxWritten = Atomic(false)
        let lastStatement = Mutex<String?>(nil)
    }

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Notes that the transaction wrote outbox rows: its commit rings the relay's doorbell.
    public func wroteOutbox() {
        effects.outboxWritten.store(true, ordering: .relaxed)
    }

    /// The statement this transaction sent last (its SQL, without values): what a transaction that
    /// ran out of time was waiting for.
    public var statementSent: String? { effects.lastStatement.withLock { $0 } }

    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try checkOpen()
        effects.lastStatement.withLock { $0 = query.sql }
        return try await connection.query(query, logger: logger, file: file, line: line)
    }

    /// Runs a statement and discards its rows.
    public func execute(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws {
        for try await _ in try await self.query(query, file: file, line: line) {}
    }

    /// PostgresNIO (1.33) drops a statement written to a connection that has closed without
    /// answering it, and the caller waits for ever: after a PostgreSQL restart that stopped every
    /// consumer and relay for good. A closed connection is refused here instead.
    private func checkOpen() throws {
        if connection.isClosed { throw ConnectionClosed() }
    }

    /// Changes the district scope for the rest of the transaction (`SET LOCAL`).
    public func scope(to scope: DistrictScope) async throws {
        try await execute("SELECT set_config('app.district', \(scope.setting), true)")
    }

    /// Waits for, then holds until commit or rollback, the advisory lock named `name`: the way
    /// to make one kind of change at a time (a district's grouping, its rule versions).
    public func lock(_ name: String) async throws {
        try await execute("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))")
    }

    /// The value to pass to `set_config('app.district', $1, true)` in a statement of the body's
    /// own, for transactions opened with `scopeSetByBody`.
    public static func scopeSetting(_ scope: DistrictScope) -> String { scope.setting }
}
