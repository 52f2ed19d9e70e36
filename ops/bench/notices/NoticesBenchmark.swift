import ArgumentParser
import BenchSupport
import Foundation
import Hummingbird
import Logging
import Messaging
import Models
import PostgresNIO
import PublicityService
import ServiceKit
import Storage
import Synchronization

/// Whether the notices keep up with the supervision timer pass: the events one pass of the timer
/// benchmark writes (`due` reminders, one per assignment, spread over `units` handling units)
/// are published as a backlog; the real publicity service (in this process) then writes each
/// unit's inbox notice, and delivers each notice by e-mail to the unit's account through a real
/// SMTP server (ops/test/smtp-sink.py, Debian's aiosmtpd) and to the district's signed webhook
/// (a receiver in this process). Prints the time to every notice in the inboxes, every e-mail
/// accepted and every webhook received, beside the timer pass (10,000 timers fired in about
/// 1.5 s, every SUPERVISION_TIMER_SECONDS = 30 s): keeping up is delivering a pass's notices
/// before the next pass.
@main
struct NoticesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-notices",
        abstract: "Notices from one timer pass: inbox, e-mail over SMTP and the district webhook. Needs DATABASE_URL, KAFKA_BROKERS, BENCH_SMTP_PORT."
    )

    @Option(help: "Reminders the timer pass fired (one notice each).") var due = 10_000
    @Option(help: "Handling units they are spread over, each with one account with an address.") var units = 500
    @Option(help: "Deliveries under way at once (PUBLICITY_NOTIFY_CONCURRENCY).") var concurrency = 64
    @Option(help: "Seconds the timer pass leaves between passes (SUPERVISION_TIMER_SECONDS), the time to keep up in.") var passSeconds = 30
    @Option(help: "Seconds to wait for every delivery before giving up.") var limit = 600

    func validate() throws {
        guard due > 0, units > 0, concurrency > 0, passSeconds > 0, limit > 0 else { throw ValidationError("the counts must be positive") }
    }

    func run() async throws {
        do {
            try await measure()
        } catch let error as PSQLError {
            throw ValidationError("PostgreSQL: \(String(String(reflecting: error).prefix(2_000)))")
        }
    }

    final class Received: Sendable {
        let count = Mutex(0)
    }

    func measure() async throws {
        var logger = Logger(label: "bench-notices")
        logger.logLevel = .error
        guard let smtpPort = ProcessInfo.processInfo.environment["BENCH_SMTP_PORT"].flatMap(Int.init) else {
            throw ValidationError("BENCH_SMTP_PORT names the local SMTP server's port (run.sh starts it)")
        }
        let databaseConfiguration = try BenchEnvironment.database()
        let kafka = try BenchEnvironment.kafka()
        print(machineLine())
        let database = Database(configuration: databaseConfiguration, logger: logger)
        let runner = Task { await database.client.run() }
        defer { runner.cancel() }
        try await Migrator().migrate(database, logger: logger)

        // The district's platform: a webhook receiver answering 204, counting what arrives.
        let received = Received()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            received.count.withLock { $0 += 1 }
            return Response(status: .noContent)
        }
        let port = AsyncStream<Int>.makeStream()
        let receiver = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                port.continuation.yield(channel.localAddress?.port ?? 0)
                port.continuation.finish()
            }, logger: logger)
        let receiving = Task { try await receiver.runService() }
        defer { receiving.cancel() }
        var hookPort = 0
        for await value in port.stream { hookPort = value }

        // The district, its units' accounts with addresses, and its webhook.
        let district = DistrictCode(rawValue: "bench")!
        let unitIDs = (0..<units).map { _ in UUID() }
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute("INSERT INTO districts (code, name, tracking_prefix) VALUES ('bench', '基准区', 'BN') ON CONFLICT DO NOTHING")
            try await transaction.execute(
                """
                INSERT INTO accounts (id, district, login, display_name, role, unit_id, email, password_hash, active)
                SELECT gen_random_uuid(), 'bench', 'unit-' || i, '承办单位' || i, 'handling-unit', u, 'unit-' || i || '@units.example', 'x', true
                FROM unnest(\(unitIDs)::uuid[]) WITH ORDINALITY AS t(u, i)
                """)
            try await transaction.execute(
                """
                INSERT INTO notification_endpoints (district, channel, url, secret, active, updated_at)
                VALUES ('bench', 'webhook', \("http://127.0.0.1:\(hookPort)/hook"), 'bench-webhook-secret-0123456789', true, now())
                """)
        }

        // One pass's events: a reminder for each of `due` assignments, as TimerRepository.fireDue writes them.
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let topic = kafka.topicName(TopicCatalogue.supervisionEvents.name)
        let deadline = LocalDate(year: 2027, month: 3, day: 31)!
        var messages: [OutgoingMessage] = []
        for index in 0..<due {
            let proposal = UUID()
            let event = try EventEnvelope(
                ReminderDue(assignmentID: UUID(), proposalID: proposal, unitID: unitIDs[index % units], deadline: deadline, daysLeft: 7),
                district: district, occurredAt: Date())
            messages.append(OutgoingMessage(topic: topic, key: Data(proposal.uuidString.utf8), value: try event.encoded()))
        }
        for chunk in stride(from: 0, to: messages.count, by: 5_000) {
            for result in await producer.send(Array(messages[chunk..<min(chunk + 5_000, messages.count)])) { _ = try result.get() }
        }
        await producer.close()
        print("published \(due) reminder events for \(units) units (one timer pass's output)")

        // The real publicity service on that backlog.
        let configuration = ServiceConfiguration(
            service: .publicity, instanceID: "publicity-bench", httpPort: 0, database: databaseConfiguration, kafka: kafka, logLevel: .error,
            tokenSecret: String(repeating: "b", count: 32),
            environment: [
                "PUBLICITY_SMTP_HOST": "127.0.0.1", "PUBLICITY_SMTP_PORT": String(smtpPort), "PUBLICITY_SMTP_SECURITY": "none",
                "PUBLICITY_NOTIFY_TRUSTED_HOSTS": "127.0.0.1", "PUBLICITY_NOTIFY_CONCURRENCY": String(concurrency),
                "PUBLICITY_NOTIFY_INTERVAL_MS": "200", "PUBLICITY_WORKBENCH_URL": "https://workbench.example",
            ])
        let app = try ServiceApp(PublicityService.definition, configuration: configuration, handleSignals: false)
        let start = ContinuousClock.now
        let service = Task { try await app.run() }

        var inboxAt: Duration?, mailAt: Duration?, hooksAt: Duration?
        let progress = ProgressLine()
        while ContinuousClock.now - start < .seconds(limit) {
            // One scan a look, and the inboxes only until they are full: the benchmark's own
            // queries share the two cores with what it measures.
            let countInbox = inboxAt == nil
            let (notices, mailed, dead) = try await database.transaction(.allDistricts) { transaction -> (Int, Int, Int) in
                var row = (0, 0, 0)
                for try await value in try await transaction.query(
                    """
                    SELECT CASE WHEN \(countInbox) THEN (SELECT count(*)::int FROM staff_notices) ELSE 0 END,
                           count(*) FILTER (WHERE channel = 'email' AND state = 'delivered')::int, count(*) FILTER (WHERE state = 'dead')::int
                    FROM notifications
                    """
                ).decode((Int, Int, Int).self) { row = value }
                return row
            }
            let hooks = received.count.withLock { $0 }
            let now = ContinuousClock.now - start
            if inboxAt == nil, notices >= due { inboxAt = now }
            if mailAt == nil, mailed >= due { mailAt = now }
            if hooksAt == nil, hooks >= due { hooksAt = now }
            progress.report("e-mails delivered", done: mailed, of: due, since: start)
            if dead > 0 {
                await app.shutdown()
                throw ValidationError("\(dead) notifications were dead-lettered")
            }
            if inboxAt != nil, mailAt != nil, hooksAt != nil { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        await app.shutdown()
        try await service.value
        guard let inboxAt, let mailAt, let hooksAt else {
            throw ValidationError("not every notice was delivered within \(limit) s")
        }
        let delivered = max(mailAt, hooksAt)
        let rate = Double(due) / seconds(delivered)
        print("")
        print("notices of one timer pass (\(due) reminders, \(units) units, \(concurrency) deliveries at once):")
        print(String(format: "  in every unit's inbox     %7.2f s  (%6.0f notices/s)", seconds(inboxAt), Double(due) / seconds(inboxAt)))
        print(String(format: "  e-mails accepted by SMTP  %7.2f s  (%6.0f e-mails/s)", seconds(mailAt), Double(due) / seconds(mailAt)))
        print(String(format: "  webhooks received         %7.2f s  (%6.0f webhooks/s)", seconds(hooksAt), Double(due) / seconds(hooksAt)))
        print(
            String(
                format: "baseline: the timer pass fires %d timers in about 1.5 s, every %d s; the notices %@ (%.1f s of %d s, %.0f per second)",
                due, passSeconds, seconds(delivered) <= Double(passSeconds) ? "keep up" : "do NOT keep up", seconds(delivered), passSeconds, rate))
    }
}
