import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import Storage

/// The whole pipeline under load, with every service a process beside it (run.sh starts them):
/// clues through intake's HTTP API, triage, assignment, supervision and publicity all consuming,
/// and a staff step that files and assigns one clue in `--filing-every`. Two phases:
///   1. latency: `--latency-rate` clues a second offered for `--latency-seconds`; for each clue the
///      time from intake's answer to its triage row and to its row in the public read model;
///   2. throughput: `--clues` clues flat out (`--connections` in flight); clues a second from the
///      first request to the last clue triaged, and to the last clue in the public read model.
/// Then each service's memory (idle before the run, peak over it) and CPU seconds per 1,000 clues
/// from /proc, beside the baseline run.sh measured with pgbench in the same run.
@main
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-pipeline", abstract: "Clues through every service at once: rate, latency, memory and CPU.")

    @Option(help: "Intake's address.") var intake = "http://127.0.0.1:18181"
    @Option(help: "Triage's address (the staff step drafts, submits and files there).") var triage = "http://127.0.0.1:18182"
    @Option(help: "Assignment's address (the staff step assigns there).") var assignment = "http://127.0.0.1:18183"
    @Option(help: "Clues sent flat out for the throughput figures.") var clues = 100_000
    @Option(help: "Requests in flight in the throughput phase.") var connections = 32
    @Option(help: "Clues a second offered in a latency phase (repeat for several; default 500, the issue's, then 250).")
    var latencyRate: [Int] = []
    @Option(help: "Seconds of the latency phase.") var latencySeconds = 20
    @Option(help: "One clue in this many is drafted into a proposal, filed and assigned by a staff step.") var filingEvery = 1_000
    @Option(help: "A process to measure, as name=pid (repeat); a name ending in '*' counts the pid's children too.")
    var process: [String] = []
    @Option(help: "The pgbench baseline as run.sh measured it: \"tx/s p50 p99\".") var baseline = ""
    @Option(help: "Targets: clues a second through the whole pipeline.") var targetRate = 2_000.0
    @Option(help: "Targets: p99 intake → triaged at the latency phase's rate, in ms.") var targetP99 = 250.0
    @Option(help: "Targets: RSS idle / at peak per service, in MB.") var targetIdleMB = 100.0
    @Option(help: "Targets: RSS at peak per service, in MB.") var targetPeakMB = 250.0

    func run() async throws {
        print(machineLine())
        let environment = ProcessInfo.processInfo.environment
        let tokens = ["BENCH_STUDIO_TOKEN", "BENCH_CLERK_TOKEN", "BENCH_MEMBER_TOKEN", "BENCH_COMMITTEE_TOKEN"].map { environment[$0] ?? "" }
        guard !tokens.contains("") else {
            throw ValidationError(
                "BENCH_STUDIO_TOKEN, BENCH_CLERK_TOKEN, BENCH_MEMBER_TOKEN and BENCH_COMMITTEE_TOKEN must be set (run.sh sets them)")
        }
        let processes = try process.map(MeasuredProcess.init(argument:))
        var logger = Logger(label: "bench-pipeline")
        logger.logLevel = .warning
        let database = Database(configuration: try BenchEnvironment.database(), logger: logger)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(connections, 64))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let api = API(
            client: client, intake: intake, triage: triage, assignment: assignment, studio: tokens[0], clerk: tokens[1], member: tokens[2],
            committee: tokens[3])
        let settings = self
        do {
            try await database.running {
                // Idle: started, connected, nothing to do; memory at the start, CPU over ten seconds.
                let idle = processes.map { $0.sample() }
                try await Task.sleep(for: .seconds(10))
                let idleEnd = processes.map { $0.sample() }
                let unit = try await api.makeUnit()
                var corpus = Corpus(count: Int.max, seed: 20).makeIterator()

                var latencies: [Latencies] = []
                for rate in settings.latencyRate.isEmpty ? [500, 250] : settings.latencyRate {
                    latencies.append(try await settings.latencyPhase(rate: rate, api: api, database: database, corpus: &corpus))
                }
                try await StatementProfile.reset(database)
                let before = processes.map { $0.sample() }
                let driverBefore = MeasuredProcess.ownCPU()
                let throughput = try await settings.throughputPhase(api: api, database: database, unit: unit, corpus: &corpus)
                let after = processes.map { $0.sample() }
                let driverCPU = MeasuredProcess.ownCPU() - driverBefore
                let statements = try await StatementProfile.top(database)
                settings.report(
                    latencies: latencies, throughput: throughput, processes: processes, idle: idle, idleEnd: idleEnd, idleSeconds: 10,
                    before: before, after: after,
                    driverCPU: driverCPU)
                StatementProfile.print(statements, clues: settings.clues)
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    // MARK: The phases

    struct Latencies {
        var rate = 0
        var offered = 0
        var accepted = 0
        var failed = 0
        var toTriaged: [Double] = []
        var toPublic: [Double] = []
        var unseen = 0
    }

    /// `rate` clues a second at even intervals, whatever the answers' pace (an open loop,
    /// as residents arrive); a poller notes when each answered clue shows in triage and in the
    /// public read model.
    func latencyPhase(rate: Int, api: API, database: Database, corpus: inout Corpus.Iterator) async throws -> Latencies {
        let total = rate * latencySeconds
        print("latency: \(total) clues at \(rate)/s offered for \(latencySeconds) s")
        let bodies = (0..<total).map { _ in api.clueBody(corpus.next()!) }
        let answers = Answers()
        let interval = Duration.seconds(1) / rate
        let start = ContinuousClock.now
        let seen = Sightings()
        let watching = Task { try await seen.watch(answers: answers, database: database, until: start + .seconds(latencySeconds + 120)) }
        await withTaskGroup(of: Void.self) { group in
            for (index, body) in bodies.enumerated() {
                try? await Task.sleep(until: start + interval * index)
                group.addTask {
                    if let id = try? await api.submit(body) {
                        await answers.answered(id, at: .now)
                    } else {
                        await answers.failed()
                    }
                }
            }
        }
        let sent = seconds(since: start)
        print(String(format: "  sent in %.1f s; waiting for the last clues to be triaged and published", sent))
        await answers.finish()
        try await watching.value
        var latencies = await seen.latencies(answers: answers, offered: total)
        latencies.rate = rate
        return latencies
    }

    struct Throughput {
        var clues = 0
        var failed = 0
        var sendSeconds = 0.0
        var answerLatencies: [Double] = []
        var triagedSeconds = 0.0
        var publicSeconds = 0.0
        var filings = 0
        var filingFailures: [String] = []
        var filedPublic = 0
        /// From the first request to the last filing assigned: what the CPU figures cover.
        var phaseSeconds = 0.0
    }

    /// `clues` clues from `connections` senders, each sending its next as soon as the last is
    /// answered; one in `filingEvery` is drafted, filed and assigned by the staff step meanwhile.
    func throughputPhase(api: API, database: Database, unit: String, corpus: inout Corpus.Iterator) async throws -> Throughput {
        print("throughput: \(clues) clues, \(connections) in flight; one in \(filingEvery) filed and assigned by a staff step")
        let proposalsBefore = try await Self.count("public_proposals", database)
        var bodies: [String] = []
        bodies.reserveCapacity(clues)
        for _ in 0..<clues { bodies.append(api.clueBody(corpus.next()!)) }
        let start = ContinuousClock.now
        let queue = WorkQueue(bodies: bodies, start: start)
        let staff = StaffStep(api: api, unit: unit)
        let filingEvery = self.filingEvery
        let results = await withTaskGroup(of: (ids: [UUID], latencies: [Double], failed: Int).self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var ids: [UUID] = [], latencies: [Double] = [], failed = 0
                    while let (index, body) = await queue.next() {
                        let began = ContinuousClock.now
                        if let id = try? await api.submit(body), let uuid = UUID(uuidString: id) {
                            latencies.append(seconds(since: began))
                            ids.append(uuid)
                            if (index + 1) % filingEvery == 0 { await staff.file(clue: id) }
                        } else {
                            failed += 1
                        }
                    }
                    return (ids, latencies, failed)
                }
            }
            var all: (ids: [UUID], latencies: [Double], failed: Int) = ([], [], 0)
            for await result in group {
                all.ids += result.ids
                all.latencies += result.latencies
                all.failed += result.failed
            }
            return all
        }
        let sendSeconds = seconds(since: start)
        // When the last clue arrived in each table: the clues not yet seen are looked up every
        // 200 ms from the end of sending (counting the tables instead cost a third of PostgreSQL's time).
        async let triagedSeconds = Self.lastArrival(of: results.ids, in: "triage_clues", since: start, database: database)
        async let publicSeconds = Self.lastArrival(of: results.ids, in: "public_clues", since: start, database: database)
        let (triaged, published) = try await (triagedSeconds, publicSeconds)
        let filings = await staff.finish()
        // The filings' proposals reach the portal a moment after their assignment.
        var filedPublic = 0
        for _ in 0..<100 {
            filedPublic = try await Self.count("public_proposals", database) - proposalsBefore
            if filedPublic >= filings.done { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return Throughput(
            clues: results.latencies.count, failed: results.failed, sendSeconds: sendSeconds,
            answerLatencies: results.latencies.sorted(), triagedSeconds: triaged, publicSeconds: published,
            filings: filings.done, filingFailures: filings.failures, filedPublic: filedPublic,
            phaseSeconds: seconds(since: start))
    }

    /// Seconds from `start` to the moment every one of `ids` was in `table` (to 200 ms).
    static func lastArrival(of ids: [UUID], in table: String, since start: ContinuousClock.Instant, database: Database) async throws -> Double {
        var waiting = ids
        while !waiting.isEmpty {
            var found: Set<UUID> = []
            for chunk in stride(from: 0, to: waiting.count, by: 20_000).map({ Array(waiting[$0..<min($0 + 20_000, waiting.count)]) }) {
                found.formUnion(try await present(chunk, in: table, database: database))
            }
            waiting.removeAll { found.contains($0) }
            if waiting.isEmpty { break }
            if seconds(since: start) > 1_800 { throw ValidationError("\(waiting.count) clues never reached \(table)") }
            try await Task.sleep(for: .milliseconds(200))
        }
        return seconds(since: start)
    }

    static func present(_ ids: [UUID], in table: String, database: Database) async throws -> [UUID] {
        try await database.transaction(.allDistricts) { transaction in
            var found: [UUID] = []
            var binds = PostgresBindings()
            binds.append(ids)
            let sql = PostgresQuery(unsafeSQL: "SELECT clue_id FROM \(table) WHERE clue_id = ANY($1)", binds: binds)
            for try await id in try await transaction.query(sql).decode(UUID.self) { found.append(id) }
            return found
        }
    }

    static func count(_ table: String, _ database: Database) async throws -> Int {
        try await database.transaction(.allDistricts) { transaction in
            var total = 0
            for try await value in try await transaction.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")).decode(Int.self) {
                total = value
            }
            return total
        }
    }

    // MARK: The report

    func report(
        latencies: [Latencies], throughput: Throughput, processes: [MeasuredProcess], idle: [MeasuredProcess.Sample],
        idleEnd: [MeasuredProcess.Sample], idleSeconds: Double, before: [MeasuredProcess.Sample], after: [MeasuredProcess.Sample], driverCPU: Double
    ) {
        func ms(_ sorted: [Double], _ share: Double) -> Double {
            sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * share))] * 1_000
        }
        func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
        let wholeRate = throughput.publicSeconds > 0 ? Double(throughput.clues) / throughput.publicSeconds : 0
        let triageRate = throughput.triagedSeconds > 0 ? Double(throughput.clues) / throughput.triagedSeconds : 0
        print("")
        print("Pipeline benchmark: every service a release-built process on this machine, one instance each")
        if !baseline.isEmpty {
            let parts = baseline.split(separator: " ")
            print(
                "  baseline    pgbench with intake's statements for a lone clue: \(parts.first ?? "?") tx/s, p50 \(parts.dropFirst().first ?? "?"), p99 \(parts.dropFirst(2).first ?? "?") (same database, same run)"
            )
        }
        print(
            "  throughput  \(throughput.clues) clues flat out, \(connections) in flight (\(throughput.failed) failed); \(throughput.filings) filed and assigned by the staff step, \(throughput.filedPublic) on the portal"
        )
        print(
            String(
                format: "    intake answered    %6.0f clues/s   (%.1f s; answer p50 %.1f ms, p99 %.1f ms)",
                Double(throughput.clues) / throughput.sendSeconds, throughput.sendSeconds, ms(throughput.answerLatencies, 0.5),
                ms(throughput.answerLatencies, 0.99)))
        print(
            String(
                format: "    triage stage       %6.0f clues/s   (first request → last clue triaged, %.1f s)", triageRate, throughput.triagedSeconds))
        print(
            String(
                format: "    whole pipeline     %6.0f clues/s   (first request → last clue in the public read model, %.1f s)  target ≥ %.0f: %@",
                wholeRate, throughput.publicSeconds, targetRate, verdict(wholeRate >= targetRate)))
        if !throughput.filingFailures.isEmpty {
            print("    staff step failures: \(throughput.filingFailures.count), first: \(throughput.filingFailures[0])")
        }
        for (index, latency) in latencies.enumerated() {
            print(
                "  latency     \(latency.offered) clues offered at \(latency.rate)/s (\(latency.accepted) accepted, \(latency.failed) failed, \(latency.unseen) never seen)"
            )
            let (triaged, published) = (latency.toTriaged.sorted(), latency.toPublic.sorted())
            let p99 = ms(triaged, 0.99)
            let target = index == 0 ? String(format: "   target p99 ≤ %.0f ms: %@", targetP99, verdict(p99 <= targetP99)) : ""
            print(String(format: "    intake → triaged   p50 %6.1f ms   p99 %6.1f ms", ms(triaged, 0.5), p99) + target)
            print(String(format: "    intake → public    p50 %6.1f ms   p99 %6.1f ms", ms(published, 0.5), ms(published, 0.99)))
        }
        print("    (from intake's answer to the row, polled every 10 ms)")
        func column(_ text: String, _ width: Int, left: Bool = false) -> String {
            let gap = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + gap : gap + text
        }
        print(
            "  processes   " + column("", 24, left: true) + column("RSS idle", 10) + column("RSS peak", 10) + column("CPU idle", 10)
                + column("CPU s per 1,000 clues", 23))
        let thousands = Double(max(throughput.clues, 1)) / 1_000
        var serviceFigures: [(idle: Double, peak: Double)] = []
        for (index, process) in processes.enumerated() {
            let cpu = (after[index].cpuSeconds - before[index].cpuSeconds) / thousands
            let idleCPU = 100 * (idleEnd[index].cpuSeconds - idle[index].cpuSeconds) / idleSeconds
            let memory =
                process.children ? ("—", "—") : (String(format: "%.0f MB", idle[index].rssMB), String(format: "%.0f MB", after[index].peakMB))
            if !process.children { serviceFigures.append((idle[index].rssMB, after[index].peakMB)) }
            print(
                "              " + column(process.name, 24, left: true) + column(memory.0, 10) + column(memory.1, 10)
                    + column(String(format: "%.1f %%", idleCPU), 10) + column(String(format: "%.2f", cpu), 23))
        }
        print(
            "              " + column("load driver (this)", 24, left: true) + column("—", 10) + column("—", 10) + column("—", 10)
                + column(String(format: "%.2f", driverCPU / thousands), 23))
        let idleMet = serviceFigures.allSatisfy { $0.idle <= targetIdleMB }, peakMet = serviceFigures.allSatisfy { $0.peak <= targetPeakMB }
        print(
            String(
                format: "    every service ≤ %.0f MB idle: %@; ≤ %.0f MB at peak: %@", targetIdleMB, verdict(idleMet), targetPeakMB, verdict(peakMet))
        )
        let cpuTotal = zip(before, after).reduce(0) { $0 + $1.1.cpuSeconds - $1.0.cpuSeconds } + driverCPU
        print(
            String(
                format: "    CPU over the throughput phase (to the last filing assigned): %.0f s of %.0f s available on %d cores (%.0f %%)", cpuTotal,
                throughput.phaseSeconds * Double(ProcessInfo.processInfo.activeProcessorCount), ProcessInfo.processInfo.activeProcessorCount,
                100 * cpuTotal / max(1, throughput.phaseSeconds * Double(ProcessInfo.processInfo.activeProcessorCount))))
    }
}

// MARK: The services' APIs

/// The calls the load driver and the staff step make, with the tokens run.sh made.
struct API: Sendable {
    let client: HTTPClient
    let intake: String, triage: String, assignment: String
    let studio: String, clerk: String, member: String, committee: String

    struct Refused: Error, CustomStringConvertible {
        var status = 0
        var description: String
    }

    /// A staff-entry clue from a street studio, as `ops/bench/intake` sends (anonymous, so none
    /// is taken for a resubmission), with the corpus's words so triage groups as in a district.
    func clueBody(_ clue: Corpus.Clue) -> String {
        let object: [String: Any] = [
            "district": "haizhu", "title": clue.title, "situationAnalysis": clue.situation, "specificSuggestions": clue.suggestions,
            "channel": "staff-entry", "sourceCategory": "street-studio", "receiver": ["kind": "studio", "name": "沙园街委员工作室"],
            "anonymous": true, "consentToPublish": true,
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Posts a clue; its id when intake accepted it.
    func submit(_ body: String) async throws -> String {
        let answer = try await call("POST", intake + "/v1/clues", body: body, token: studio, expecting: 201)
        guard let id = answer["clueId"] as? String else { throw Refused(description: "intake's answer has no clueId") }
        return id
    }

    func makeUnit() async throws -> String {
        let body = #"{"code":"bench-housing","name":"区住房和城乡建设局","kind":"district-department"}"#
        let answer = try await call("POST", assignment + "/v1/assignment/units", body: body, token: committee, expecting: 201)
        guard let id = answer["id"] as? String else { throw Refused(description: "assignment's answer has no unit id") }
        return id
    }

    @discardableResult
    func call(_ method: String, _ url: String, body: String? = nil, token: String, expecting: Int) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 1 << 20)
        guard Int(response.status.code) == expecting else {
            throw Refused(
                status: Int(response.status.code), description: "\(method) \(url): \(response.status.code) \(String(buffer: data).prefix(300))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any]) ?? [:]
    }
}

/// The proposals committee's filings during the run: a clue drafted into a proposal, submitted,
/// filed, and assigned to a lead unit once assignment has taken the filing in.
actor StaffStep {
    let api: API
    let unit: String
    private var running: [Task<Void, Never>] = []
    private var done = 0
    private var failures: [String] = []

    init(api: API, unit: String) {
        self.api = api
        self.unit = unit
    }

    func file(clue: String) {
        let (api, unit) = (api, unit)
        running.append(
            Task {
                do {
                    // The clerk routes the clue as a reference topic (once triage has registered it),
                    // a member claims it and drafts, the committee files.
                    let routed = try await Self.retrying {
                        try await api.call(
                            "POST", api.triage + "/v1/triage/clues/\(clue)/decision", body: #"{"route":"reference-topic"}"#,
                            token: api.clerk, expecting: 200)
                    }
                    guard let topic = routed["topicId"] as? String else { throw API.Refused(description: "no topic id in \(routed)") }
                    try await api.call(
                        "POST", api.triage + "/v1/reference-topics/\(topic)/claims", body: #"{"name":"陈委员"}"#, token: api.member, expecting: 201)
                    let draft =
                        #"{"title":"关于\#(clue.prefix(8))号线索所反映问题的提案","caseSummary":"群众反映的问题","reasons":"居民多次反映，影响生活。","suggestions":"建议有关部门尽快研究解决。","proposers":[{"name":"陈委员","kind":"member"}],"topicId":"\#(topic)"}"#
                    let drafted = try await api.call("POST", api.triage + "/v1/proposals", body: draft, token: api.member, expecting: 201)
                    guard let proposal = drafted["id"] as? String else { throw API.Refused(description: "no proposal id") }
                    try await api.call("POST", api.triage + "/v1/proposals/\(proposal)/submit", body: "{}", token: api.member, expecting: 200)
                    try await api.call(
                        "POST", api.triage + "/v1/proposals/\(proposal)/review", body: #"{"decision":"file"}"#, token: api.committee, expecting: 200)
                    // Assignment takes the filing in from its topic.
                    try await Self.retrying {
                        try await api.call(
                            "POST", api.assignment + "/v1/assignment/proposals/\(proposal)/assignment", body: #"{"lead":"\#(unit)"}"#,
                            token: api.committee, expecting: 201)
                    }
                    self.succeeded()
                } catch {
                    self.failed("\(error)")
                }
            })
    }

    private func succeeded() { done += 1 }
    private func failed(_ reason: String) { failures.append(reason) }

    /// Waits for every filing begun.
    func finish() async -> (done: Int, failures: [String]) {
        for task in running { await task.value }
        return (done, failures)
    }

    /// Retries a call refused because an earlier stage has not caught up yet (404, 409) for up to a minute.
    @discardableResult
    static func retrying(_ body: () async throws -> [String: Any]) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try await body()
            } catch let refused as API.Refused where [404, 409].contains(refused.status) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}

// MARK: Bookkeeping

/// The bodies of the throughput phase, handed out one at a time, with progress.
actor WorkQueue {
    private let bodies: [String]
    private let start: ContinuousClock.Instant
    private let progress = ProgressLine()
    private var taken = 0

    init(bodies: [String], start: ContinuousClock.Instant) {
        self.bodies = bodies
        self.start = start
    }

    func next() -> (Int, String)? {
        guard taken < bodies.count else { return nil }
        defer { taken += 1 }
        if taken % 1_000 == 0 || taken == bodies.count - 1 { progress.report("  sending", done: taken + 1, of: bodies.count, since: start) }
        return (taken, bodies[taken])
    }
}

/// When intake answered each clue of the latency phase.
actor Answers {
    private(set) var answeredAt: [String: ContinuousClock.Instant] = [:]
    private(set) var failures = 0
    private(set) var finished = false

    func answered(_ id: String, at instant: ContinuousClock.Instant) { answeredAt[id.lowercased()] = instant }
    func failed() { failures += 1 }
    func finish() { finished = true }
}

/// When each answered clue was first seen in triage and in the public read model. A row seen by
/// a query was committed before the query began, so the query's start is the time noted.
actor Sightings {
    private var triaged: [String: ContinuousClock.Instant] = [:]
    private var published: [String: ContinuousClock.Instant] = [:]

    func watch(answers: Answers, database: Database, until deadline: ContinuousClock.Instant) async throws {
        while ContinuousClock.now < deadline {
            let answered = await answers.answeredAt
            let finished = await answers.finished
            let waitingTriage = answered.keys.filter { triaged[$0] == nil }
            let waitingPublic = answered.keys.filter { published[$0] == nil }
            if finished && waitingTriage.isEmpty && waitingPublic.isEmpty { return }
            for (table, waiting) in [("triage_clues", waitingTriage), ("public_clues", waitingPublic)] where !waiting.isEmpty {
                let asked = ContinuousClock.now
                let found = try await PipelineBenchmark.present(waiting.compactMap(UUID.init(uuidString:)), in: table, database: database)
                    .map { $0.uuidString.lowercased() }
                for id in found {
                    if table == "triage_clues" { triaged[id] = asked } else { published[id] = asked }
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func latencies(answers: Answers, offered: Int) async -> PipelineBenchmark.Latencies {
        let answered = await answers.answeredAt
        var result = PipelineBenchmark.Latencies(offered: offered, accepted: answered.count, failed: await answers.failures)
        for (id, at) in answered {
            if let seen = triaged[id] { result.toTriaged.append(max(0, seconds(seen - at))) }
            if let seen = published[id] { result.toPublic.append(max(0, seconds(seen - at))) }
            if triaged[id] == nil || published[id] == nil { result.unseen += 1 }
        }
        return result
    }
}

/// A process whose memory and CPU the report shows, read from /proc.
struct MeasuredProcess: Sendable {
    let name: String
    let pid: Int32
    /// Whether the children count too (PostgreSQL's backends), for CPU; memory is then not shown.
    let children: Bool

    struct Sample: Sendable {
        var rssMB = 0.0
        var peakMB = 0.0
        var cpuSeconds = 0.0
    }

    init(argument: String) throws {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let pid = Int32(parts[1]) else { throw ValidationError("--process \(argument): give name=pid") }
        children = parts[0].hasSuffix("*")
        name = children ? String(parts[0].dropLast()) : parts[0]
        self.pid = pid
    }

    func sample() -> Sample {
        var sample = Sample()
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
            for line in status.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 2, let kilobytes = Double(fields[1]) else { continue }
                if fields[0] == "VmRSS:" { sample.rssMB = kilobytes / 1_024 }
                if fields[0] == "VmHWM:" { sample.peakMB = kilobytes / 1_024 }
            }
        }
        var pids = [pid]
        if children { pids += Self.children(of: pid) }
        sample.cpuSeconds = pids.reduce(0) { $0 + Self.cpuSeconds(of: $1) }
        return sample
    }

    /// utime + stime of /proc/pid/stat (the fields after the command, which may hold spaces).
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ")": state(0) ppid(1) … utime(11) stime(12).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
                return false
            }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    static func ownCPU() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec)
            / 1e6
    }
}

/// Where PostgreSQL's time went over the throughput phase, by statement (pg_stat_statements,
/// loaded by run.sh): what the profile of the store shows.
enum StatementProfile {
    struct Statement: Sendable {
        var calls: Int
        var milliseconds: Double
        var text: String
    }

    static func reset(_ database: Database) async throws {
        try await database.transaction(.none) { try await $0.execute("SELECT pg_stat_statements_reset()") }
    }

    static func top(_ database: Database, count: Int = 12) async throws -> (top: [Statement], total: Double) {
        try await database.transaction(.none) { transaction in
            var top: [Statement] = []
            var total = 0.0
            for try await value in try await transaction.query("SELECT coalesce(sum(total_exec_time), 0)::float8 FROM pg_stat_statements").decode(
                Double.self)
            {
                total = value
            }
            for try await (calls, milliseconds, text) in try await transaction.query(
                """
                SELECT calls::int8, total_exec_time::float8, regexp_replace(query, '\\s+', ' ', 'g')
                FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT \(count)
                """
            ).decode((Int64, Double, String).self) {
                top.append(Statement(calls: Int(calls), milliseconds: milliseconds, text: text))
            }
            return (top, total)
        }
    }

    static func print(_ profile: (top: [Statement], total: Double), clues: Int) {
        Swift.print(
            String(
                format: "  PostgreSQL statements over the throughput phase: %.0f s executing in all (pg_stat_statements); the most costly:",
                profile.total / 1_000))
        for statement in profile.top {
            Swift.print(
                String(
                    format: "    %5.1f %%  %8d calls  %6.3f ms each  %@", 100 * statement.milliseconds / max(profile.total, 1), statement.calls,
                    statement.milliseconds / Double(max(statement.calls, 1)), String(statement.text.prefix(110))))
        }
    }
}
