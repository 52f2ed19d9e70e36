import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

/// The real executables, as an operator starts them.
@Suite(.timeLimit(.minutes(2)))
struct ServiceProcessTests {
    func run(_ service: String, environment: [String: String]) throws -> (ChildProcess, FileHandle) {
        let binary = URL(fileURLWithPath: try TestEnvironment.value("SERVICE_BINARIES")).appendingPathComponent(service).path
        let process = try ChildProcess(binary, environment: environment, standardError: .pipe)
        return (process, process.standardError!)
    }

    @Test func invalidConfigurationExitsWithOneLinePerVariable() async throws {
        let (process, _) = try run("intake", environment: ["KAFKA_BROKERS": "no-port", "HTTP_PORT": "x", "TOKEN_SECRET": "short"])
        let (_, errors, status) = await process.output()
        let lines = String(decoding: errors, as: UTF8.self).split(separator: "\n")
        #expect(status == 2)
        #expect(lines.count == 4)
        for variable in ["HTTP_PORT", "DATABASE_URL", "KAFKA_BROKERS", "TOKEN_SECRET"] {
            #expect(lines.contains { $0.hasPrefix("configuration error: \(variable):") }, "names \(variable)")
        }
    }

    @Test func sigtermStopsAServiceCleanlyWithExitCodeZero() async throws {
        let store = try await TestDatabase()
        let kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
        let port = try TestEnvironment.freePort()
        let (process, _) = try run(
            "triage",
            environment: [
                "DATABASE_URL": store.url,
                "KAFKA_BROKERS": kafka.brokers.joined(separator: ","), "KAFKA_TOPIC_PREFIX": kafka.topicPrefix,
                "TOKEN_SECRET": String(repeating: "s", count: 32), "HTTP_PORT": String(port), "LOG_LEVEL": "warning",
            ])
        let ready = await eventually { (try? await http("GET", "http://127.0.0.1:\(port)/health/ready").status) == 200 }
        #expect(ready)
        process.terminate()  // SIGTERM
        let stopped = await eventually(timeout: .seconds(30)) { !process.isRunning }
        #expect(stopped)
        if stopped {
            #expect(process.terminationStatus == 0, "exited by itself, not by a signal")
        } else {
            process.signal(SIGKILL)
        }
    }

    @Test func notReadyUntilTheDatabaseAnswers() async throws {
        let kafka = try TestEnvironment.kafka()
        let nowhere = DatabaseConfiguration(host: "127.0.0.1", port: 1, user: "u", password: nil, database: "d")
        let database = Database(configuration: nowhere, logger: TestEnvironment.logger)
        let runner = Task { await database.client.run() }
        defer { runner.cancel() }
        let readiness = Readiness(
            database: database, admin: try KafkaAdmin(configuration: kafka, logger: TestEnvironment.logger), consumer: nil,
            logger: TestEnvironment.logger)
        let state = await readiness.check()
        #expect(state.kafka)
        #expect(!state.database)
        #expect(!state.ready)
    }
}
