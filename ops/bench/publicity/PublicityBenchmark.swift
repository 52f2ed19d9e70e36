import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Crypto
import Foundation
import Logging
import Messaging
import Models
import NIOCore
import Operations
import PostgresNIO
import PublicityService
import ServiceKit
import Storage

/// The publicity service (the real one, in this process) against a district with `proposals`
/// filed proposals behind it:
/// 1. catch-up, in rounds of `round` proposals: the store gets what the upstream services wrote
///    (clues, proposals, assignments, replies, closures) and the topics their events, about five
///    per proposal; the service starts on that backlog, builds the public read model and stops.
///    Prints each round's events/s and the overall figure against ≥ 5,000/s. Rounds, because the
///    local mock broker keeps only about 5 MB per partition: a larger backlog would lose its
///    oldest events before the service read them (Apache Kafka keeps them by its retention).
/// 2. the feedback list: `readers` concurrent readers request list pages for `seconds`: the first
///    pages of the whole list and of filtered lists (district, status, year, unit), and pages
///    anywhere in the list. Prints p50/p90/p99/max per page against p99 ≤ 50 ms, with the page
///    cache as deployed (PUBLICITY_PAGE_CACHE_SECONDS, default 5) and, with `--no-cache`, without.
@main
struct PublicityBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-publicity",
        abstract:
            "Publicity: read-model catch-up (events/s) and feedback-list pages under concurrent readers (p99). Needs DATABASE_URL and KAFKA_BROKERS.")

    @Option(help: "Filed proposals in the district (each from one clue, assigned; half replied).") var proposals = 100_000
    @Option(help: "Proposals whose events make one catch-up round's backlog.") var round = 20_000
    @Option(help: "Concurrent readers of the feedback list.") var readers = 100
    @Option(help: "Seconds each reading round lasts.") var seconds = 20
    @Option(help: "Events applied per transaction by the service (CONSUMER_MAX_BATCH).") var consumerBatch = 1_000
    @Option(help: "Publicity instances in one consumer group catching up.") var instances = 1
    @Option(help: "Seconds a rendered page is reused (PUBLICITY_PAGE_CACHE_SECONDS).") var cacheSeconds = 5
    @Flag(help: "Also measure the reading round with the page cache off.") var noCache = false
    @Option(help: "Percent of requests for a page anywhere in the list (the rest: the first pages, whole or filtered).") var deepPercent = 5
    @Option(help: "wrk, to drive the readers with a lean load generator instead of this process's HTTP client.") var wrk: String?
    @Option(help: "wrk's threads (it shares the machine's cores with the service and PostgreSQL).") var wrkThreads = 2
    @Flag(help: "Skip the catch-up: read the feedback list of the read model a previous run left in DATABASE_URL.") var readOnly = false

    static let units = [
        "区交通运输局", "区教育局", "区卫生健康局", "区民政局", "区住房和建设局", "区城市管理和综合执法局", "区生态环境分局",
        "区公安分局", "区市场监督管理局", "区文化广电旅游体育局", "南华西街道办事处", "江南中街道办事处", "昌岗街道办事处",
    ]
    static let topics = ["电动自行车停放", "老旧小区加装电梯", "学校周边交通", "社区养老服务", "垃圾分类", "菜市场改造", "公园设施", "停车难"]

    func validate() throws {
        guard proposals > 0, round > 0, readers > 0, seconds > 0, consumerBatch > 0 else { throw ValidationError("the counts must be positive") }
    }

    func run() async throws {
        do {
            try await measure()
        } catch let error as PSQLError {
            throw ValidationError("PostgreSQL: \(String(String(reflecting: error).prefix(2_000)))")
        }
    }

    /// The id of the `index`th object of a kind, the same in SQL (`md5(kind || index)::uuid`) and here.
    static func id(_ kind: String, _ index: Int) -> UUID {
        let digest = Array(Insecure.MD5.hash(data: Data("\(kind)\(index)".utf8)))
        return UUID(
            uuid: (
                digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9],
                digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]
            ))
    }

    func measure() async throws {
        var logger = Logger(label: "bench-publicity")
        logger.logLevel = .error
        let databaseConfiguration = try BenchEnvironment.database()
        let kafka = try BenchEnvironment.kafka()
        print(machineLine())
        let database = Database(configuration: databaseConfiguration, logger: logger)
        let runner = Task { await database.client.run() }
        defer { runner.cancel() }
        try await Migrator().migrate(database, logger: logger)
        let district = DistrictCode(rawValue: "haizhu")!

        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute("INSERT INTO districts (code, name, tracking_prefix) VALUES ('haizhu', '海珠区', 'HZ') ON CONFLICT DO NOTHING")
        }
        let configuration = ServiceConfiguration(
            service: .publicity, instanceID: "publicity-bench", httpPort: 0, database: databaseConfiguration, kafka: kafka, logLevel: .error,
            tokenSecret: String(repeating: "b", count: 32), consumerMaxBatch: consumerBatch,
            environment: ["PUBLICITY_PAGE_CACHE_SECONDS": String(cacheSeconds)])

        // 1. Catch-up rounds: a backlog in store and topics, then the service on it.
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        var total = 0
        var measuredEvents = 0
        var measuredSeconds = 0.0
        for first in stride(from: 1, through: readOnly ? 0 : proposals, by: round) {
            let range = first...min(proposals, first + round - 1)
            let seedStart = ContinuousClock.now
            try await seedStore(range, database: database, district: district)
            let events = try await announce(range, kafka: kafka, district: district, logger: logger)
            let before = total
            total += events
            print(
                String(
                    format: "round %d–%d: store written and %d events announced in %.1f s", range.lowerBound, range.upperBound, events,
                    BenchSupport.seconds(since: seedStart)))
            let apps = try (1...instances).map { number in
                var instance = configuration
                instance.instanceID = "publicity-bench-\(number)"
                return try ServiceApp(PublicityService.definition, configuration: instance, handleSignals: false)
            }
            let services = apps.map { app in Task { try await app.run() } }
            let progress = ProgressLine()
            var firstSeen: (at: ContinuousClock.Instant, done: Int)?
            var done = before
            var lastProgress = (at: ContinuousClock.now, done: before)
            while done < total {
                try await Task.sleep(for: .milliseconds(100))
                done = total - (try await unread(admin: admin, kafka: kafka))
                if firstSeen == nil, done > before { firstSeen = (ContinuousClock.now, done) }
                if let firstSeen { progress.report("read model catching up", done: done - before, of: events, since: firstSeen.at) }
                if done > lastProgress.done {
                    lastProgress = (ContinuousClock.now, done)
                } else if ContinuousClock.now - lastProgress.at > .seconds(60) {
                    for app in apps { await app.shutdown() }
                    throw ValidationError("no event applied for 60 s (\(done - before) of \(events) this round): events lost or dead-lettered")
                }
            }
            let finished = ContinuousClock.now
            for app in apps { await app.shutdown() }
            for service in services { try await service.value }
            guard let firstSeen else { throw ValidationError("nothing was applied") }
            // Offsets say the events were read; the store says they were applied.
            let applied = try await applied(database: database, kafka: kafka)
            guard applied == total else { throw ValidationError("\(total) events announced, \(applied) applied: events dead-lettered or lost") }
            let count = done - firstSeen.done
            let elapsed = BenchSupport.seconds(finished - firstSeen.at)
            measuredEvents += count
            measuredSeconds += elapsed
            print(
                String(
                    format: "round catch-up: %.0f events/s (%d events after the first batch committed, in %.1f s)",
                    Double(count) / max(elapsed, 0.001), count, elapsed))
        }
        let sustained = Double(measuredEvents) / max(measuredSeconds, 0.001)
        let listed = try await count("SELECT count(*)::int FROM public_proposals", database: database)
        if !readOnly {
            print(
                String(
                    format:
                        "catch-up: %.0f events/s over all rounds (%d events in %.1f s, batches of up to %d, %d instance(s)); %d proposals on the feedback list",
                    sustained, measuredEvents, measuredSeconds, consumerBatch, instances, listed))
            print("target ≥ 5,000 events/s: \(sustained >= 5_000 ? "met" : "NOT met") (\(Int(sustained.rounded())) events/s)")
        }
        let app = try ServiceApp(PublicityService.definition, configuration: configuration, handleSignals: false)
        let service = Task { try await app.run() }
        let port = await app.listeningPort() ?? 0

        // 2. Readers of the feedback list.
        // The catch-up's writes vacuumed and analysed now, so that autovacuum catching up on them
        // does not share the readers' two cores (in service, it keeps pace with a steady stream).
        try await database.client.query("VACUUM ANALYZE", logger: logger)
        let round = try await read(port: port, label: "with the page cache (\(cacheSeconds) s)")
        print(
            "target p99 ≤ 50 ms per page at \(readers) readers: \(round <= 0.050 ? "met" : "NOT met") (\(String(format: "%.1f", round * 1_000)) ms)")
        await app.shutdown()
        try await service.value

        if noCache {
            var uncached = configuration
            uncached.environment["PUBLICITY_PAGE_CACHE_SECONDS"] = "0"
            uncached.instanceID = "publicity-bench-uncached"
            let bare = try ServiceApp(PublicityService.definition, configuration: uncached, handleSignals: false)
            let task = Task { try await bare.run() }
            let barePort = await bare.listeningPort() ?? 0
            _ = try await read(port: barePort, label: "without the page cache")
            await bare.shutdown()
            try await task.value
        }
    }

    /// What the upstream services leave in the store for `proposals` filed proposals.
    func seedStore(_ range: ClosedRange<Int>, database: Database, district: DistrictCode) async throws {
        let (from, to) = (range.lowerBound, range.upperBound)
        let units = Self.units
        let topics = Self.topics
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                   is_anonymous, contact_name, contact_phone, received_at, consent_to_publish, submitted_by, status)
                SELECT md5('c' || i)::uuid, 'haizhu', 'HZ-2026-' || lpad(i::text, 7, '0'),
                       (\(topics)::text[])[1 + i % \(topics.count)] || '的建议（第 ' || i || ' 号）', '情况分析 ' || i,
                       '具体建议：请在第 ' || i || ' 号点位改进，联系人电话 138' || lpad((i % 100000000)::text, 8, '0'), 'online-platform',
                       (ARRAY['web', 'wechat', 'government-service-app', 'qr-code'])[1 + i % 4], false, '居民' || i, '13800000000',
                       timestamptz '2026-01-05 09:00+08' + (i % 300) * interval '1 day', i % 3 = 0, 'resident:bench', 'filed'
                FROM generate_series(\(from)::int, \(to)::int) i
                """)
            try await transaction.execute(
                """
                INSERT INTO triage_clues (clue_id, district, tracking_number, channel, received_at, domain, street, status, decided_at)
                SELECT id, district, tracking_number, channel, received_at, (ARRAY['交通', '教育', '卫生', '养老', '城市更新'])[1 + (substr(tracking_number, 9)::int % 5)],
                       (ARRAY['南华西街', '江南中街', '昌岗街', '素社街', '海幢街'])[1 + (substr(tracking_number, 9)::int % 5)], 'in-proposal',
                       received_at + interval '1 day'
                FROM clues WHERE district = 'haizhu' AND substr(tracking_number, 9)::int BETWEEN \(from)::int AND \(to)::int
                """)
            try await transaction.execute(
                """
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, clue_ids, domain, fast_track, drafted_by,
                                       case_number, session, year, reviewed_at, reviewed_by)
                SELECT md5('p' || i)::uuid, 'haizhu', 'filed', c.title, c.title, c.situation_analysis, c.specific_suggestions,
                       jsonb_build_array(jsonb_build_object('name', '委员' || (i % 300), 'kind', 'member'), jsonb_build_object('name', c.contact_name, 'kind', 'resident')),
                       ARRAY[c.id], t.domain, true, 'member-' || (i % 300), 'HZ-14-2026-' || lpad(i::text, 6, '0'), 14, 2026,
                       c.received_at + interval '5 days', 'committee-1'
                FROM generate_series(\(from)::int, \(to)::int) i JOIN clues c ON c.id = md5('c' || i)::uuid JOIN triage_clues t ON t.clue_id = c.id
                """)
            try await transaction.execute(
                """
                INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round, assigned_on, deadline, state)
                SELECT md5('a' || i)::uuid, 'haizhu', md5('p' || i)::uuid, 'HZ-14-2026-' || lpad(i::text, 6, '0'), md5('u' || (i % \(units.count)))::uuid,
                       (\(units)::text[])[1 + i % \(units.count)], 'lead', 1, date '2026-02-01' + (i % 300), date '2026-03-01' + (i % 300),
                       CASE WHEN i % 2 = 0 THEN 'replied' ELSE 'handling' END
                FROM generate_series(\(from)::int, \(to)::int) i
                """)
            try await transaction.execute(
                """
                INSERT INTO replies (id, district, assignment_id, proposal_id, text, category, on_time, replied_at, replied_by)
                SELECT md5('r' || i)::uuid, 'haizhu', md5('a' || i)::uuid, md5('p' || i)::uuid,
                       '经研究，已于今年完成第 ' || i || ' 号点位的改造，并建立长效管理机制。经办人电话 020-8' || lpad((i % 10000000)::text, 7, '0'),
                       (ARRAY['A', 'B', 'C'])[1 + i % 3], i % 10 <> 0, timestamptz '2026-03-01 10:00+08' + (i % 300) * interval '1 day', 'unit'
                FROM generate_series(\(from + from % 2)::int, \(to)::int, 2) i
                """)
            try await transaction.execute(
                """
                INSERT INTO proposal_closures (proposal_id, district, closed_at, closed_by, by_decision, reason)
                SELECT md5('p' || i)::uuid, 'haizhu', timestamptz '2026-04-01 10:00+08' + (i % 200) * interval '1 day', 'supervision', false, '评价满意，办结'
                FROM generate_series(\((from + 7) / 8 * 8)::int, \(to)::int, 8) i
                """)
        }
        try await database.client.query("ANALYZE", logger: Logger(label: "bench-publicity"))
    }

    /// The events those services published: received, triaged, filed and assigned for every
    /// proposal; replied for half, evaluated for a quarter, closed for an eighth.
    func announce(_ range: ClosedRange<Int>, kafka: KafkaConfiguration, district: DistrictCode, logger: Logger) async throws -> Int {
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let progress = ProgressLine()
        let start = ContinuousClock.now
        let topic = { (spec: TopicSpec) in kafka.topicName(spec.name) }
        let day = LocalDate(year: 2026, month: 2, day: 1)!
        var total = 0
        var chunk: [OutgoingMessage] = []
        func send() async throws {
            for result in await producer.send(chunk) { _ = try result.get() }
            chunk.removeAll(keepingCapacity: true)
        }
        for index in range {
            let (clue, proposal, assignment) = (Self.id("c", index), Self.id("p", index), Self.id("a", index))
            let key = proposal.uuidString
            let number = TrackingNumber(rawValue: "HZ-2026-" + String(repeating: "0", count: max(0, 7 - String(index).count)) + String(index))
            var envelopes: [(TopicSpec, EventEnvelope)] = [
                (
                    TopicCatalogue.intakeEvents,
                    try EventEnvelope(
                        ClueReceived(
                            clueID: clue, trackingNumber: number, channel: [.web, .wechat, .governmentServiceApp, .qrCode][index % 4],
                            sourceCategory: .onlinePlatform, isAnonymous: false, consentToPublish: index % 3 == 0, receivedAt: Date()),
                        district: district, occurredAt: Date())
                ),
                (
                    TopicCatalogue.triageEvents,
                    try EventEnvelope(
                        ClueTriaged(
                            clueID: clue, domain: ["交通", "教育", "卫生", "养老", "城市更新"][index % 5], committee: nil, urgency: .normal,
                            jurisdiction: .district,
                            street: ["南华西街", "江南中街", "昌岗街", "素社街", "海幢街"][index % 5], ruleVersion: 1, rules: [],
                            groupID: Self.id("g", index % 20_000),
                            groupVoices: 1, startedGroup: false), district: district, occurredAt: Date())
                ),
                (
                    TopicCatalogue.triageEvents,
                    try EventEnvelope(
                        ProposalFiled(
                            proposalID: proposal, caseNumber: CaseNumber(prefix: "HZ", session: 14, year: 2026, sequence: index), session: 14,
                            year: 2026,
                            fastTrack: true, domain: nil, committee: nil, clueIDs: [clue]), district: district, occurredAt: Date())
                ),
                (
                    TopicCatalogue.assignmentEvents,
                    try EventEnvelope(
                        ProposalAssigned(
                            proposalID: proposal, caseNumber: "HZ-14-2026-\(index)", kind: .citizen, round: 1,
                            units: [
                                AssignedUnit(
                                    assignmentID: assignment, unitID: Self.id("u", index % Self.units.count),
                                    unitName: Self.units[index % Self.units.count],
                                    role: .lead, status: .active, assignedOn: day, deadline: day.adding(days: 30), contestUntil: day.adding(days: 7))
                            ],
                            isKey: false, supervisingLeader: nil, automatic: false, confirmedPreAssignment: false), district: district,
                        occurredAt: Date())
                ),
            ]
            if index % 2 == 0 {
                envelopes.append(
                    (
                        TopicCatalogue.supervisionEvents,
                        try EventEnvelope(
                            AssignmentReplied(
                                replyID: Self.id("r", index), assignmentID: assignment, proposalID: proposal,
                                unitID: Self.id("u", index % Self.units.count),
                                category: [.solvedOrAdopted, .inProgressOrPlanned, .keptForReference][index % 3], promisedDate: nil,
                                onTime: index % 10 != 0),
                            district: district, occurredAt: Date())
                    ))
            }
            if index % 4 == 0 {
                envelopes.append(
                    (
                        TopicCatalogue.supervisionEvents,
                        try EventEnvelope(
                            AssignmentEvaluated(
                                assignmentID: assignment, proposalID: proposal, unitID: Self.id("u", index % Self.units.count),
                                result: index % 12 == 0 ? .basicallySatisfied : .satisfied, byProposer: true), district: district,
                            occurredAt: Date().addingTimeInterval(1))
                    ))
            }
            if index % 8 == 0 {
                envelopes.append(
                    (
                        TopicCatalogue.supervisionEvents,
                        try EventEnvelope(
                            ProposalClosed(proposalID: proposal, byDecision: false, reason: "评价满意，办结"),
                            district: district, occurredAt: Date().addingTimeInterval(2))
                    ))
            }
            for (spec, envelope) in envelopes {
                chunk.append(OutgoingMessage(topic: topic(spec), key: key, value: try envelope.encoded()))
            }
            total += envelopes.count
            if chunk.count >= 10_000 {
                try await send()
                progress.report("announcing events", done: index - range.lowerBound + 1, of: range.count, since: start)
            }
        }
        try await send()
        progress.report("announcing events", done: range.count, of: range.count, since: start)
        await producer.close()
        return total
    }

    /// Events announced but not yet committed by publicity's consumer group, from the brokers'
    /// offsets. (Counting processed_events ten times a second read the whole growing table each
    /// time, and the benchmark's own polling slowed the later rounds.)
    func unread(admin: KafkaAdmin, kafka: KafkaConfiguration) async throws -> Int {
        let group = kafka.topicPrefix + ServiceName.publicity.rawValue
        let topics = TopicCatalogue.inputs(of: .publicity).map { kafka.topicName($0.name) }
        return Int(try await ConsumerLag.measure(group: group, topics: topics, admin: admin).reduce(0) { $0 + $1.lag })
    }

    /// Events publicity's consumer group applied, all rounds together.
    func applied(database: Database, kafka: KafkaConfiguration) async throws -> Int {
        try await count(
            "SELECT count(*)::int FROM processed_events WHERE consumer = \(kafka.topicPrefix + ServiceName.publicity.rawValue)", database: database)
    }

    func count(_ query: PostgresQuery, database: Database) async throws -> Int {
        try await database.transaction(.allDistricts) { transaction in
            for try await value in try await transaction.query(query).decode(Int.self) { return value }
            return 0
        }
    }

    static let filters = [
        "district=haizhu", "status=replied", "status=closed", "year=2026",
        "unit=" + (units[2].addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), "district=haizhu&status=evaluated",
    ]

    /// The same readers driven by wrk (one connection a reader, two threads), whose latency
    /// distribution is printed as it reports it.
    func readWithWrk(_ wrk: String, port: Int, label: String) throws -> Double {
        let pages = max(1, proposals / 20)
        let script = """
            math.randomseed(7)
            local filters = {\(Self.filters.map { "\"\($0)\"" }.joined(separator: ", "))}
            request = function()
              local draw = math.random(0, 99)
              local path
              if draw < \(deepPercent) then
                path = "/feedback?page=" .. math.random(1, \(pages))
              elseif draw < \(deepPercent + (100 - deepPercent) * 6 / 10) then
                path = "/feedback?page=" .. math.random(1, 20)
              else
                path = "/feedback?" .. filters[math.random(1, #filters)] .. "&page=" .. math.random(1, 5)
              end
              return wrk.format("GET", path)
            end
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("publicity-readers-\(UUID().uuidString).lua")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = [
            "-t\(wrkThreads)", "-c\(readers)", "-d\(seconds)s", "--latency", "--timeout", "10s", "-s", file.path, "http://127.0.0.1:\(port)",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        func figure(_ label: String) -> String {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }
                .map { String($0.trimmingCharacters(in: .whitespaces).dropFirst(label.count)).trimmingCharacters(in: .whitespaces) } ?? "?"
        }
        func milliseconds(_ value: String) -> Double {
            if value.hasSuffix("ms") { return Double(value.dropLast(2)) ?? .infinity }
            if value.hasSuffix("us") { return (Double(value.dropLast(2)) ?? .infinity) / 1_000 }
            if value.hasSuffix("s") { return (Double(value.dropLast(1)) ?? .infinity) * 1_000 }
            return .infinity
        }
        let p99 = milliseconds(figure("99%"))
        let errors = text.split(separator: "\n").filter { $0.contains("Non-2xx") || $0.contains("Socket errors") }.joined(separator: "; ")
        print(
            "feedback list \(label), read by wrk (\(wrkThreads) thread(s)) with \(readers) connections for \(seconds) s over \(proposals) proposals (\(deepPercent) % pages anywhere in the list, the rest first pages: 60 % of the whole list's first 20, 40 % of six filtered lists' first 5): \(figure("Requests/sec:")) pages/s; p50 \(figure("50%")), p75 \(figure("75%")), p90 \(figure("90%")), p99 \(figure("99%"))\(errors.isEmpty ? "" : "; " + errors)"
        )
        return p99 / 1_000
    }

    /// `readers` readers, each asking for one page after another for `seconds`; returns p99 in seconds.
    func read(port: Int, label: String) async throws -> Double {
        if let wrk { return try readWithWrk(wrk, port: port, label: label) }
        let base = "http://127.0.0.1:\(port)"
        let pages = max(1, proposals / 20)
        let filters = Self.filters
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: readers)
        // The load generator shares the service's two cores: no spans for its requests.
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        // Latencies of requests begun after the first seconds too: a restarted portal's first
        // readers wait for its list order and render every page once, which is not its steady state.
        let settled = start + .seconds(min(3, seconds / 4))
        let results = try await withThrowingTaskGroup(of: ([Double], [Double], Int).self) { group in
            for reader in 0..<readers {
                group.addTask {
                    var random = SplitMix64(seed: UInt64(reader) &+ 7)
                    var latencies: [Double] = []
                    var settledLatencies: [Double] = []
                    var failures = 0
                    while ContinuousClock.now < deadline {
                        // Most readers open the list's first pages; some filter; some page far in.
                        let path: String
                        let draw = random.below(100)
                        if draw < deepPercent {
                            path = "/feedback?page=\(1 + random.below(pages))"
                        } else if draw < deepPercent + (100 - deepPercent) * 6 / 10 {
                            path = "/feedback?page=\(1 + random.below(20))"
                        } else {
                            path = "/feedback?\(random.pick(filters))&page=\(1 + random.below(5))"
                        }
                        let began = ContinuousClock.now
                        let response = try await client.execute(HTTPClientRequest(url: base + path), timeout: .seconds(30))
                        let body = try await response.body.collect(upTo: 4 << 20)
                        latencies.append(BenchSupport.seconds(since: began))
                        if began >= settled { settledLatencies.append(latencies.last!) }
                        if response.status != .ok || body.readableBytes < 1_000 { failures += 1 }
                    }
                    return (latencies, settledLatencies, failures)
                }
            }
            var all: [Double] = []
            var allSettled: [Double] = []
            var failures = 0
            for try await (latencies, settledLatencies, failed) in group {
                all += latencies
                allSettled += settledLatencies
                failures += failed
            }
            return (all.sorted(), allSettled.sorted(), failures)
        }
        try await client.shutdown()
        let (latencies, settledLatencies, failures) = results
        guard !latencies.isEmpty else { throw ValidationError("no page was read") }
        func at(_ share: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * share))] * 1_000 }
        print(
            String(
                format:
                    "feedback list %@: %d pages in %.1f s (%.0f pages/s) by %d readers over %d proposals (%d %% pages anywhere in the list, the rest first pages: 60 %% of the whole list's first 20, 40 %% of six filtered lists' first 5); p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; %d failed",
                label, latencies.count, BenchSupport.seconds(since: start), Double(latencies.count) / BenchSupport.seconds(since: start), readers,
                proposals,
                deepPercent, at(0.50), at(0.90), at(0.99), latencies.last! * 1_000, failures))
        if !settledLatencies.isEmpty {
            func settledAt(_ share: Double) -> Double {
                settledLatencies[min(settledLatencies.count - 1, Int(Double(settledLatencies.count) * share))] * 1_000
            }
            print(
                String(
                    format: "  of which the %d pages asked after the first %d s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                    settledLatencies.count, min(3, seconds / 4), settledAt(0.50), settledAt(0.90), settledAt(0.99), settledLatencies.last! * 1_000))
        }
        return at(0.99) / 1_000
    }
}
