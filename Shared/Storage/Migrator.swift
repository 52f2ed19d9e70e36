import Crypto
import Foundation
import Logging
import PostgresNIO

public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String

    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
}

/// Applies the versioned SQL files of `Migrations/` in order, each in its own transaction, and
/// records them. A session advisory lock makes concurrent runs from several processes safe:
/// the second waits, then finds nothing left to do.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    private static let lockKey: Int64 = 0x7072_6f70_6f73_616c  // "proposal"

    public init(migrations: [Migration] = Migrator.bundled()) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The migrations shipped with this module: files named `NNNN_name.sql`.
    public static func bundled() -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        else { return [] }
        return files.filter { $0.pathExtension == "sql" }.compactMap { file in
            let stem = file.deletingPathExtension().lastPathComponent
            guard let separator = stem.firstIndex(of: "_"), let version = Int(stem[..<separator]),
                let sql = try? String(contentsOf: file, encoding: .utf8)
            else { return nil }
            return Migration(version: version, name: String(stem[stem.index(after: separator)...]), sql: sql)
        }
        // The directory lists files in no particular order.
        .sorted { $0.version < $1.version }
    }

    /// Applies what is missing; returns the versions applied by this call.
    @discardableResult
    public func migrate(_ database: Database, logger: Logger) async throws -> [Int] {
        try await database.client.withConnection { connection in
            let session = Transaction(connection: connection, logger: logger)
            try await session.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
            do {
                let applied = try await apply(on: session, logger: logger)
                try await session.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return applied
            } catch {
                try? await session.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                throw error
            }
        }
    }

    private func apply(on session: Transaction, logger: Logger) async throws -> [Int] {
        try await session.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var recorded: [Int: String] = [:]
        for try await (version, checksum) in try await session.query("SELECT version, checksum FROM schema_migrations").decode((Int, String).self) {
            recorded[version] = checksum
        }
        // A database migrated by a newer release: this binary's code does not know its tables.
        let known = migrations.last?.version ?? 0
        if let newest = recorded.keys.max(), newest > known {
            throw MigrationError(
                description: """
                    the database is at schema version \(newest), newer than the \(known) this binary knows; \
                    run the proposals-ctl of the release that migrated it (or a newer one), never an older one
                    """)
        }
        var applied: [Int] = []
        for migration in migrations {
            if let checksum = recorded[migration.version] {
                guard checksum == migration.checksum else {
                    throw MigrationError(
                        description:
                            "migration \(migration.version) (\(migration.name)) was changed after it was applied; add a new migration instead")
                }
                continue
            }
            logger.info("applying migration \(migration.version) \(migration.name)")
            try await session.execute("BEGIN")
            do {
                for statement in SQLScript.statements(in: migration.sql) {
                    try await session.execute(PostgresQuery(unsafeSQL: statement))
                }
                try await session.execute(
                    """
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """)
                try await session.execute("COMMIT")
            } catch {
                try? await session.execute("ROLLBACK")
                throw MigrationError(description: "migration \(migration.version) (\(migration.name)) failed: \(String(reflecting: error))")
            }
            applied.append(migration.version)
        }
        return applied
    }
}
