import Foundation
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

extension HeavySuites {
    /// The proposal lifecycle has one writer: with the five services running as processes, three
    /// proposals made from residents' clues are taken through every status the state machine has,
    /// each step through a service's HTTP API, and the history `ProposalStatuses` kept is a walk the
    /// state machine accepts.
    @Suite(.timeLimit(.minutes(4)))
    struct LifecycleProcessTests: ServiceProcessCalls {
        @Test func proposalsWalkEveryStatusAndTheHistoryIsOneTheStateMachineAccepts() async throws {
            let store = try await TestDatabase()
            let kafka = try TestEnvironment.kafka()
            try TestEnvironment.createTopics(kafka)
            var services: [String: ServiceProcess] = [:]
            defer { for service in services.values { service.kill() } }
            for name in ["intake", "triage", "assignment", "supervision", "publicity"] {
                services[name] = try ServiceProcess(name, databaseURL: store.url, kafka: kafka)
            }
            for service in services.values {
                #expect(
                    await eventually(timeout: .seconds(30)) { (try? await http("GET", service.base + "/health/ready").status) == 200 },
                    "\(service.name) ready")
            }
            let (intake, triage, assignment, supervision) = (
                services["intake"]!, services["triage"]!, services["assignment"]!, services["supervision"]!
            )
            let studio = try token(.memberStudio, "studio-1")
            let clerk = try token(.clueHandler, "clerk-1")
            let member = try token(.member, "member-wang")
            let committee = try token(.proposalsCommittee, "committee-1")

            // Three residents' clues, each made a reference topic, claimed and drafted by a member.
            var proposals: [String] = []
            for clue in [PilotClues.ebike, PilotClues.canteen, PilotClues.metro] {
                let sent = try await call(
                    intake, "POST", "/v1/clues",
                    [
                        "district": "haizhu", "title": clue.title, "situationAnalysis": clue.situation, "specificSuggestions": clue.suggestions,
                        "channel": "staff-entry", "sourceCategory": "street-studio", "consentToPublish": true, "anonymous": true,
                        "receiver": ["kind": "studio", "name": "沙园工作室"],
                    ], token: studio, expecting: 201)
                let clueID = try #require((sent.json["clueId"] as? String).flatMap(UUID.init(uuidString:)))
                #expect(
                    try await eventually(timeout: .seconds(60)) {
                        try await store.integer("SELECT count(*)::int FROM triage_clues WHERE clue_id = \(clueID)") == 1
                    }, "triage registers the clue (its log: \(triage.log))")
                let routed = try await call(
                    triage, "POST", "/v1/triage/clues/\(clueID)/decision", ["route": "reference-topic"], token: clerk, expecting: 200)
                let topic = try #require(routed.json["topicId"] as? String)
                try await call(triage, "POST", "/v1/reference-topics/\(topic)/claims", ["name": "王委员"], token: member, expecting: 201)
                let drafted = try await call(
                    triage, "POST", "/v1/proposals",
                    [
                        "title": "关于" + clue.title + "的提案", "caseSummary": clue.title, "reasons": clue.situation, "suggestions": clue.suggestions,
                        "proposers": [["name": "王委员", "kind": "member"]], "topicId": topic,
                    ], token: member, expecting: 201)
                proposals.append(try #require(drafted.json["id"] as? String))
            }
            let (walked, notFiled, withdrawn) = (proposals[0], proposals[1], proposals[2])

            // Review: returned once for revision, then filed; one not filed; one filed.
            try await call(triage, "POST", "/v1/proposals/\(walked)/submit", token: member, expecting: 200)
            try await call(
                triage, "POST", "/v1/proposals/\(walked)/review", ["decision": "return", "reason": "请补充充电桩选址"], token: committee, expecting: 200)
            try await call(triage, "POST", "/v1/proposals/\(walked)/submit", token: member, expecting: 200)
            try await call(triage, "POST", "/v1/proposals/\(walked)/review", ["decision": "file"], token: committee, expecting: 200)
            try await call(triage, "POST", "/v1/proposals/\(notFiled)/submit", token: member, expecting: 200)
            try await call(
                triage, "POST", "/v1/proposals/\(notFiled)/review",
                ["decision": "not-file", "reason": "建议作为社情民意信息报送", "alternativeRoute": "public-opinion-report"],
                token: committee, expecting: 200)
            try await call(triage, "POST", "/v1/proposals/\(withdrawn)/submit", token: member, expecting: 200)
            try await call(triage, "POST", "/v1/proposals/\(withdrawn)/review", ["decision": "file"], token: committee, expecting: 200)
            // A move the state machine forbids is refused with its reason, not written.
            let refiled = try await call(triage, "POST", "/v1/proposals/\(walked)/review", ["decision": "file"], token: committee, expecting: 409)
            #expect("\(refiled.json)".contains("filed"))

            // Assignment: contested by the co-unit (rejected), then by the lead (reassigned).
            var units: [String: UUID] = [:]
            for (code, name) in [("emergency", "区应急管理局"), ("street", "南华西街道办事处"), ("housing", "区住房和城乡建设局")] {
                let made = try await call(
                    assignment, "POST", "/v1/assignment/units", ["code": code, "name": name, "kind": "district-department"],
                    token: committee, expecting: 201)
                units[code] = try #require((made.json["id"] as? String).flatMap(UUID.init(uuidString:)))
            }
            let walkedID = try #require(UUID(uuidString: walked))
            let withdrawnID = try #require(UUID(uuidString: withdrawn))
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await store.integer("SELECT count(*)::int FROM assignment_cases WHERE proposal_id = ANY(\([walkedID, withdrawnID]))") == 2
                }, "assignment took in both filings")
            let assigned = try await call(
                assignment, "POST", "/v1/assignment/proposals/\(walked)/assignment",
                ["lead": units["emergency"]!.uuidString, "coUnits": [units["street"]!.uuidString]], token: committee, expecting: 201)
            let round1 = (assigned.json["assignments"] as? [[String: Any]]) ?? []
            let (lead1, co1) = (try #require(round1.first?["id"] as? String), try #require(round1.last?["id"] as? String))
            let streetToken = try token(.handlingUnit, "street-clerk", unit: units["street"])
            let emergencyToken = try token(.handlingUnit, "emergency-clerk", unit: units["emergency"])
            let contested = try await call(
                assignment, "POST", "/v1/assignment/my/assignments/\(co1)/contest", ["reason": "不属本街道职责"],
                token: streetToken, expecting: 201)
            let contest = try #require((contested.json["contests"] as? [[String: Any]])?.first?["id"] as? String)
            try await call(assignment, "POST", "/v1/assignment/contests/\(contest)/rejection", ["note": "街道负责选址宣传"], token: committee, expecting: 200)
            try await call(
                assignment, "POST", "/v1/assignment/my/assignments/\(lead1)/contest", ["reason": "充电设施建设属住建部门"],
                token: emergencyToken, expecting: 201)
            let reassigned = try await call(
                assignment, "POST", "/v1/assignment/proposals/\(walked)/reassignment",
                ["lead": units["housing"]!.uuidString, "coUnits": [units["street"]!.uuidString], "notes": "改由住建局主办"],
                token: committee, expecting: 201)
            let round2 = ((reassigned.json["assignments"] as? [[String: Any]]) ?? []).filter { $0["round"] as? Int == 2 }
            let (lead2, co2) = (try #require(round2.first?["id"] as? String), try #require(round2.last?["id"] as? String))
            try await call(
                assignment, "POST", "/v1/assignment/proposals/\(withdrawn)/assignment", ["lead": units["emergency"]!.uuidString],
                token: committee, expecting: 201)

            // Supervision: the co-unit's opinion, a B reply, a dissatisfied proposer, an A reply, a
            // satisfied one; the third proposal closed by the committee's decision.
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await store.integer("SELECT count(*)::int FROM supervised_assignments WHERE round = 2 OR proposal_id = \(withdrawnID)") == 3
                }, "supervision tracks the second round and the third proposal")
            let housingToken = try token(.handlingUnit, "housing-clerk", unit: units["housing"])
            try await call(
                supervision, "POST", "/v1/supervision/my/assignments/\(co2)/opinion", ["text": "街道配合做好选址和宣传。"], token: streetToken, expecting: 201)
            let promised = LocalDate.on(Date(), in: .chinaTime).adding(days: 60).description
            try await call(
                supervision, "POST", "/v1/supervision/my/assignments/\(lead2)/reply",
                ["text": "已列入明年建设计划。", "category": "B", "promisedDate": promised], token: housingToken, expecting: 201)
            try await call(
                supervision, "POST", "/v1/supervision/assignments/\(lead2)/evaluation", ["result": "dissatisfied", "comment": "进度太慢"],
                token: committee, expecting: 201)
            try await call(
                supervision, "POST", "/v1/supervision/my/assignments/\(lead2)/reply", ["text": "充电桩已建成。", "category": "A"],
                token: housingToken, expecting: 201)
            let closed = try await call(
                supervision, "POST", "/v1/supervision/assignments/\(lead2)/evaluation", ["result": "satisfied"],
                token: committee, expecting: 201)
            #expect(closed.json["proposalClosed"] as? Bool == true)
            try await call(
                supervision, "POST", "/v1/supervision/proposals/\(withdrawn)/closing", ["reason": "提案人撤回"], token: committee, expecting: 200)

            // Every status was reached, and each history replays on the state machine.
            var reached: Set<ProposalStatus> = [.drafting]
            for proposal in proposals {
                let id = try #require(UUID(uuidString: proposal))
                let history = try await store.database.transaction(.allDistricts) { transaction in
                    var moves: [(String, String, String)] = []
                    for try await move in try await transaction.query(
                        "SELECT from_status, transition, to_status FROM proposal_transitions WHERE proposal_id = \(id) ORDER BY id"
                    ).decode((String, String, String).self) { moves.append(move) }
                    return moves
                }
                var status = ProposalStatus.drafting
                for (from, transition, to) in history {
                    #expect(from == status.rawValue, "\(proposal): \(history)")
                    let next = try status.applying(try #require(ProposalTransition(rawValue: transition)))
                    #expect(next.rawValue == to)
                    status = next
                    reached.insert(next)
                }
                #expect(
                    try await store.integer("SELECT count(*)::int FROM proposals WHERE id = \(id) AND status = \(status.rawValue)") == 1,
                    "the stored status is where the history ends")
            }
            #expect(reached == Set(ProposalStatus.allCases), "not reached: \(Set(ProposalStatus.allCases).subtracting(reached))")
            let walkedHistory = try await store.database.transaction(.allDistricts) { transaction in
                var transitions: [String] = []
                for try await transition in try await transaction.query(
                    "SELECT transition FROM proposal_transitions WHERE proposal_id = \(walkedID) ORDER BY id"
                ).decode(String.self) { transitions.append(transition) }
                return transitions
            }
            #expect(
                walkedHistory == [
                    "submit-for-review", "return-for-revision", "submit-for-review", "file", "assign", "contest", "reject-contest", "contest",
                    "reassign", "reply", "evaluate-dissatisfied", "reply", "evaluate-satisfied", "close",
                ])

            // The public portal's read model follows to the end.
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await store.integer(
                        "SELECT count(*)::int FROM public_proposals WHERE proposal_id = \(walkedID) AND status = 'closed'", scope: .none) == 1
                }, "the portal shows the walked proposal closed")

            // Once everything has drained, the invariant check (`proposals-ctl check`) finds every invariant holding.
            var checked = try await OperationsCLITests.control(["check"], store: store, kafka: kafka)
            for _ in 0..<30 where checked.status != 0 {
                // Publicity may still be applying the last events: drained is when the check passes or the time is up.
                try await Task.sleep(for: .seconds(2))
                checked = try await OperationsCLITests.control(["check"], store: store, kafka: kafka)
            }
            #expect(checked.status == 0, "\(checked.output)\(checked.errors)")
            for invariant in ["clues-in-triage", "outbox-drained", "events-applied-once", "lifecycle", "read-model", "dead-letters"] {
                #expect(checked.output.contains("ok     \(invariant)"), "\(invariant): \(checked.output)")
            }
            // And names the first broken one: a triage row gone, a read-model row changed.
            for service in services.values { service.kill() }
            try await store.execute("DELETE FROM triage_clues WHERE clue_id = (SELECT clue_id FROM triage_clues LIMIT 1)", scope: .district(haizhu))
            try await store.execute("UPDATE public_proposals SET title = '改过的标题' WHERE proposal_id = \(walkedID)", scope: .none)
            let broken = try await OperationsCLITests.control(["check"], store: store, kafka: kafka)
            #expect(broken.status == 1 && broken.errors.contains("invariant broken: clues-in-triage"), "\(broken.output)\(broken.errors)")
            #expect(broken.output.contains("BROKEN read-model: public_proposals: 2 rows differ"), "\(broken.output)")
        }
    }
}
