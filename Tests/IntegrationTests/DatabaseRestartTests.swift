import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

/// Every consumer and relay recovers by itself when PostgreSQL restarts under load: intake,
/// two triage instances and publicity run as processes against a PostgreSQL cluster of the
/// test's own (the shared one serves the other suites), clues arrive continuously through
/// intake (retried with their Idempotency-Key as an integration would), and PostgreSQL is
/// restarted twice, `immediate` (a crash) and `fast`. Afterwards every accepted clue is triaged
/// and public, every instance is ready, and no consumer has lag.
/// `TEST_RESTART_ROUNDS=N` repeats the two restarts N times under a longer load, to look for a
/// rare failure: `TEST_RESTART_ROUNDS=10 ops/test.sh --filter DatabaseRestartTests`.
// Under TEST_TODAY its own PostgreSQL cluster, restarted under libfaketime, left the test
// spinning: this one test runs on the real clock only (ops/test.sh reports it as skipped there).

private let restartRounds = ProcessInfo.processInfo.environment["TEST_RESTART_ROUNDS"].flatMap { Int($0) } ?? 1

extension HeavySuites {
    @Suite(
        .timeLimit(.minutes(4 + restartRounds / 2)),
        .disabled(
            if: ProcessInfo.processInfo.environment["FAKETIME"] != nil,
            "restarts PostgreSQL under libfaketime, which does not come back; run it without TEST_TODAY"))
    struct DatabaseRestartTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        /// `ops/postgres.sh` with its own state folder, as the scripts run it.
        struct Cluster {
            let state: String
            let port: Int

            func run(_ arguments: [String]) async throws -> String {
                let process = try ChildProcess(
                    "/bin/bash", [Self.script] + arguments,
                    environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "STATE": state, "PG_PORT": String(port)],
                    standardOutput: .pipe, standardError: .pipe)
                let (output, errors, status) = await process.output()
                guard status == 0 else { throw ClusterFailure(message: String(decoding: errors, as: UTF8.self)) }
                return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }

            static var script: String { DatabaseRestartTests.root.appendingPathComponent("ops/postgres.sh").path }
        }

        struct ClusterFailure: Error { var message: String }

        func control(_ arguments: [String], url: String, kafka: KafkaConfiguration) async throws {
            let run = try await OperationsCLITests.control(arguments, kafka: kafka, extra: ["DATABASE_URL": url])
            #expect(run.status == 0, "proposals-ctl \(arguments): \(run.errors)")
        }

        @Test func consumersAndRelaysRecoverFromPostgreSQLRestarts() async throws {
            let cluster = Cluster(state: NSTemporaryDirectory() + "restart-\(UUID().uuidString.prefix(8))", port: try TestEnvironment.freePort())
            let url = try await cluster.run(["start"])
            // Deleted whatever happened, without blocking a cooperative thread while it stops.
            do {
                try await restartUnderLoad(cluster: cluster, url: url)
            } catch {
                _ = try? await cluster.run(["reset"])
                throw error
            }
            _ = try await cluster.run(["reset"])
        }

        func restartUnderLoad(cluster: Cluster, url: String) async throws {
            let kafka = try TestEnvironment.kafka()
            try TestEnvironment.createTopics(kafka)
            try await control(["migrate"], url: url, kafka: kafka)
            try await control(["districts", "add", "haizhu", "海珠区", "--tracking-prefix", "HZ", "--session", "14"], url: url, kafka: kafka)

            var services: [ServiceProcess] = []
            defer { for service in services { service.kill() } }
            for name in ["intake", "triage", "triage", "publicity"] {
                services.append(try ServiceProcess(name, databaseURL: url, kafka: kafka))
            }
            for service in services {
                #expect(await eventually { (try? await http("GET", service.base + "/health/ready").status) == 200 })
            }
            let intake = services[0].base
            let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))
            let token = try signer.token(
                for: StaffClaims(subject: "studio-1", role: .memberStudio, district: haizhu, expiresAt: Date().addingTimeInterval(3600)))

            // Clues at a steady rate; each is sent until intake accepts it, with the same key.
            let clues = 240 * restartRounds
            let load = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for number in 0..<clues {
                        group.addTask {
                            let body = """
                                {"district":"haizhu","title":"路灯不亮 \(number)","situationAnalysis":"沙园街道第\(number)号路灯坏了",
                                 "specificSuggestions":"尽快修复","sourceCategory":"street-studio","channel":"staff-entry","anonymous":true,
                                 "receiver":{"kind":"studio","name":"沙园工作室"}}
                                """
                            for _ in 0..<200 {
                                let answer = try? await http(
                                    "POST", intake + "/v1/clues", json: body,
                                    headers: ["Authorization": "Bearer \(token)", "Idempotency-Key": "restart-\(number)"])
                                if let answer, answer.status == 201 || answer.status == 200 { return }
                                try await Task.sleep(for: .milliseconds(250))
                            }
                            Issue.record("clue \(number) was never accepted")
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try await group.waitForAll()
                }
            }
            for _ in 0..<restartRounds {
                try await Task.sleep(for: .seconds(3))
                _ = try await cluster.run(["restart", "immediate"])
                try await Task.sleep(for: .seconds(4))
                _ = try await cluster.run(["restart", "fast"])
            }
            try await load.value

            let database = Database(configuration: DatabaseConfiguration(url: url)!, logger: TestEnvironment.logger)
            let started = services
            try await database.running {
                func count(_ table: String) async throws -> Int {
                    try await database.transaction(.allDistricts) { transaction in
                        var value = 0
                        for try await count in try await transaction.query(PostgresQueryText.count(table)).decode(Int.self) { value = count }
                        return value
                    }
                }
                let caughtUp = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                    let counts = [try await count("clues"), try await count("triage_clues"), try await count("public_clues")]
                    return counts.allSatisfy { $0 == clues }
                }
                let (stored, triaged, published) = (try await count("clues"), try await count("triage_clues"), try await count("public_clues"))
                #expect(
                    caughtUp,
                    "clues \(stored), triaged \(triaged), public \(published)\n\(started.map { $0.logTail() }.joined(separator: "\n"))")
            }
            for service in services {
                #expect(service.process.isRunning, "\(service.logTail())")
                let ready = await eventually(timeout: .seconds(30)) { (try? await http("GET", service.base + "/health/ready").status) == 200 }
                #expect(ready, "ready: \(service.logTail())")
            }
            // Lag is measured every 10 s: wait for a measurement after the catch-up.
            for service in services.dropFirst() {
                let noLag = await eventually(timeout: .seconds(30), every: .seconds(1)) {
                    guard let metrics = try? await http("GET", service.base + "/metrics").body else { return false }
                    let lags = metrics.split(separator: "\n").filter { $0.hasPrefix("consumer_lag_messages{") }
                    return !lags.isEmpty && lags.allSatisfy { $0.hasSuffix(" 0.0") || $0.hasSuffix(" 0") }
                }
                #expect(noLag, "no lag: \(service.logTail())")
            }
        }
    }
}
