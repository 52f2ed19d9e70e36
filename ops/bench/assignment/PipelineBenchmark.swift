import ArgumentParser
import AssignmentService
import BenchSupport
import Foundation
import Logging
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Similarity
import Storage

/// Taking filed proposals in end to end: a district with 500 handling units and 100,000 past
/// proposals already assigned; then `measure` proposals are filed and their `proposal.filed`
/// events published before the assignment service (the real one, in this process) starts, so it
/// consumes a backlog: reads each proposal, suggests units, assigns the confident ones at once
/// (the district allows it), and commits cases, assignments, history and outbox events.
/// Prints the events/s processed against the issue's 1,000/s.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Assignment events/s (consume proposal.filed, suggest, assign, commit) with a district's past proposals.")

    @Option(help: "Past proposals (assigned, with their units) already in the district.") var past = 100_000
    @Option(help: "Proposals filed and announced before the service starts; the measurement is taking them in.") var measure = 20_000
    @Option(help: "Handling units in the district's directory.") var units = 500
    @Option(help: "Past proposals per transaction while preloading.") var loadBatch = 5_000
    @Option(help: "Assignment instances (one consumer group; each loads the district's past proposals at its first batch).") var instances = 1
    @Option(help: "Most messages a consumer applies per transaction (CONSUMER_MAX_BATCH).") var consumerBatch = 500
    @Option(help: "Seed of the generated directory and proposals.") var seed: UInt64 = 42

    /// Auto-assignment on, with thresholds a clear suggestion passes.
    static let settings = #"{"autoAssignment":{"enabled":true,"minimumScore":3,"minimumMargin":0.5}}"#
    /// Past cases keep no suggestion of their own; only their units matter to later proposals.
    static let emptySuggestion = #"{"lead":[],"coUnits":[],"similarProposals":[]}"#

    func validate() throws {
        guard past >= 0, measure > 0, units > 0, loadBatch > 0, instances > 0, consumerBatch > 0 else {
            throw ValidationError("--measure, --units, --load-batch, --instances and --consumer-batch must be positive, --past not negative")
        }
    }

    func run() async throws {
        do {
            try await measureAssignment()
        } catch let error as PSQLError {
            throw ValidationError("PostgreSQL: \(String(String(reflecting: error).prefix(2_000)))")
        }
    }

    /// A generated proposal with the identity it is stored under.
    struct StoredProposal {
        var id: UUID
        var caseNumber: String
        var proposal: GeneratedProposal
    }

    func measureAssignment() async throws {
        var logger = Logger(label: "bench-assignment")
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
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute("INSERT INTO districts (code, name, tracking_prefix) VALUES ('bench', '基准区', 'BN') ON CONFLICT DO NOTHING")
            try await transaction.execute("UPDATE districts SET assignment_settings = \(Self.settings)::jsonb WHERE code = 'bench'")
        }

        // The directory: the same units (and ids) in every run, so a rerun on the same database adds none.
        let directory = DistrictDirectory(units: units, seed: seed)
        let entries = directory.units
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO handling_units (id, district, code, name, kind, domains, keywords, contacts, active, version, updated_by)
                SELECT id, \(district.rawValue), code, name, kind, string_to_array(domains, '|'), string_to_array(keywords, '|'),
                       '[]'::jsonb, true, 1, 'bench'
                FROM unnest(\(entries.map(\.id))::uuid[], \(entries.map(\.code))::text[], \(entries.map(\.name))::text[],
                            \(entries.map(\.kind.rawValue))::text[], \(entries.map { $0.domainCodes.joined(separator: "|") })::text[],
                            \(entries.map { $0.keywords.joined(separator: "|") })::text[])
                     AS u(id, code, name, kind, domains, keywords)
                ON CONFLICT DO NOTHING
                """)
        }
        print(directory.summary)

        // The district's past: proposals assigned in earlier years, each case with its signature
        // and the units that handled it (lead first). Case numbers of this run's own, so a rerun
        // on the same database does not collide.
        let prefix = "BN\(Int.random(in: 1000...9999))"
        let hasher = MinHasher()
        var proposals = ProposalStream(directory: directory, count: past + measure, seed: seed &+ 1).makeIterator()
        let loadStart = ContinuousClock.now
        var loaded = 0
        while loaded < past {
            var chunk: [StoredProposal] = []
            while chunk.count < min(loadBatch, past - loaded), let proposal = proposals.next() {
                let number = CaseNumber(prefix: prefix, session: 1, year: 2025, sequence: loaded + chunk.count + 1)
                chunk.append(StoredProposal(id: UUID(), caseNumber: number.rawValue, proposal: proposal))
            }
            guard !chunk.isEmpty else { break }
            let signatures = chunk.map { SignatureCoding.hex(hasher.signature(ofText: $0.proposal.text)) }
            let handlers = chunk.map { stored in
                var ids = [entries[stored.proposal.responsible].id]
                if let coUnit = stored.proposal.coUnit { ids.append(entries[coUnit].id) }
                return ids.map(\.uuidString).joined(separator: ",")
            }
            let filedAt = Date(timeIntervalSinceNow: -86_400)
            try await database.transaction(.district(district)) { transaction in
                try await insertProposals(chunk, status: "assigned", year: 2025, filedAt: filedAt, district: district, in: transaction)
                try await transaction.execute(
                    """
                    INSERT INTO assignment_cases (proposal_id, district, case_number, title, kind, domain, state, filed_at, suggestion,
                                                  signature, round, handled_by)
                    SELECT id, \(district.rawValue), case_number, title, 'citizen', domain, 'assigned', \(filedAt),
                           \(Self.emptySuggestion)::jsonb, decode(signature, 'hex'), 1, string_to_array(handled_by, ',')::uuid[]
                    FROM unnest(\(chunk.map(\.id))::uuid[], \(chunk.map(\.caseNumber))::text[], \(chunk.map(\.proposal.title))::text[],
                                \(chunk.map(\.proposal.domain))::text[], \(signatures)::text[], \(handlers)::text[])
                         AS c(id, case_number, title, domain, signature, handled_by)
                    """)
            }
            loaded += chunk.count
            progress.report("preloading past proposals", done: loaded, of: past, since: loadStart)
        }
        print(
            String(
                format: "preloaded: %d past proposals and their cases in %.0f s (%.0f/s, %d per transaction)",
                loaded, seconds(since: loadStart), Double(loaded) / max(seconds(since: loadStart), 0.001), loadBatch))

        // New proposals as the committee files them, each announced on triage-events. All of
        // them before the service starts: the measurement is the service working off a backlog.
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let topic = kafka.topicName(TopicCatalogue.triageEvents.name)
        var responsible: [UUID: UUID] = [:]
        var announced = 0
        let announceStart = ContinuousClock.now
        while announced < measure {
            var chunk: [StoredProposal] = []
            while chunk.count < min(1_000, measure - announced), let proposal = proposals.next() {
                let number = CaseNumber(prefix: prefix, session: 1, year: 2026, sequence: announced + chunk.count + 1)
                chunk.append(StoredProposal(id: UUID(), caseNumber: number.rawValue, proposal: proposal))
            }
            guard !chunk.isEmpty else { break }
            try await database.transaction(.district(district)) { transaction in
                try await insertProposals(chunk, status: "filed", year: 2026, filedAt: Date(), district: district, in: transaction)
            }
            let messages = try chunk.map { stored in
                let filed = ProposalFiled(
                    proposalID: stored.id, caseNumber: CaseNumber(rawValue: stored.caseNumber), session: 1, year: 2026, fastTrack: true,
                    domain: stored.proposal.domain, committee: nil, clueIDs: [])
                let envelope = try EventEnvelope(filed, district: district, occurredAt: Date())
                return OutgoingMessage(topic: topic, key: stored.id.uuidString, value: try envelope.encoded())
            }
            for result in await producer.send(messages) { _ = try result.get() }
            for stored in chunk { responsible[stored.id] = entries[stored.proposal.responsible].id }
            announced += chunk.count
            progress.report("filing and announcing", done: announced, of: measure, since: announceStart)
        }
        await producer.close()
        print("announced: \(announced) proposal.filed events on \(topic) (the backlog assignment starts from)")

        // CaseRepository taken in from here on have a higher change number than any case now.
        let baseline = try await lastChange(in: district, database: database)

        // The assignment service, as deployed, against that backlog: `instances` of it in one consumer group.
        let serviceStart = ContinuousClock.now
        let apps = try (1...instances).map { number in
            let configuration = ServiceConfiguration(
                service: .assignment, instanceID: "assignment-bench-\(number)", httpPort: 0, database: databaseConfiguration, kafka: kafka,
                logLevel: .error, tokenSecret: String(repeating: "b", count: 32), consumerMaxBatch: consumerBatch)
            return try ServiceApp(AssignmentService.definition, configuration: configuration, handleSignals: false)
        }
        let services = apps.map { app in Task { try await app.run() } }
        var firstSeen: (at: ContinuousClock.Instant, done: Int)?
        var done = 0
        var lastProgress = (at: ContinuousClock.now, done: 0)
        while done < announced {
            try await Task.sleep(for: .milliseconds(100))
            done = try await takenIn(since: baseline, in: district, database: database)
            if firstSeen == nil, done > 0 { firstSeen = (at: ContinuousClock.now, done: done) }
            if let firstSeen { progress.report("taking in", done: done, of: announced, since: firstSeen.at) }
            if done > lastProgress.done {
                lastProgress = (at: ContinuousClock.now, done: done)
            } else if ContinuousClock.now - lastProgress.at > .seconds(120) {
                // Stuck (events dead-lettered, a service down): stop rather than wait for ever.
                for app in apps { await app.shutdown() }
                for service in services { _ = try? await service.value }
                throw ValidationError(
                    "no proposal taken in for 120 s (\(done) of \(announced)); see the dead-letter topic \(kafka.topicName(TopicCatalogue.triageEvents.deadLetterName))"
                )
            }
        }
        let finished = ContinuousClock.now
        for app in apps { await app.shutdown() }
        for service in services { try await service.value }

        // How they were taken in: assigned at once, or waiting for staff; and whether to the right unit.
        let expected = responsible
        let (automatic, automaticRight, suggestedRight) = try await database.transaction(.district(district)) {
            (transaction: Transaction) async throws -> (Int, Int, Int) in
            var automatic = 0, automaticRight = 0, suggestedRight = 0
            let rows = try await transaction.query(
                """
                SELECT proposal_id, state, handled_by[1], (suggestion->'lead'->0->>'unitId')::uuid
                FROM assignment_cases WHERE district = \(district.rawValue) AND change_seq > \(baseline)
                """)
            for try await (id, state, lead, suggested) in rows.decode((UUID, String, UUID?, UUID?).self) {
                let unit = expected[id]
                if state == "assigned" {
                    automatic += 1
                    if lead == unit { automaticRight += 1 }
                }
                if suggested == unit { suggestedRight += 1 }
            }
            return (automatic, automaticRight, suggestedRight)
        }

        guard let firstSeen else { throw ValidationError("no proposal was announced") }
        let (start, atStart) = (firstSeen.at, firstSeen.done)
        let sustainedCount = done - atStart
        let sustainedSeconds = seconds(finished - start)
        let sustained = sustainedCount > 0 ? Double(sustainedCount) / max(sustainedSeconds, 0.001) : 0
        let overallSeconds = seconds(finished - serviceStart)
        let overall = Double(done) / overallSeconds
        print(
            String(
                format:
                    "assignment: %.0f events/s sustained (%d proposals taken in over %.1f s after the first batch committed); %.0f events/s overall (%d in %.1f s from the service's start, which includes reading %d past proposals into its index); %d instance(s), batches of up to %d",
                sustained, sustainedCount, sustainedSeconds, overall, done, overallSeconds, loaded, instances, consumerBatch))
        print(
            String(
                format:
                    "taken in: %d cases; assigned automatically: %d (%.1f %%), %d of them to the responsible unit (%.1f %%); top suggestion is the responsible unit for %.1f %%; the others await staff",
                done, automatic, percent(automatic, of: done), automaticRight, percent(automaticRight, of: automatic),
                percent(suggestedRight, of: done)))
        let rate = sustainedCount > 0 ? sustained : overall
        print(
            "target ≥ 1,000 events/s: \(rate >= 1_000 ? "met" : "NOT met") (\(Int(rate.rounded())) events/s \(sustainedCount > 0 ? "sustained" : "overall"))"
        )
    }

    /// Proposals as filing leaves them: fast-track citizens' proposals with a case number, filed
    /// (reviewed) at `filedAt`.
    func insertProposals(
        _ chunk: [StoredProposal], status: String, year: Int, filedAt: Date, district: DistrictCode, in transaction: Transaction
    ) async throws {
        try await transaction.execute(
            """
            INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, domain, fast_track,
                                   drafted_by, case_number, session, year, reviewed_at)
            SELECT id, \(district.rawValue), \(status), title, case_summary, reasons, suggestions, '[]'::jsonb, domain, true,
                   'bench', case_number, 1, \(year), \(filedAt)
            FROM unnest(\(chunk.map(\.id))::uuid[], \(chunk.map(\.caseNumber))::text[], \(chunk.map(\.proposal.title))::text[],
                        \(chunk.map(\.proposal.caseSummary))::text[], \(chunk.map(\.proposal.reasons))::text[],
                        \(chunk.map(\.proposal.suggestions))::text[], \(chunk.map(\.proposal.domain))::text[])
                 AS p(id, case_number, title, case_summary, reasons, suggestions, domain)
            """)
    }

    /// The highest change number of the district's cases.
    func lastChange(in district: DistrictCode, database: Database) async throws -> Int64 {
        try await database.transaction(.district(district)) { transaction in
            for try await change in try await transaction.query(
                "SELECT coalesce(max(change_seq), 0) FROM assignment_cases WHERE district = \(district.rawValue)"
            ).decode(Int64.self) { return change }
            return 0
        }
    }

    /// CaseRepository created (or changed) since `baseline`: only the service writes cases now, and each
    /// proposal it takes in is one new case, assigned or not.
    func takenIn(since baseline: Int64, in district: DistrictCode, database: Database) async throws -> Int {
        try await database.transaction(.district(district)) { transaction in
            for try await count in try await transaction.query(
                "SELECT count(*)::int FROM assignment_cases WHERE district = \(district.rawValue) AND change_seq > \(baseline)"
            ).decode(Int.self) { return count }
            return 0
        }
    }
}
