import ArgumentParser
import BenchSupport
import Foundation
import Logging
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import TriageService

/// Automatic triage end to end: a district's clue database already holds `preload` clues
/// (classified, grouped, their groups' bands in PostgreSQL); then `measure` new clues are
/// announced on intake-events and the triage service (the real one, in this process) consumes,
/// classifies, groups and commits them. Prints the sustained clues/s.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Automatic triage clues/s (consume, classify, group, commit) with a large clue database.")

    @Option(help: "Clues already in the district's clue database.") var preload = 1_000_000
    @Option(help: "Clues announced and triaged during the measurement.") var measure = 40_000
    @Option(help: "Clues per transaction while preloading.") var loadBatch = 5_000
    @Option(help: "Triage instances (one consumer group; each loads the district's groups at its first batch).") var instances = 1
    @Option(help: "Most messages a consumer applies per transaction (CONSUMER_MAX_BATCH).") var consumerBatch = 500

    func run() async throws {
        do {
            try await measureTriage()
        } catch let error as PSQLError {
            throw ValidationError("PostgreSQL: \(String(String(reflecting: error).prefix(2_000)))")
        }
    }

    func measureTriage() async throws {
        var logger = Logger(label: "bench-triage")
        logger.logLevel = .error
        let databaseConfiguration = try BenchEnvironment.database()
        let kafka = try BenchEnvironment.kafka()
        let progress = ProgressLine()
        print(machineLine())

        let database = Database(configuration: databaseConfiguration, logger: logger)
        let runner = Task { await database.client.run() }
        defer { runner.cancel() }
        try await Migrator().migrate(database, logger: logger)
        let district = DistrictCode(rawValue: "bench")!
        try await database.transaction(.none) { transaction in
            try await transaction.execute("INSERT INTO districts (code, name, tracking_prefix) VALUES ('bench', '基准区', 'BN') ON CONFLICT DO NOTHING")
        }

        // Numbers of this run's own, so a rerun on the same database does not collide.
        let prefix = "R\(Int.random(in: 1000...9999))"
        // The clue database as it stands after years of work.
        var clues = Corpus(count: preload + measure, seed: 11).makeIterator()
        let loader = ClueDatabaseLoader(database: database, logger: logger)
        let loadStart = ContinuousClock.now
        var loaded = 0
        while loaded < preload {
            var chunk: [HistoricalClue] = []
            while chunk.count < min(loadBatch, preload - loaded), let clue = clues.next() {
                chunk.append(
                    HistoricalClue(
                        id: UUID(), trackingNumber: TrackingNumber(prefix: prefix, year: 2025, sequence: loaded + chunk.count + 1).rawValue,
                        channel: .web, sourceCategory: .onlinePlatform, receivedAt: Date(), title: clue.title, situation: clue.situation,
                        suggestions: clue.suggestions))
            }
            try await loader.load(chunk, into: district)
            loaded += chunk.count
            progress.report("preloading", done: loaded, of: preload, since: loadStart)
        }
        let loadRate = Double(loaded) / seconds(since: loadStart)
        print(
            String(
                format: "preloaded: %d clues in %.0f s (%.0f clues/s, %d per transaction); %d groups",
                loaded, seconds(since: loadStart), loadRate, loadBatch, try await groups(district, database: database)))

        // New clues as intake stores and announces them.
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let topic = kafka.topicName(TopicCatalogue.intakeEvents.name)
        var announced = 0
        let announceStart = ContinuousClock.now
        while announced < measure {
            var chunk: [(UUID, String, Corpus.Clue)] = []
            while chunk.count < min(2_000, measure - announced), let clue = clues.next() {
                chunk.append((UUID(), TrackingNumber(prefix: prefix, year: 2026, sequence: announced + chunk.count + 1).rawValue, clue))
            }
            try await database.transaction(.district(district)) { transaction in
                try await transaction.execute(
                    """
                    INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category,
                                       channel, is_anonymous, received_at)
                    SELECT id, 'bench', number, title, situation, suggestions, 'online-platform', 'web', true, now()
                    FROM unnest(\(chunk.map(\.0))::uuid[], \(chunk.map(\.1))::text[], \(chunk.map(\.2.title))::text[],
                                \(chunk.map(\.2.situation))::text[], \(chunk.map(\.2.suggestions))::text[])
                         AS c(id, number, title, situation, suggestions)
                    """)
            }
            let messages = try chunk.map { id, number, _ in
                let envelope = try EventEnvelope(
                    ClueReceived(
                        clueID: id, trackingNumber: TrackingNumber(rawValue: number), channel: .web, sourceCategory: .onlinePlatform,
                        isAnonymous: true, receivedAt: Date()),
                    district: district, occurredAt: Date())
                return OutgoingMessage(topic: topic, key: id.uuidString, value: try envelope.encoded())
            }
            for result in await producer.send(messages) { _ = try result.get() }
            announced += chunk.count
            progress.report("announcing", done: announced, of: measure, since: announceStart)
        }
        await producer.close()
        print("announced: \(measure) clue-received events on \(topic) (the backlog triage starts from)")

        // The triage service, as deployed, against that backlog: `instances` of it in one consumer group.
        let apps = try (1...instances).map { number in
            let configuration = ServiceConfiguration(
                service: .triage, instanceID: "triage-bench-\(number)", httpPort: 0, database: databaseConfiguration, kafka: kafka,
                logLevel: .error, tokenSecret: String(repeating: "b", count: 32), consumerMaxBatch: consumerBatch)
            return try ServiceApp(TriageService.definition, configuration: configuration, handleSignals: false)
        }
        let services = apps.map { app in Task { try await app.run() } }
        let baseline = try await registered(district, database: database)
        var firstSeen: (ContinuousClock.Instant, Int)?
        var done = baseline
        while done < baseline + measure {
            try await Task.sleep(for: .milliseconds(50))
            done = try await registered(district, database: database)
            if firstSeen == nil, done > baseline { firstSeen = (ContinuousClock.now, done) }
            if let (start, _) = firstSeen { progress.report("triaging", done: done - baseline, of: measure, since: start) }
        }
        let finished = ContinuousClock.now
        for app in apps { await app.shutdown() }
        for service in services { try await service.value }
        let (start, atStart) = firstSeen!
        let elapsed = Double((finished - start).components.seconds) + Double((finished - start).components.attoseconds) / 1e18
        let groupsAfter = try await groups(district, database: database)
        print(
            String(
                format:
                    "automatic triage: %.0f clues/s end to end (consume, classify, group, commit; %d clues in %.1f s after the first batch committed; %d instance(s), batches of up to %d; %d groups now)",
                Double(baseline + measure - atStart) / elapsed, baseline + measure - atStart, elapsed, instances, consumerBatch, groupsAfter))
    }

    func registered(_ district: DistrictCode, database: Database) async throws -> Int {
        try await database.transaction(.district(district)) { transaction in
            for try await count in try await transaction.query("SELECT count(*)::int FROM triage_clues").decode(Int.self) { return count }
            return 0
        }
    }

    func groups(_ district: DistrictCode, database: Database) async throws -> Int {
        try await database.transaction(.district(district)) { transaction in
            for try await count in try await transaction.query(
                "SELECT count(*)::int FROM clue_groups WHERE merged_into IS NULL"
            ).decode(Int.self) { return count }
            return 0
        }
    }
}
