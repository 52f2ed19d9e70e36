import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Messaging
import Models
import Operations
import ServiceKit

struct Dashboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the operator dashboard: lag, dead letters, outbox, overdue assignments, open clues, notifications.",
        discussion: "GET / is the page (refreshing itself), GET /snapshot.json the same figures as JSON, GET /health for probes.")

    @Option(help: "Address to listen on (0.0.0.0 in a container).") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 9100
    @Option(help: "Seconds between the page's refreshes.") var refreshSeconds = 15

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port: 1 to 65535") }
        guard (2...3600).contains(refreshSeconds) else { throw ValidationError("--refresh-seconds: 2 to 3600") }
    }

    func run() async throws {
        let kafka = try Environment.kafka()
        var logger = Logger(label: "proposals-ctl-dashboard")
        logger.logLevel = .info
        let database = try Environment.database(logger: Environment.logger)
        let admin = try KafkaAdmin(configuration: kafka, logger: Environment.logger)
        let refresh = refreshSeconds
        let snapshot: @Sendable () async -> OperationsSnapshot = {
            await OperationsSnapshot.take(kafka: kafka, database: database, admin: admin, today: LocalDate.on(Date(), in: .districtDefault))
        }
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardPage.render(await snapshot(), refreshSeconds: refresh))))
        }
        router.get("/snapshot.json") { _, _ in try jsonResponse(await snapshot()) }
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "proposals-ctl-dashboard"), logger: logger)
        logger.info("dashboard on http://\(host):\(port)/")
        try await database.running { try await application.runService() }
        await admin.close()
    }
}
