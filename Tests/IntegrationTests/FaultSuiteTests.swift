import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import Synchronization
import TestSupport
import Testing

/// The services as processes of their own, restarted on the port they had.
final class Fleet: Sendable {
    struct Instance: Sendable {
        var name: String
        var port: Int
        var process: ServiceProcess
    }

    let databaseURL: String
    let kafka: KafkaConfiguration
    private let instances: Mutex<[Instance]>
    /// When each instance (by name and port) was last seen not ready, and the longest such spell per service.
    private let unready = Mutex<(since: [Int: ContinuousClock.Instant], longest: [String: Duration])>(([:], [:]))

    init(_ names: [String], databaseURL: String, kafka: KafkaConfiguration) throws {
        self.databaseURL = databaseURL
        self.kafka = kafka
        instances = Mutex(
            try names.map { name in
                let process = try ServiceProcess(name, databaseURL: databaseURL, kafka: kafka, environment: Self.environment(name))
                return Instance(name: name, port: process.port, process: process)
            })
    }

    static func environment(_ name: String) -> [String: String] {
        // The portal answers from the store at once.
        name == "publicity" ? ["PUBLICITY_PAGE_CACHE_SECONDS": "0"] : [:]
    }

    var all: [Instance] { instances.withLock { $0 } }

    /// The base URL of a running instance of `name` (the first when several run).
    func base(_ name: String) -> String {
        let ports = all.filter { $0.name == name }.map(\.port)
        return "http://127.0.0.1:\(ports.randomElement() ?? 0)"
    }

    /// Kills the instance at `index` with SIGKILL; restarts it on its port after `pause`.
    func crash(_ index: Int, restartAfter pause: Duration) async throws {
        let instance = all[index]
        instance.process.kill()
        _ = instance.process.process.waitUntilExit()
        try await Task.sleep(for: pause)
        let restarted = try ServiceProcess(
            instance.name, databaseURL: databaseURL, kafka: kafka, environment: Self.environment(instance.name),
            port: instance.port)
        instances.withLock { $0[index].process = restarted }
    }

    func killAll() { for instance in all { instance.process.kill() } }

    /// Polls every instance's readiness until cancelled, keeping each service's longest spell not ready.
    func watchReadiness() async {
        while !Task.isCancelled {
            for instance in all {
                let ready = (try? await http("GET", "http://127.0.0.1:\(instance.port)/health/ready").status) == 200
                let now = ContinuousClock.now
                unready.withLock { state in
                    if ready {
                        if let since = state.since.removeValue(forKey: instance.port) {
                            state.longest[instance.name] = max(state.longest[instance.name] ?? .zero, now - since)
                        }
                    } else if state.since[instance.port] == nil {
                        state.since[instance.port] = now
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    var longestUnready: [String: Duration] {
        let now = ContinuousClock.now
        return unready.withLock { state in
            var longest = state.longest
            for instance in all {
                if let since = state.since[instance.port] { longest[instance.name] = max(longest[instance.name] ?? .zero, now - since) }
            }
            return longest
        }
    }
}

/// A value the load's tasks share.
final class Guarded<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// How long the fault suite loads the system: 90 s in CI (one cycle of every fault), more by hand
/// (`ops/soak.sh --minutes N`, which sets `SOAK_MINUTES`).
enum FaultLoad {
    static let seconds = (Int(ProcessInfo.processInfo.environment["SOAK_MINUTES"] ?? "")).map { $0 * 60 } ?? 90
    static let minutes = (seconds + 59) / 60
}

extension HeavySuites {
    /// The fault suite (issue 20): clues arrive continuously through intake (with Idempotency-Keys,
    /// retried on errors and time-outs as an integration would) while staff take proposals from
    /// clue to closing, with two instances of every consumer, and meanwhile instances are killed
    /// with SIGKILL at random moments and restarted, one broker of three goes away for 30 s and all
    /// three for 10 s, PostgreSQL restarts `immediate`, poison is published to each input topic, and
    /// the brokers get round-trip delay. Bad input rides along: requests cut off mid-body, clients
    /// that hang up before the answer, resubmissions under a new key, and poison of three kinds
    /// (not JSON, not an event, an event whose payload cannot be). Then the load stops, the system drains, and the invariant
    /// check (`proposals-ctl check`) must hold. `SOAK_MINUTES` (ops/soak.sh) runs the load longer.
    /// Like DatabaseRestartTests, it restarts PostgreSQL, which does not come back under libfaketime.
    @Suite(
        .timeLimit(.minutes(FaultLoad.minutes + 8)),
        .disabled(
            if: ProcessInfo.processInfo.environment["FAKETIME"] != nil,
            "restarts PostgreSQL under libfaketime, which does not come back; run it without TEST_TODAY"))
    struct FaultSuiteTests: ServiceProcessCalls {
        static let cluesPerSecond = 6.0

        @Test func nothingIsLostOrDoubledUnderFaults() async throws {
            let cluster = DatabaseRestartTests.Cluster(
                state: NSTemporaryDirectory() + "faults-\(UUID().uuidString.prefix(8))", port: try TestEnvironment.freePort())
            let url = try await cluster.run(["start"])
            let brokers = try PrivateMockCluster(brokers: 3)
            do {
                try await run(cluster: cluster, url: url, brokers: brokers)
            } catch {
                brokers.stop()
                _ = try? await cluster.run(["reset"])
                throw error
            }
            brokers.stop()
            _ = try await cluster.run(["reset"])
        }

        /// A call retried until it is answered with one of `accepted` (or `timeout` passes): the staff
        /// side of the run, which must carry on through every fault as people would, pressing again.
        func insist(
            _ fleet: Fleet, _ service: String, _ method: String, _ path: String, _ json: [String: Any]? = nil, token: String,
            accepted: Set<Int>, timeout: Duration = .seconds(120)
        ) async throws -> HTTPAnswer? {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let answer = try? await sendHTTP(
                    method, fleet.base(service) + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
                    contentType: json == nil ? nil : "application/json", headers: ["Authorization": "Bearer \(token)"]),
                    accepted.contains(answer.status)
                {
                    return answer
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            return nil
        }

        func run(cluster: DatabaseRestartTests.Cluster, url: String, brokers: PrivateMockCluster) async throws {
            let kafka = KafkaConfiguration(
                brokers: brokers.brokers.split(separator: ",").map(String.init), clientID: "test",
                topicPrefix: "f\(UUID().uuidString.prefix(6).lowercased())-")
            try TestEnvironment.createTopics(kafka, control: brokers.control)
            for arguments in [["migrate"], ["districts", "add", "haizhu", "海珠区", "--tracking-prefix", "HZ", "--session", "14"]] {
                let run = try await OperationsCLITests.control(arguments, kafka: kafka, extra: ["DATABASE_URL": url])
                #expect(run.status == 0, "proposals-ctl \(arguments): \(run.errors)")
            }
            let database = Database(configuration: DatabaseConfiguration(url: url)!, logger: TestEnvironment.logger)
            try await database.running {
                // Every resident of the load writes from one address: the district's hourly limit per address is lifted.
                try await database.transaction(.none) {
                    try await $0.execute("UPDATE districts SET public_submission = true, public_submissions_per_hour = 1000000")
                }
            }
            let names = ["intake", "triage", "triage", "assignment", "assignment", "supervision", "supervision", "publicity", "publicity"]
            let fleet = try Fleet(names, databaseURL: url, kafka: kafka)
            defer { fleet.killAll() }
            for instance in fleet.all {
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        (try? await http("GET", "http://127.0.0.1:\(instance.port)/health/ready").status) == 200
                    },
                    "\(instance.name) ready")
            }
            let watcher = Task { await fleet.watchReadiness() }
            let committee = try token(.proposalsCommittee, "committee-1")
            let clerk = try token(.clueHandler, "clerk-1")
            let member = try token(.member, "member.wang")
            let unitID = try #require(
                try await insist(
                    fleet, "assignment", "POST", "/v1/assignment/units",
                    ["code": "housing", "name": "区住房和城乡建设局", "kind": "district-department"],
                    token: committee, accepted: [201]
                ).flatMap { ($0.json["id"] as? String).flatMap(UUID.init(uuidString:)) })
            let unit = try token(.handlingUnit, "housing-clerk", unit: unitID)

            // The load: residents' clues at a fixed rate, each sent until intake accepts it, with its key.
            // Bad input rides along: one clue in ten is first sent cut off mid-body, one in ten first
            // sent whole by a client that hangs up before the answer, and one in ten is sent again by
            // the same resident under a new key (a resubmission: the first clue's answer, no second clue).
            let loadSeconds = Double(FaultLoad.seconds)
            let total = Int(loadSeconds * Self.cluesPerSecond)
            let accepted = Guarded<[String: String]>([:])
            let resubmissions = Guarded<(recognised: Int, missed: [String])>((0, []))
            let start = ContinuousClock.now
            let intakeBase = fleet.base("intake")
            /// Sends until intake accepts: the answer's status and clue id, nil when the run ends first.
            @Sendable func sendUntilAccepted(_ body: Data, key: String) async -> (status: Int, id: String, resubmission: Bool)? {
                // A cancelled test stops at once rather than spin.
                while !Task.isCancelled && ContinuousClock.now - start < .seconds(loadSeconds + 180) {
                    if let answer = try? await sendHTTP(
                        "POST", intakeBase + "/v1/clues", body: body, contentType: "application/json",
                        headers: ["Idempotency-Key": key]),
                        answer.status == 201 || answer.status == 200, let id = answer.json["clueId"] as? String
                    {
                        return (answer.status, id, answer.json["resubmission"] as? Bool ?? false)
                    }
                    do { try await Task.sleep(for: .milliseconds(300)) } catch { return nil }
                }
                return nil
            }
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for number in 0..<total {
                        let due = start + .milliseconds(Int(Double(number) * 1_000 / Self.cluesPerSecond))
                        do { try await Task.sleep(until: due) } catch { break }
                        group.addTask {
                            let key = "fault-\(number)"
                            var clue: [String: Any] = [
                                "district": "haizhu", "channel": "web", "title": "第\(number)号线索：小区路灯不亮",
                                "situationAnalysis": "\(number)号楼前的路灯坏了\(number % 97)天", "specificSuggestions": "尽快修复\(number)号楼前路灯",
                                "anonymous": true, "consentToPublish": true,
                            ]
                            let resubmitted = number % 10 == 5
                            if resubmitted {
                                clue["anonymous"] = false
                                clue["consentToProcessing"] = true
                                clue["contact"] = ["name": "居民\(number)", "phone": String(format: "139%08d", number)]
                            }
                            let body = try! JSONSerialization.data(withJSONObject: clue)
                            switch number % 10 {
                            case 3: try? HangingUpClient.send(HangingUpClient.clueRequest(body, key: key, cutOff: true), to: intakeBase)
                            case 7: try? HangingUpClient.send(HangingUpClient.clueRequest(body, key: key), to: intakeBase)
                            default: break
                            }
                            guard let first = await sendUntilAccepted(body, key: key) else { return }
                            accepted.withLock { $0[key] = first.id }
                            guard resubmitted, let again = await sendUntilAccepted(body, key: key + "-again") else { return }
                            resubmissions.withLock {
                                if again.status == 200 && again.resubmission && again.id == first.id {
                                    $0.recognised += 1
                                } else {
                                    $0.missed.append("\(key): \(again)")
                                }
                            }
                        }
                    }
                }
            }

            // The staff: one proposal after another from a clue of their own to closing, pressing again through faults.
            let chains = Guarded<(closed: Int, stuck: [String])>((0, []))
            let staff = Task {
                var round = 0
                while ContinuousClock.now - start < .seconds(loadSeconds) && !Task.isCancelled {
                    round += 1
                    let pilot = [PilotClues.ebike, PilotClues.canteen, PilotClues.metro, PilotClues.noise][round % 4]
                    func step(_ what: String, _ answer: HTTPAnswer?) -> HTTPAnswer? {
                        if answer == nil { chains.withLock { $0.stuck.append("round \(round): \(what)") } }
                        return answer
                    }
                    guard
                        let sent = step(
                            "submit",
                            try? await insist(
                                fleet, "intake", "POST", "/v1/clues",
                                [
                                    "district": "haizhu", "channel": "staff-entry", "sourceCategory": "street-studio", "anonymous": true,
                                    "title": pilot.title + "（第\(round)轮）", "situationAnalysis": pilot.situation,
                                    "specificSuggestions": pilot.suggestions,
                                    "receiver": ["kind": "studio", "name": "沙园街委员工作室"],
                                ], token: try token(.memberStudio, "studio-1"), accepted: [201])), let clue = sent.json["clueId"] as? String
                    else { continue }
                    accepted.withLock { $0["staff-\(round)"] = clue }
                    guard
                        let routed = step(
                            "route",
                            try? await insist(
                                fleet, "triage", "POST", "/v1/triage/clues/\(clue)/decision",
                                ["route": "reference-topic"], token: clerk, accepted: [200])),
                        let topic = routed.json["topicId"] as? String
                    else { continue }
                    _ = step(
                        "claim",
                        try? await insist(
                            fleet, "triage", "POST", "/v1/reference-topics/\(topic)/claims", ["name": "王委员"],
                            token: member, accepted: [201, 409]))
                    guard
                        let drafted = step(
                            "draft",
                            try? await insist(
                                fleet, "triage", "POST", "/v1/proposals",
                                [
                                    "title": "关于" + pilot.title + "的提案（第\(round)轮）", "caseSummary": pilot.title, "reasons": pilot.situation,
                                    "suggestions": pilot.suggestions, "proposers": [["name": "王委员", "kind": "member"]], "topicId": topic,
                                ], token: member, accepted: [201])), let proposal = drafted.json["id"] as? String
                    else { continue }
                    guard
                        step(
                            "submit for review",
                            try? await insist(
                                fleet, "triage", "POST", "/v1/proposals/\(proposal)/submit",
                                token: member, accepted: [200, 409])) != nil,
                        step(
                            "file",
                            try? await insist(
                                fleet, "triage", "POST", "/v1/proposals/\(proposal)/review", ["decision": "file"],
                                token: committee, accepted: [200, 409])) != nil
                    else { continue }
                    // Assignment takes the filing in from the topic; the committee assigns once it has.
                    guard
                        let assigned = step(
                            "assign",
                            try? await insist(
                                fleet, "assignment", "POST", "/v1/assignment/proposals/\(proposal)/assignment",
                                ["lead": unitID.uuidString], token: committee, accepted: [201, 409]))
                    else { continue }
                    var part = ((assigned.json["assignments"] as? [[String: Any]]) ?? []).first?["id"] as? String
                    if part == nil,
                        let listed = try? await insist(
                            fleet, "assignment", "GET", "/v1/assignment/proposals/\(proposal)",
                            token: committee, accepted: [200])
                    {
                        part = ((listed.json["assignments"] as? [[String: Any]]) ?? []).first?["id"] as? String
                    }
                    guard let part else { _ = step("find the assignment", nil); continue }
                    guard
                        step(
                            "reply",
                            try? await insist(
                                fleet, "supervision", "POST", "/v1/supervision/my/assignments/\(part)/reply",
                                ["text": "已办理完毕（第\(round)轮）。", "category": "A"], token: unit, accepted: [201, 409])) != nil,
                        step(
                            "evaluate",
                            try? await insist(
                                fleet, "supervision", "POST", "/v1/supervision/assignments/\(part)/evaluation",
                                ["result": "satisfied"], token: committee, accepted: [201, 409])) != nil
                    else { continue }
                    chains.withLock { $0.closed += 1 }
                }
            }

            // The faults, on a schedule of their own; the cycle repeats for longer runs.
            let poisonTopics = [
                (TopicCatalogue.intakeEvents, "clue.received"), (TopicCatalogue.triageEvents, "proposal.filed"),
                (TopicCatalogue.assignmentEvents, "proposal.assigned"), (TopicCatalogue.supervisionEvents, "assignment.replied"),
            ]
            var poisoned = 0
            var lastFaultEnded = ContinuousClock.now
            var log: [String] = []
            func note(_ text: String) {
                let seconds = Double((ContinuousClock.now - start).components.seconds)
                log.append(String(format: "%5.0f s  ", seconds) + text)
            }
            // One cycle of every fault takes 75 s; longer runs repeat it.
            while ContinuousClock.now - start < .seconds(loadSeconds - 75) || log.isEmpty {
                let cycle = ContinuousClock.now
                func at(_ seconds: Int) async throws { try await Task.sleep(until: cycle + .seconds(seconds)) }
                // kill -9 of a random instance (intake too) at random moments, restarted after a few seconds.
                let kills = Task {
                    var killed: [String] = []
                    for moment in [5, 20, 60] {
                        try await Task.sleep(until: cycle + .seconds(moment) + .milliseconds(Int.random(in: 0...4_000)))
                        let index = Int.random(in: 0..<fleet.all.count)
                        killed.append("\(fleet.all[index].name) on \(fleet.all[index].port)")
                        try await fleet.crash(index, restartAfter: .seconds(Int.random(in: 2...5)))
                    }
                    return killed
                }
                // One broker of three away for 30 s.
                note("broker 2 down for 30 s")
                try brokers.control.brokerDown(2)
                try await at(30)
                try brokers.control.brokerUp(2)
                // Poison on each input topic: bytes that are not JSON, JSON that is not an event, and an
                // event of a type the topic's consumers apply whose payload cannot be (fields missing).
                try await at(35)
                let producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
                for (topic, type) in poisonTopics {
                    let impossible = EventEnvelope(
                        type: type, schemaVersion: 1, district: DistrictCode(rawValue: "haizhu")!, occurredAt: Date(),
                        correlationID: UUID(), payload: .object(["impossible": .bool(true)]))
                    let poisons = [
                        Data("{\"eventId\": \"cut off".utf8), Data("{\"not\":\"an event\",\"n\":\(poisoned)}".utf8), try impossible.encoded(),
                    ]
                    let messages = poisons.enumerated().map {
                        OutgoingMessage(topic: kafka.topicName(topic.name), key: "poison-\(poisoned)-\($0.offset)", value: $0.element)
                    }
                    for result in await producer.send(messages) where (try? result.get()) != nil { poisoned += 1 }
                }
                await producer.close()
                note("poison on \(poisonTopics.count) topics")
                // All three brokers away for 10 s.
                try await at(36)
                note("all brokers down for 10 s")
                for broker in 1...3 { try brokers.control.brokerDown(broker) }
                try await at(46)
                for broker in 1...3 { try brokers.control.brokerUp(broker) }
                // PostgreSQL crashes and comes back.
                try await at(50)
                note("PostgreSQL restart -m immediate")
                _ = try await cluster.run(["restart", "immediate"])
                // Round-trip delay on every broker for 15 s.
                try await at(58)
                note("150 ms round trip on the brokers for 15 s")
                for broker in 1...3 { _ = try brokers.control.send("rtt \(broker) 150") }
                try await at(73)
                for broker in 1...3 { _ = try brokers.control.send("rtt \(broker) 0") }
                for killed in try await kills.value { note("kill -9 \(killed), restarted") }
                lastFaultEnded = .now
            }

            await load.value
            await staff.value
            note("load stopped")

            // Drained: the invariant check passes (it is retried while the consumers catch up).
            let drainStart = ContinuousClock.now
            var checked = try await OperationsCLITests.control(
                ["check", "--expected-dead-letters", String(poisoned)], kafka: kafka,
                extra: ["DATABASE_URL": url])
            while checked.status != 0 && ContinuousClock.now - drainStart < .seconds(240) {
                try await Task.sleep(for: .seconds(3))
                checked = try await OperationsCLITests.control(
                    ["check", "--expected-dead-letters", String(poisoned)], kafka: kafka,
                    extra: ["DATABASE_URL": url])
            }
            let drained = ContinuousClock.now - lastFaultEnded
            watcher.cancel()
            #expect(checked.status == 0, "\(checked.output)\(checked.errors)\n\(log.joined(separator: "\n"))")

            // Every accepted clue stored once: none lost, none doubled.
            let keys = accepted.withLock { $0 }
            // A client of its own: a PostgresClient runs once, and the first ran for the set-up.
            let reader = Database(configuration: DatabaseConfiguration(url: url)!, logger: TestEnvironment.logger)
            let (stored, lost) = try await reader.running {
                try await reader.transaction(.allDistricts) { transaction in
                    var stored = 0
                    for try await count in try await transaction.query("SELECT count(*)::int FROM clues").decode(Int.self) { stored = count }
                    var lost = 0
                    for try await count in try await transaction.query(
                        "SELECT count(*)::int FROM unnest(\(Array(keys.values))::uuid[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM clues c WHERE c.id = a.id)"
                    ).decode(Int.self) { lost = count }
                    return (stored, lost)
                }
            }
            let distinct = Set(keys.values).count
            #expect(lost == 0, "accepted clues not stored")
            #expect(stored == distinct, "stored \(stored) clues for \(distinct) accepted: \(stored - distinct) doubled")
            #expect(keys.count == distinct, "two keys answered with one clue")
            let (recognised, missed) = resubmissions.withLock { ($0.recognised, $0.missed) }
            #expect(recognised > 0 && missed.isEmpty, "a resubmission answered with the first clue: \(missed)")
            let (closed, stuck) = chains.withLock { ($0.closed, $0.stuck) }
            #expect(closed > 0, "the staff closed proposals through the faults; stuck: \(stuck)")
            let unready = fleet.longestUnready.sorted { $0.value > $1.value }
            let report = """
                fault-suite: \(FaultLoad.seconds) s of load at \(Int(Self.cluesPerSecond)) clues/s; clues accepted \(keys.count), lost \(lost), \
                doubled \(stored - distinct); resubmissions answered with the first clue \(recognised) (missed \(missed.count)); proposals closed by staff \(closed) (steps given up \(stuck.count)); poison messages \(poisoned), \
                dead-lettered as expected: \(checked.status == 0); drained \(String(format: "%.1f", Double(drained.components.seconds) + Double(drained.components.attoseconds) / 1e18)) s \
                after the last fault; longest not ready: \(unready.prefix(3).map { "\($0.key) \($0.value.components.seconds) s" }.joined(separator: ", "))
                """
            print(report)
            print(log.joined(separator: "\n"))
            let state = ProcessInfo.processInfo.environment["STATE"] ?? NSTemporaryDirectory()
            try? (report + "\n" + log.joined(separator: "\n") + "\n" + checked.output).write(
                toFile: state + "/fault-suite-report.txt", atomically: true, encoding: .utf8)
        }
    }
}
