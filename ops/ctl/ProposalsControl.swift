// proposals-ctl: the operator's command line. Reads DATABASE_URL, KAFKA_BROKERS and the other
// variables of docs/configuration.md, like the services do.
import ArgumentParser
import Foundation
import Logging
import Messaging
import Models
import ServiceKit
import Storage

@main
struct ProposalsControl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proposals-ctl",
        abstract: "Operate the citizens' proposals pipeline: database, topics, lag, dead letters, outbox, replays, demo data, credentials.",
        discussion: """
            Reads the variables of docs/configuration.md (DATABASE_URL, KAFKA_BROKERS, \
            KAFKA_TOPIC_PREFIX, KAFKA_PROPERTIES, TOKEN_SECRET), each command only those it needs. \
            Exit codes: 0 done, 1 failed, 2 bad command line or configuration.
            """,
        subcommands: [
            Migrate.self, Topics.self, Lag.self, DeadLetterCommands.self, OutboxCommands.self, Replay.self,
            Districts.self, SeedDemo.self, Token.self, ServiceAccounts.self, IntegrationKeys.self, Accounts.self, Dashboard.self, Check.self,
        ])

    /// ArgumentParser exits 64 on usage errors; operators' scripts expect 2, like the services'
    /// configuration errors.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("proposals-ctl: \(failure.description)\n".utf8))
            Foundation.exit(1)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// A command that could not do its work for a reason the operator should read (exit code 1).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Environment shared by the subcommands; only what a command uses is required.
struct Environment {
    static func database(logger: Logger) throws -> Database {
        let reader = EnvironmentReader()
        let url = reader.string("DATABASE_URL", help: "postgres://user:password@host:port/database")
        try reader.validate()
        guard let configuration = DatabaseConfiguration(url: url) else {
            throw ValidationError("DATABASE_URL: must look like postgres://user:password@host:port/database")
        }
        return Database(configuration: configuration, logger: logger)
    }

    static func kafka() throws -> KafkaConfiguration {
        let reader = EnvironmentReader()
        let brokers = reader.string("KAFKA_BROKERS", help: "comma-separated host:port list")
        let prefix = reader.string("KAFKA_TOPIC_PREFIX", default: "", help: "")
        let properties = ServiceConfiguration.parseProperties(reader.optionalString("KAFKA_PROPERTIES"), reader: reader)
        try reader.validate()
        return KafkaConfiguration(
            brokers: brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, clientID: "proposals-ctl",
            topicPrefix: prefix, properties: properties)
    }

    static var logger: Logger {
        var logger = Logger(label: "proposals-ctl")
        logger.logLevel = .error
        return logger
    }
}

/// Runs `body` while the database client runs.
func withDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
    let database = try Environment.database(logger: Environment.logger)
    return try await database.running { try await body(database) }
}

/// Runs `body` with an admin client of the cluster, closed afterwards.
func withAdmin<T: Sendable>(_ kafka: KafkaConfiguration, _ body: (KafkaAdmin) async throws -> T) async throws -> T {
    let admin = try KafkaAdmin(configuration: kafka, logger: Environment.logger)
    do {
        let result = try await body(admin)
        await admin.close()
        return result
    } catch {
        await admin.close()
        throw error
    }
}

/// Prints rows as aligned columns (the first row is the header).
func printTable(_ rows: [[String]]) {
    guard let columns = rows.map(\.count).max() else { return }
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? displayWidth($0[column]) : 0 }.max() ?? 0 }
    for row in rows {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - displayWidth(cell))
        }
        print(cells.joined(separator: "  "))
    }
}

/// Columns a terminal gives `text`: Chinese characters take two.
func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { width, scalar in
        width
            + ((0x1100...0x115F).contains(scalar.value) || (0x2E80...0xA4CF).contains(scalar.value) || (0xAC00...0xD7A3).contains(scalar.value)
                || (0xF900...0xFAFF).contains(scalar.value) || (0xFF00...0xFF60).contains(scalar.value) ? 2 : 1)
    }
}

/// JSON for `--json` output: sorted keys, pretty, ISO dates.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database migrations that are missing (safe to run from several processes at once).")

    func run() async throws {
        let logger = Environment.logger
        let applied = try await withDatabase { database in try await Migrator().migrate(database, logger: logger) }
        print(applied.isEmpty ? "database is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
    }
}
