import ArgumentParser
import Foundation
import Models
import Operations

struct OutboxCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "The transactional outbox: events committed but not yet published.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unsent events per producing service and the age of the oldest (the OutboxBacklogOld alert's figure).")

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let found = try await withDatabase { database in try await OutboxStatus.read(database) }
            // Every producing service is listed, those with nothing pending too.
            let rows =
                ServiceName.allCases.map { service in
                    found.first { $0.source == service.rawValue } ?? OutboxBacklog(source: service.rawValue)
                } + found.filter { row in !ServiceName.allCases.contains { $0.rawValue == row.source } }
            if json { return try printJSON(rows) }
            let lines: [[String]] = rows.map { row in
                let oldest = row.oldestUnsentSeconds.map { String(format: "%.1f s", $0) } ?? "-"
                return [row.source, String(row.unsent), oldest, String(row.failing), String(row.publishedLastHour), row.lastError ?? ""]
            }
            printTable([["SOURCE", "UNSENT", "OLDEST UNSENT", "FAILING", "PUBLISHED (1 H)", "LAST ERROR"]] + lines)
        }
    }
}
