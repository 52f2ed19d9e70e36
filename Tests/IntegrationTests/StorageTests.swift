import Foundation
import Models
import PostgresNIO
import Storage
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2)))
struct StorageTests {
    @Test func migrationsRunConcurrentlyFromSeveralProcessesApplyOnce() async throws {
        let server = try TestEnvironment.databaseServer()
        let name = "m_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = Database(configuration: server, logger: TestEnvironment.logger)
        let adminRunner = Task { await admin.client.run() }
        try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestEnvironment.logger)
        adminRunner.cancel()

        // Four clients, as four processes would have, migrate at once.
        let clients = (0..<4).map { _ in Database(configuration: server.with(database: name), logger: TestEnvironment.logger) }
        let runners = clients.map { database in Task { await database.client.run() } }
        defer { runners.forEach { $0.cancel() } }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for database in clients {
                group.addTask { try await Migrator().migrate(database, logger: TestEnvironment.logger) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let expected = Migrator.bundled().map(\.version)
        #expect(applied.sorted() == expected, "each migration applied by exactly one of them")
        let recorded = try await clients[0].transaction(.none) { transaction in
            try await transaction.query("SELECT version FROM schema_migrations ORDER BY version").decode(Int.self).reduce(into: [Int]()) {
                $0.append($1)
            }
        }
        #expect(recorded == expected)
        #expect(try await Migrator().migrate(clients[1], logger: TestEnvironment.logger).isEmpty)

        // A migration edited after it was applied is refused, not silently skipped.
        try await clients[0].transaction(.none) { transaction in
            try await transaction.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        }
        await #expect {
            try await Migrator().migrate(clients[2], logger: TestEnvironment.logger)
        } throws: { error in
            String(describing: error).contains("was changed after it was applied")
        }
    }

    @Test func districtScopeIsEnforcedByRowLevelSecurity() async throws {
        let store = try await TestDatabase()
        let database = store.database
        let tianhe = DistrictCode(rawValue: "tianhe")!
        func insertClue(_ district: DistrictCode, scope: DistrictScope) async throws {
            try await database.transaction(scope) { transaction in
                try await transaction.execute(
                    """
                    INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions,
                                       source_category, channel, is_anonymous, received_at)
                    VALUES (\(UUID()), \(district.rawValue), \(UUID().uuidString), 't', 's', 's', 'community', 'web', true, now())
                    """)
            }
        }
        try await insertClue(haizhu, scope: .district(haizhu))
        try await insertClue(tianhe, scope: .district(tianhe))
        try await insertClue(tianhe, scope: .district(tianhe))

        #expect(try await store.integer("SELECT count(*)::int FROM clues", scope: .district(haizhu)) == 1)
        #expect(try await store.integer("SELECT count(*)::int FROM clues", scope: .district(tianhe)) == 2)
        #expect(try await store.integer("SELECT count(*)::int FROM clues", scope: .allDistricts) == 3)
        #expect(try await store.integer("SELECT count(*)::int FROM clues", scope: .none) == 0)
        await #expect(throws: PSQLError.self, "a haizhu transaction cannot write a tianhe clue") {
            try await insertClue(tianhe, scope: .district(haizhu))
        }
        await #expect(throws: PSQLError.self, "system-wide reads cannot write") {
            try await insertClue(haizhu, scope: .allDistricts)
        }
        // Statements outside a transaction carry no scope, even on a connection that just ran
        // scoped transactions: district tables look empty, tables without a policy do not.
        let (clues, districts) = try await database.unscopedReads { reads in
            var counts: [Int] = []
            for query: PostgresQuery in ["SELECT count(*)::int FROM clues", "SELECT count(*)::int FROM districts"] {
                for try await value in try await reads.query(query).decode(Int.self) { counts.append(value) }
            }
            return (counts[0], counts[1])
        }
        #expect(clues == 0)
        #expect(districts > 0)
        // The services' role must not bypass row-level security.
        let bypass = try await store.integer("SELECT (rolsuper OR rolbypassrls)::int FROM pg_roles WHERE rolname = current_user", scope: .none)
        #expect(bypass == 0)
    }

    @Test func aTransactionGivenATimeLimitGivesUpItsWaitAndSaysWhatItWaitedFor() async throws {
        let store = try await TestDatabase()
        try await store.execute("CREATE TABLE waits (n integer)")
        let database = store.database
        let release = try await store.lockTable("waits")

        await #expect {
            try await database.transaction(.none, timeLimit: .seconds(5)) { transaction in
                try await transaction.execute("INSERT INTO waits VALUES (1)")
            }
        } throws: { error in
            (error as? TransactionTimedOut)?.statement == "INSERT INTO waits VALUES (1)" && DatabaseFailure.classify(error) == .transient
        }
        release.finish()
        let answer = try await database.transaction(.none, timeLimit: .seconds(30)) { transaction in
            try await transaction.execute("INSERT INTO waits VALUES (2)")
            return "done"
        }
        #expect(answer == "done")
        // The given-up transaction never commits, even once its session gets the lock.
        #expect(try await store.integer("SELECT sum(n)::int FROM waits") == 2)

        // A statement written as the server closed the connection is never answered, and neither
        // closing the connection nor cancelling ends the wait: the transaction does not wait for it.
        let unanswered = Unanswered()
        await #expect {
            try await database.transaction(.none, timeLimit: .seconds(2)) { transaction in
                try await transaction.execute("SELECT 1")
                await unanswered.wait()
            }
        } throws: { error in
            (error as? TransactionTimedOut)?.statement == "SELECT 1"
        }
        unanswered.answer()

        // A pool whose only connection is in use: the wait for a lease is given up too.
        var one = store.configuration
        one.maximumConnections = 1
        let small = Database(configuration: one, logger: TestEnvironment.logger)
        try await small.running {
            let (released, hold) = AsyncStream<Void>.makeStream()
            let (leased, lease) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await small.transaction(.none) { _ in
                    lease.finish()
                    for await _ in released {}
                }
            }
            for await _ in leased {}
            await #expect {
                try await small.transaction(.none, timeLimit: .seconds(60), leaseLimit: .milliseconds(500)) { _ in }
            } throws: { error in
                guard let timedOut = error as? TransactionTimedOut else { return false }
                return timedOut.statement == nil && timedOut.limit == .milliseconds(500)
                    && timedOut.description.hasPrefix("no PostgreSQL connection")
            }
            hold.finish()
            try await holder.value
        }
    }

    @Test func outboxRowsRollBackWithTheirTransaction() async throws {
        let store = try await TestDatabase()
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await store.database.transaction(.district(haizhu)) { transaction in
                try await Outbox.append(try ping("k", 0), to: pingTopic, key: "k", in: transaction)
                throw Abort()
            }
        }
        #expect(try await store.integer("SELECT count(*)::int FROM outbox") == 0)
    }
}

/// A wait that neither cancellation nor anything else ends until `answer()`.
private final class Unanswered: Sendable {
    private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])
    func wait() async { await withCheckedContinuation { continuation in waiting.withLock { $0.append(continuation) } } }
    func answer() { for continuation in waiting.withLock({ $0 }) { continuation.resume() } }
}
