import Foundation
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

extension HeavySuites {
    /// Two residents' clues the whole way, with every service its own process (the executables the
    /// build made, as ops/run.sh starts them) and every step through a service's HTTP API: intake →
    /// triage (grouped, routed as a reference topic) → claimed, drafted, filed → assigned to a lead
    /// and a co-unit → opinion, the three meetings, reply → evaluated by the proposer through their
    /// link → closed. What the residents' tracking page, the public portal and the open data show
    /// is checked at each step, and the invariant check holds at the end.
    @Suite(.timeLimit(.minutes(4)))
    struct WholeSystemProcessTests: ServiceProcessCalls {
        /// The tracking page a resident opens with their receipt.
        func tracked(_ publicity: ServiceProcess, _ receipt: (number: String, token: String)) async throws -> String {
            let body = "number=\(receipt.number)&token=\(receipt.token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            return try await sendHTTP("POST", publicity.base + "/track", body: Data(body.utf8), contentType: "application/x-www-form-urlencoded").text
        }

        /// Waits until `condition` holds of what `read` returns; the last value when it never does.
        func until(_ read: @escaping @Sendable () async throws -> String, _ condition: @escaping @Sendable (String) -> Bool) async throws -> String {
            var last = ""
            _ = await eventually(timeout: .seconds(60)) {
                last = (try? await read()) ?? ""
                return condition(last)
            }
            return last
        }

        @Test func twoResidentsCluesBecomeOneClosedProposalOnThePortal() async throws {
            let store = try await TestDatabase()
            try await store.execute("UPDATE districts SET public_submission = true WHERE code = 'haizhu'", scope: .none)
            let kafka = try TestEnvironment.kafka()
            try TestEnvironment.createTopics(kafka)
            var services: [String: ServiceProcess] = [:]
            defer { for service in services.values { service.kill() } }
            for name in ["intake", "triage", "assignment", "supervision", "publicity"] {
                // The portal answers from the store at once: no page cache between the steps.
                services[name] = try ServiceProcess(
                    name, databaseURL: store.url, kafka: kafka,
                    environment: name == "publicity" ? ["PUBLICITY_PAGE_CACHE_SECONDS": "0"] : [:])
            }
            for service in services.values {
                #expect(
                    await eventually(timeout: .seconds(30)) { (try? await http("GET", service.base + "/health/ready").status) == 200 },
                    "\(service.name) ready")
            }
            let (intake, triage, assignment, supervision, publicity) = (
                services["intake"]!, services["triage"]!, services["assignment"]!, services["supervision"]!, services["publicity"]!
            )
            let clerk = try token(.clueHandler, "clerk-1")
            let member = try token(.member, "member.wang")
            let committee = try token(.proposalsCommittee, "committee-1")

            // Two residents write in about the same problem, through the public web API.
            var receipts: [(number: String, token: String)] = []
            var clueIDs: [String] = []
            for (index, clue) in [PilotClues.ebike, PilotClues.ebikeParaphrase].enumerated() {
                let sent = try await call(
                    intake, "POST", "/v1/clues",
                    [
                        "district": "haizhu", "channel": "web", "title": clue.title, "situationAnalysis": clue.situation,
                        "specificSuggestions": clue.suggestions, "consentToPublish": true, "anonymous": false, "consentToProcessing": true,
                        "contact": ["name": index == 0 ? "张女士" : "李先生", "phone": index == 0 ? "13800138000" : "13900139000"],
                    ], token: nil, expecting: 201)
                receipts.append((try #require(sent.json["trackingNumber"] as? String), try #require(sent.json["receiptToken"] as? String)))
                clueIDs.append(try #require(sent.json["clueId"] as? String))
            }
            let first = receipts[0]
            var page = try await tracked(publicity, first)
            #expect(page.contains(first.number) && page.contains(PilotClues.ebike.title), "the resident finds the clue by the receipt")

            // Triage groups the two voices and the clerk routes the group as a reference topic.
            let grouped = try await until({
                try await store.string("SELECT count(DISTINCT group_id)::text || '/' || count(*)::text FROM triage_clues", scope: .allDistricts) ?? ""
            }) { $0 == "1/2" }
            #expect(grouped == "1/2", "both clues registered in one group")
            let group = try #require(try await store.string("SELECT group_id::text FROM triage_clues LIMIT 1", scope: .allDistricts))
            let routed = try await call(
                triage, "POST", "/v1/triage/groups/\(group)/decision", ["route": "reference-topic"], token: clerk, expecting: 200)
            #expect(((routed.json["routed"] as? [String]) ?? []).sorted() == clueIDs.sorted())
            let topic = try #require(try await store.string("SELECT id::text FROM reference_topics LIMIT 1", scope: .allDistricts))
            page = try await until({ try await tracked(publicity, first) }) { $0.contains("参考选题") }
            #expect(page.contains(#"<dd id="clue-status">已作为参考选题发布</dd>"#), "the resident sees the clue became a reference topic: \(page)")
            #expect(!page.contains("张女士") && !page.contains("13800138000"), "no contact data on the tracking page")

            // A member claims the topic, drafts and submits; the committee files.
            try await call(triage, "POST", "/v1/reference-topics/\(topic)/claims", ["name": "王委员"], token: member, expecting: 201)
            let drafted = try await call(
                triage, "POST", "/v1/proposals",
                [
                    "title": "关于规范老旧小区电动自行车充电的提案", "caseSummary": "电动自行车楼道充电隐患", "reasons": PilotClues.ebike.situation,
                    "suggestions": PilotClues.ebike.suggestions, "proposers": [["name": "王委员", "kind": "member"]], "topicId": topic,
                ], token: member, expecting: 201)
            let proposal = try #require(drafted.json["id"] as? String)
            try await call(triage, "POST", "/v1/proposals/\(proposal)/submit", token: member, expecting: 200)
            let filed = try await call(triage, "POST", "/v1/proposals/\(proposal)/review", ["decision": "file"], token: committee, expecting: 200)
            let caseNumber = try #require(filed.json["caseNumber"] as? String, "\(filed.text)")
            let proposalPage = try await until({ try await sendHTTP("GET", publicity.base + "/proposals/\(proposal)").text }) {
                $0.contains(caseNumber)
            }
            #expect(
                proposalPage.contains(caseNumber) && proposalPage.contains("已立案"), "the portal shows the filed proposal: \(proposalPage.prefix(400))")
            #expect(!proposalPage.contains("张女士") && !proposalPage.contains("13800138000"))
            let openData = try await sendHTTP("GET", publicity.base + "/open-data/feedback.json?district=haizhu")
            #expect(
                ((openData.json["items"] as? [[String: Any]]) ?? []).map { $0["caseNumber"] as? String } == [caseNumber],
                "\(openData.text.prefix(400))")
            page = try await tracked(publicity, first)
            #expect(
                page.contains("/proposals/\(proposal.lowercased())") && page.contains(#"<dd id="clue-status">已形成提案</dd>"#),
                "the tracking page says the clue became a proposal and links it: \(page)")
            // Intake's status answer for the receipt holder says the same.
            let status = try await sendHTTP("GET", intake.base + "/v1/clues/\(first.number)", headers: ["X-Receipt-Token": first.token])
            #expect(status.json["status"] as? String == "in-proposal" && status.json["statusLabel"] as? String == "已形成提案", "\(status.text)")

            // Assigned to a lead and a co-unit.
            var units: [String: UUID] = [:]
            for (code, name) in [("housing", "区住房和城乡建设局"), ("street", "南华西街道办事处")] {
                let made = try await call(
                    assignment, "POST", "/v1/assignment/units", ["code": code, "name": name, "kind": "district-department"],
                    token: committee, expecting: 201)
                units[code] = try #require((made.json["id"] as? String).flatMap(UUID.init(uuidString:)))
            }
            #expect(
                await eventually(timeout: .seconds(60)) {
                    (try? await store.integer("SELECT count(*)::int FROM assignment_cases WHERE proposal_id = \(UUID(uuidString: proposal)!)")) == 1
                }, "assignment took in the filing")
            let assigned = try await call(
                assignment, "POST", "/v1/assignment/proposals/\(proposal)/assignment",
                ["lead": units["housing"]!.uuidString, "coUnits": [units["street"]!.uuidString]], token: committee, expecting: 201)
            let parts = (assigned.json["assignments"] as? [[String: Any]]) ?? []
            let lead = try #require(parts.first { $0["role"] as? String == "lead" }?["id"] as? String)
            let co = try #require(parts.first { $0["role"] as? String != "lead" }?["id"] as? String)
            let assignedPage = try await until({ try await sendHTTP("GET", publicity.base + "/proposals/\(proposal)").text }) { $0.contains("办理中") }
            #expect(assignedPage.contains("办理中") && assignedPage.contains("区住房和城乡建设局") && assignedPage.contains("南华西街道办事处"))

            // The co-unit's opinion, the lead unit's three meetings and its reply.
            #expect(
                await eventually(timeout: .seconds(60)) {
                    (try? await store.integer("SELECT count(*)::int FROM supervised_assignments WHERE proposal_id = \(UUID(uuidString: proposal)!)"))
                        == 2
                }, "supervision tracks both parts")
            let housing = try token(.handlingUnit, "housing-clerk", unit: units["housing"])
            let street = try token(.handlingUnit, "street-clerk", unit: units["street"])
            try await call(supervision, "POST", "/v1/supervision/my/assignments/\(co)/opinion", ["text": "街道配合做好选址。"], token: street, expecting: 201)
            let today = LocalDate.on(Date(), in: .chinaTime).description
            for stage in ["before", "during", "after"] {
                try await call(
                    supervision, "POST", "/v1/supervision/my/assignments/\(lead)/meetings",
                    [
                        "stage": stage, "heldOn": today, "form": "座谈", "attendees": "王委员、区住建局", "summary": "沟通办理方案",
                    ], token: housing, expecting: 201)
            }
            try await call(
                supervision, "POST", "/v1/supervision/my/assignments/\(lead)/reply",
                ["text": "已在南华西街建成集中充电桩三处。", "category": "A"], token: housing, expecting: 201)
            let repliedPage = try await until({ try await sendHTTP("GET", publicity.base + "/proposals/\(proposal)").text }) { $0.contains("已答复") }
            #expect(repliedPage.contains("已答复") && repliedPage.contains("集中充电桩"), "the portal shows the reply")

            // The proposer evaluates through their own link: satisfied, and the proposal closes.
            let link = try await call(supervision, "POST", "/v1/supervision/proposals/\(proposal)/evaluation-link", token: committee, expecting: 201)
            let secret = try #require(link.json["token"] as? String)
            let evaluated = try await call(
                supervision, "POST", "/v1/supervision/evaluations/\(secret)",
                ["assignmentId": lead, "result": "satisfied", "comment": "解决得好"], token: nil, expecting: 201)
            #expect(evaluated.json["proposalClosed"] as? Bool == true, "\(evaluated.text)")
            let closedPage = try await until({ try await sendHTTP("GET", publicity.base + "/proposals/\(proposal)").text }) { $0.contains("已办结") }
            #expect(closedPage.contains("已办结") && closedPage.contains("满意"), "the portal shows it closed and evaluated")
            let closedData = try await until({ try await sendHTTP("GET", publicity.base + "/open-data/feedback.json?district=haizhu").text }) {
                $0.contains("\"satisfactionCode\":\"satisfied\"")
            }
            #expect(closedData.contains(caseNumber) && closedData.contains("\"satisfactionCode\":\"satisfied\""), "\(closedData.prefix(600))")
            #expect(!closedData.contains("张女士") && !closedData.contains("13800138000"), "no personal data in the open data")

            // Everything drained: every invariant holds.
            var checked = try await OperationsCLITests.control(["check"], store: store, kafka: kafka)
            for _ in 0..<30 where checked.status != 0 {
                try await Task.sleep(for: .seconds(2))
                checked = try await OperationsCLITests.control(["check"], store: store, kafka: kafka)
            }
            #expect(checked.status == 0, "\(checked.output)\(checked.errors)")
        }
    }
}
