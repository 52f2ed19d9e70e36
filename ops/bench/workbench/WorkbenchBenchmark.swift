import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Crypto
import Foundation
import Logging
import Models
import NIOCore
import ServiceKit
import Storage
import WorkbenchService

/// The workbench under its staff: `seed` fills a district as intake and triage leave it
/// (clues, their triage records in groups of five, a fifth awaiting review) and makes the
/// accounts; `browse` signs `--staff` people in and has them read the review queue, the issue
/// groups and clue pages at once, through the workbench and the triage service running as
/// processes beside it, and prints the latency per page against the issue's p99 ≤ 100 ms.
@main
struct WorkbenchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-workbench", abstract: "Staff browsing the clue desk through the workbench.", subcommands: [Seed.self, Browse.self])

    static let password = "Bench-Clue-Desk-2026"
    static func login(_ number: Int) -> String { "clerk\(number)" }
    static let district = DistrictCode(rawValue: "haizhu")!

    struct Seed: AsyncParsableCommand {
        @Option(help: "Clues in the district.") var clues = 100_000
        @Option(help: "Clue handlers to create (clerk0, clerk1, …).") var staff = 50

        func run() async throws {
            print(machineLine())
            let logger = {
                var logger = Logger(label: "bench-workbench")
                logger.logLevel = .warning
                return logger
            }()
            let database = Database(configuration: try BenchEnvironment.database(), logger: logger)
            let (clues, staff) = (self.clues, self.staff)
            try await database.running {
                try await Migrator().migrate(database, logger: logger)
                try await database.transaction(.district(WorkbenchBenchmark.district)) { transaction in
                    try await transaction.execute(
                        "INSERT INTO districts (code, name, tracking_prefix) VALUES ('haizhu', '海珠区', 'HZ') ON CONFLICT DO NOTHING")
                }
                let start = ContinuousClock.now
                let progress = ProgressLine()
                let round = 20_000
                for from in stride(from: 1, through: clues, by: round) {
                    let to = min(clues, from + round - 1)
                    try await seed(from...to, database: database)
                    progress.report("seeding clues", done: to, of: clues, since: start)
                }
                try await database.client.query("ANALYZE", logger: logger)
                let directory = AccountRepository(database: database)
                for number in 0..<staff {
                    _ = try await directory.create(
                        NewAccount(
                            district: WorkbenchBenchmark.district, login: WorkbenchBenchmark.login(number), displayName: "线索员\(number)",
                            role: .clueHandler),
                        by: "bench", address: nil, now: Date(), password: WorkbenchBenchmark.password, mustChangePassword: false)
                    progress.report("accounts", done: number + 1, of: staff, since: start)
                }
                print(
                    String(
                        format: "seeded %d clues in groups of five (a fifth awaiting review) and %d accounts in %.1f s", clues, staff,
                        seconds(since: start)))
            }
        }

        func seed(_ range: ClosedRange<Int>, database: Database) async throws {
            let (from, to) = (range.lowerBound, range.upperBound)
            try await database.transaction(.district(WorkbenchBenchmark.district)) { transaction in
                try await transaction.execute(
                    """
                    INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                       is_anonymous, received_at, consent_to_publish, submitted_by, status)
                    SELECT md5('c' || i)::uuid, 'haizhu', 'HZ-2026-' || lpad(i::text, 7, '0'),
                           (ARRAY['电动自行车楼道充电', '长者饭堂排队', '老旧小区加装电梯', '学校门口交通拥堵', '社区卫生站预约难'])[1 + i / 5 % 5] || '（第 ' || i || ' 号）',
                           '老旧小区居民在楼道内为电动自行车充电，存在火灾隐患（第 ' || i || ' 号）。', '建设集中充电桩，加强物业巡查。', 'online-platform',
                           (ARRAY['web', 'wechat', 'government-service-app', 'qr-code'])[1 + i % 4], true,
                           timestamptz '2026-01-05 09:00+08' + (i % 300) * interval '1 day', true, 'resident', 'received'
                    FROM generate_series(\(from)::int, \(to)::int) i
                    """)
                try await transaction.execute(
                    """
                    INSERT INTO clue_groups (id, district, representative, signature, voices)
                    SELECT md5('g' || g)::uuid, 'haizhu', md5('c' || (g * 5 + 1))::uuid,
                           -- 512 bytes that look like a MinHash signature (128 hash values), not a pattern.
                           decode((SELECT string_agg(md5(g || '-' || k), '') FROM generate_series(1, 32) k), 'hex'), 5
                    FROM generate_series((\(from)::int - 1) / 5, (\(to)::int - 1) / 5) g
                    ON CONFLICT DO NOTHING
                    """)
                try await transaction.execute(
                    """
                    INSERT INTO triage_clues (clue_id, district, tracking_number, channel, received_at, domain, urgency, street, status, group_id)
                    SELECT md5('c' || i)::uuid, 'haizhu', 'HZ-2026-' || lpad(i::text, 7, '0'), (ARRAY['web', 'wechat', 'government-service-app', 'qr-code'])[1 + i % 4],
                           timestamptz '2026-01-05 09:00+08' + (i % 300) * interval '1 day',
                           (ARRAY['public-safety', 'elderly-care', 'urban-renewal', 'transport', 'health'])[1 + i / 5 % 5],
                           (ARRAY['normal', 'important', 'urgent'])[1 + i % 3], (ARRAY['沙园', '南华西', '江南中', '素社', '海幢'])[1 + i % 5],
                           CASE WHEN i % 5 = 0 THEN 'awaiting-review' ELSE 'reference-topic' END, md5('g' || ((i - 1) / 5))::uuid
                    FROM generate_series(\(from)::int, \(to)::int) i
                    """)
            }
        }
    }

    struct Browse: AsyncParsableCommand {
        @Option(help: "The workbench's address.") var workbench = "http://127.0.0.1:8080"
        @Option(help: "People browsing at once.") var staff = 50
        @Option(help: "Seconds of browsing.") var seconds = 30
        @Option(help: "Clues seeded (for clue pages to open).") var clues = 100_000
        @Option(help: "The issue's baseline: p99 of every page, in ms.") var baseline = 100.0
        @Option(help: "Each person's pause between pages, in ms (reading the page); 0 asks flat out.") var thinkMs = 1_000

        func run() async throws {
            print(machineLine())
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: staff)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let (base, people, duration, clueCount, think) = (workbench, staff, seconds, clues, thinkMs)
            // Everyone signs in first (bcrypt on the workbench's side: a second of work per four people).
            var cookies: [String] = []
            for number in 0..<people { cookies.append(try await Self.signIn(WorkbenchBenchmark.login(number), client: client, base: base)) }
            // One of each page first: a triage instance that has just started loads the district's
            // group index on its first clue page; that is a start-up cost, not the steady state.
            let warmUp = ContinuousClock.now
            // (The workbench gives up on a call after 15 s, so the first pages are asked again
            // until they answer.)
            for path in ["/clues?status=awaiting-review", "/groups", "/clues/\(Self.md5UUID("c1"))"] {
                var status = 0
                while status != 200 && ContinuousClock.now - warmUp < .seconds(300) {
                    var request = HTTPClientRequest(url: base + path)
                    request.headers.add(name: "Cookie", value: cookies[0])
                    let response = try await client.execute(request, timeout: .seconds(300))
                    _ = try await response.body.collect(upTo: 8 << 20)
                    status = Int(response.status.code)
                }
                print(String(format: "  warm-up %@: %d after %.1f s", path, status, BenchSupport.seconds(since: warmUp)))
            }
            let deadline = ContinuousClock.now + .seconds(duration)
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: [String: [Double]].self) { group in
                for (person, cookie) in cookies.enumerated() {
                    group.addTask {
                        var random = SplitMix64(seed: UInt64(person) &+ 11)
                        var latencies: [String: [Double]] = [:]
                        // People start at different moments, not in step.
                        try await Task.sleep(for: .milliseconds(random.below(think + 1)))
                        while ContinuousClock.now < deadline {
                            let (kind, path): (String, String)
                            switch random.below(10) {
                            case 0..<4: (kind, path) = ("review queue", "/clues?status=awaiting-review&page=\(1 + random.below(20))")
                            case 4..<6: (kind, path) = ("issue groups", "/groups")
                            default:
                                let number = 1 + random.below(clueCount)
                                let id = Self.md5UUID("c\(number)")
                                (kind, path) = ("clue page", "/clues/\(id)")
                            }
                            var request = HTTPClientRequest(url: base + path)
                            request.headers.add(name: "Cookie", value: cookie)
                            let began = ContinuousClock.now
                            let response = try await client.execute(request, timeout: .seconds(30))
                            let body = try await response.body.collect(upTo: 8 << 20)
                            let elapsed = BenchSupport.seconds(since: began)
                            if response.status == .ok, body.readableBytes > 500 {
                                latencies[kind, default: []].append(elapsed)
                            } else {
                                latencies["failed: " + kind, default: []].append(elapsed)
                            }
                            if think > 0 { try await Task.sleep(for: .milliseconds(think)) }
                        }
                        return latencies
                    }
                }
                var all: [String: [Double]] = [:]
                for try await latencies in group { all.merge(latencies) { $0 + $1 } }
                return all
            }
            try await client.shutdown()
            let elapsed = BenchSupport.seconds(since: start)
            var overall: [Double] = []
            let pace = think > 0 ? "a page, then \(think) ms reading it" : "flat out, no pause between pages"
            print(
                "\(people) signed-in clue handlers browsing for \(duration) s over \(clueCount) clues, each \(pace) (40 % review-queue pages 1–20, 20 % issue groups, 40 % clue pages):"
            )
            for (kind, values) in results.sorted(by: { $0.key < $1.key }) {
                if !kind.hasPrefix("failed") { overall += values }
                print(Self.line(kind, values.sorted(), elapsed: elapsed))
            }
            let sorted = overall.sorted()
            print(Self.line("all pages", sorted, elapsed: elapsed))
            let p99 = Self.at(sorted, 0.99)
            print(String(format: "p99 %.1f ms against the baseline p99 ≤ %.0f ms: %@", p99, baseline, p99 <= baseline ? "met" : "NOT met"))
        }

        static func at(_ sorted: [Double], _ share: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * share))] * 1_000
        }

        static func line(_ label: String, _ sorted: [Double], elapsed: Double) -> String {
            String(
                format: "  %@: %d pages (%.0f/s); p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", label, sorted.count,
                Double(sorted.count) / elapsed, at(sorted, 0.5), at(sorted, 0.9), at(sorted, 0.99), (sorted.last ?? 0) * 1_000)
        }

        /// The id PostgreSQL's `md5(text)::uuid` gives, as the seed made the clues' ids.
        static func md5UUID(_ text: String) -> String {
            let digest = Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            let parts = [
                digest.prefix(8), digest.dropFirst(8).prefix(4), digest.dropFirst(12).prefix(4), digest.dropFirst(16).prefix(4), digest.dropFirst(20),
            ]
            return parts.joined(separator: "-")
        }

        /// Signs in through the form, as a browser does; the session cookie.
        static func signIn(_ login: String, client: HTTPClient, base: String) async throws -> String {
            let form = try await client.execute(HTTPClientRequest(url: base + "/sign-in"), timeout: .seconds(30))
            let html = String(buffer: try await form.body.collect(upTo: 1 << 20))
            guard let formCookie = form.headers["Set-Cookie"].first?.split(separator: ";").first,
                let range = html.range(of: #"name="formToken" value=""#)
            else { throw ValidationError("no sign-in form at \(base)") }
            let token = html[range.upperBound...].prefix { $0 != "\"" }
            var request = HTTPClientRequest(url: base + "/sign-in")
            request.method = .POST
            request.headers.add(name: "Cookie", value: String(formCookie))
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: "formToken=\(token)&login=\(login)&password=\(WorkbenchBenchmark.password)&next=/"))
            let answer = try await client.execute(request, timeout: .seconds(30))
            guard answer.status == .seeOther,
                let session = answer.headers["Set-Cookie"].first(where: { $0.hasPrefix(SessionName.cookie) })?
                    .split(separator: ";").first
            else { throw ValidationError("\(login) could not sign in: \(answer.status.code)") }
            return String(session)
        }
    }
}

enum SessionName {
    static let cookie = "workbench_session="
}
