import ArgumentParser
import Foundation
import Logging
import Messaging
import Operations
import PublicityService
import Storage

/// `proposals-ctl check`: the invariants of a finished run, read from the store and the topics.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the invariants after a run has drained: nothing lost, nothing applied twice, nothing left behind.",
        discussion: """
            Reads PostgreSQL and the topics and reports, one line each: every accepted clue in triage \\
            exactly once; every event on each consumer group's input topics applied by it exactly once \\
            (recorded in processed_events with its effects) or dead-lettered; no outbox row left \\
            unsent; every proposal's history a walk the state machine accepts; the public read model \\
            equal to one rebuilt from the topics (in a scratch schema, dropped afterwards); and the \\
            dead-letter topics holding only the poison the run put there (--expected-dead-letters). \\
            Run it once the services have drained (consumer lag 0). Exit code 0 when all hold, 1 \\
            naming the first broken invariant. Needs DATABASE_URL and KAFKA_BROKERS.
            """)

    @Option(help: "How many messages the run meant to be dead-lettered (poison it published).")
    var expectedDeadLetters = 0

    @Flag(help: "Do not rebuild the read model to compare (quicker on a large store).")
    var skipReadModel = false

    @Flag(help: "Print JSON instead of lines.")
    var json = false

    func validate() throws {
        guard expectedDeadLetters >= 0 else { throw ValidationError("--expected-dead-letters: 0 or more") }
    }

    static func check(database: Database, kafka: KafkaConfiguration, expected: Int, skipReadModel: Bool) async throws -> [InvariantFinding] {
        let logger = Environment.logger
        var checker = InvariantChecker(database: database, kafka: kafka, logger: logger, expectedDeadLetters: expected)
        if !skipReadModel {
            checker.rebuildReadModel = { schema in
                try await PublicReadModel.rebuild(into: schema, database: database, kafka: kafka, logger: logger)
            }
        }
        return try await checker.check()
    }

    func run() async throws {
        let kafka = try Environment.kafka()
        let (expected, skip) = (expectedDeadLetters, skipReadModel)
        let findings: [InvariantFinding] = try await withDatabase { (database: Database) async throws -> [InvariantFinding] in
            try await Self.check(database: database, kafka: kafka, expected: expected, skipReadModel: skip)
        }
        if json {
            struct Line: Encodable { var invariant: String; var holds: Bool; var detail: String }
            try printJSON(findings.map { Line(invariant: $0.name, holds: $0.holds, detail: $0.detail) })
        } else {
            for finding in findings { print("\(finding.holds ? "ok    " : "BROKEN") \(finding.name): \(finding.detail)") }
        }
        if let broken = findings.first(where: { !$0.holds }) {
            throw CommandFailure("invariant broken: \(broken.name): \(broken.detail)")
        }
    }
}
