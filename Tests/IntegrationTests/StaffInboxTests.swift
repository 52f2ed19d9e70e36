import Foundation
import Messaging
import Models
import ServiceKit
import TestSupport
import Testing

/// The staff notices publicity writes from the lifecycle events and each account reads as its
/// inbox (`/v1/inbox`): the right audience, once per event, read marks per person.
@Suite(.timeLimit(.minutes(3)))
struct StaffInboxTests {
    func call(_ fixture: PublicityFixture, _ method: String, _ path: String, json: Any? = nil, as claims: StaffClaims) async throws -> HTTPAnswer {
        try await sendHTTP(
            method, fixture.base + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            contentType: json == nil ? nil : "application/json",
            headers: ["Authorization": "Bearer \(try fixture.signer.token(for: claims))"])
    }

    func person(_ role: StaffClaims.Role, _ subject: String, unit: UUID? = nil, name: String? = nil, district: String = "haizhu") -> StaffClaims {
        StaffClaims(
            subject: subject, role: role, district: DistrictCode(rawValue: district)!, unitID: unit,
            expiresAt: Date().addingTimeInterval(3600), name: name)
    }

    @Test func eachUnitIsToldOfItsOwnPartOnceAndReadMarksArePerPerson() async throws {
        let fixture = try await PublicityFixture()
        let clue = try await fixture.clue("电动自行车楼道充电", text: "存在火灾隐患")
        let proposal = try await fixture.file("规范电动自行车充电", suggestions: "建设集中充电桩", clues: [clue])
        let units = try await fixture.assign(proposal, lead: "区消防救援大队", co: ["南华西街道办事处"])
        // The same assignment event delivered a second time (a redelivery after a crash).
        let again = try EventEnvelope(
            ProposalAssigned(
                proposalID: proposal.id, caseNumber: proposal.caseNumber, kind: .citizen, round: 1, units: units, isKey: false,
                supervisingLeader: nil, automatic: false, confirmedPreAssignment: false),
            district: proposal.district, occurredAt: Date())
        for _ in 0..<2 {
            for result in await fixture.producer.send([
                OutgoingMessage(
                    topic: fixture.kafka.topicName(TopicCatalogue.assignmentEvents.name), key: Data(proposal.id.uuidString.utf8),
                    value: try again.encoded())
            ]) {
                _ = try result.get()
            }
        }
        try await fixture.reply(proposal, units[0], text: "已建设充电桩 20 处")
        // The reply was published last; once the committee is told of it, the assignments were applied before it.
        #expect(
            try await eventually(timeout: .seconds(30)) {
                let replies = try await fixture.store.integer("SELECT count(*)::int FROM staff_notices WHERE kind = \(AssignmentReplied.eventType)")
                let assignments = try await fixture.store.integer(
                    "SELECT count(*)::int FROM staff_notices WHERE kind = \(ProposalAssigned.eventType)")
                return replies == 1 && assignments == 4
            })

        let leadClerk = person(.handlingUnit, "fire-1", unit: units[0].unitID)
        let leadDeputy = person(.handlingUnit, "fire-2", unit: units[0].unitID)
        let street = person(.handlingUnit, "street-1", unit: units[1].unitID)
        let committee = person(.proposalsCommittee, "committee-1")

        let lead = try await call(fixture, "GET", "/v1/inbox", as: leadClerk)
        #expect(lead.status == 200)
        let leadNotices = try #require(lead.json["notices"] as? [[String: Any]])
        // Two deliveries of the same event, and one told of it twice? One notice per event here.
        #expect(leadNotices.filter { ($0["kind"] as? String) == ProposalAssigned.eventType }.count == 2, "\(lead.text)")
        let titles = leadNotices.compactMap { $0["title"] as? String }
        #expect(titles.contains { $0.contains(proposal.caseNumber) && $0.contains("主办") })
        #expect(lead.json["unread"] as? Int == leadNotices.count)
        let streetAnswer = try await call(fixture, "GET", "/v1/inbox", as: street)
        let streetNotices = try #require(streetAnswer.json["notices"] as? [[String: Any]])
        #expect(streetNotices.count >= 1 && streetNotices.allSatisfy { ($0["title"] as? String)?.contains("协办") == true })
        #expect(streetNotices.allSatisfy { ($0["link"] as? String) == StaffNoticeRouting.unitPage(units[1].assignmentID) })

        let committeeAnswer = try await call(fixture, "GET", "/v1/inbox", as: committee)
        let committeeTitles = (committeeAnswer.json["notices"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
        #expect(committeeTitles.count == 1 && committeeTitles[0].contains("已答复"), "the reply, not the units' assignments: \(committeeTitles)")

        // Reading is per person: the clerk reads one, the deputy still has it unread.
        let first = try #require(leadNotices.first?["id"] as? String)
        #expect(try await call(fixture, "POST", "/v1/inbox/read", json: ["ids": [first]], as: leadClerk).json["marked"] as? Int == 1)
        #expect(try await call(fixture, "POST", "/v1/inbox/read", json: ["ids": [first]], as: leadClerk).json["marked"] as? Int == 0)
        #expect(try await call(fixture, "GET", "/v1/inbox?unread=true", as: leadClerk).json["unread"] as? Int == leadNotices.count - 1)
        #expect(try await call(fixture, "GET", "/v1/inbox?unread=true", as: leadDeputy).json["unread"] as? Int == leadNotices.count)
        // Another unit cannot mark the lead unit's notice, nor see it.
        #expect(try await call(fixture, "POST", "/v1/inbox/read", json: ["ids": [first]], as: street).json["marked"] as? Int == 0)
        #expect(try await call(fixture, "POST", "/v1/inbox/read", json: ["all": true], as: leadDeputy).json["marked"] as? Int == leadNotices.count)
        #expect(try await call(fixture, "GET", "/v1/inbox", as: leadDeputy).json["unread"] as? Int == 0)

        // Another district's committee sees none of it; a clue handler is addressed by nothing.
        let elsewhere = try await call(fixture, "GET", "/v1/inbox", as: person(.proposalsCommittee, "committee-t", district: "tianhe"))
        #expect((elsewhere.json["notices"] as? [Any])?.isEmpty == true)
        #expect((try await call(fixture, "GET", "/v1/inbox", as: person(.clueHandler, "clerk-1")).json["notices"] as? [Any])?.isEmpty == true)

        // Bad input names the field.
        let bad = try await call(fixture, "GET", "/v1/inbox?limit=0", as: leadClerk)
        #expect(bad.status == 422 && bad.text.contains("limit"))
        let empty = try await call(fixture, "POST", "/v1/inbox/read", json: [String: Any](), as: leadClerk)
        #expect(empty.status == 422 && empty.text.contains("ids"))
        try await fixture.stop()
    }

    /// Staff notices go out as e-mail through a real SMTP server to every active account of the
    /// audience with an address, once per event; a refused recipient is retried, then dead-lettered,
    /// and blocks nobody else.
    @Test func noticesAreMailedToTheAudiencesAccountsOnceAndARefusedAddressIsDeadLettered() async throws {
        let smtp = try await SMTPServer()
        defer { smtp.stop() }
        let fixture = try await PublicityFixture(environment: [
            "PUBLICITY_SMTP_HOST": "127.0.0.1", "PUBLICITY_SMTP_PORT": String(smtp.port), "PUBLICITY_SMTP_SECURITY": "none",
            "PUBLICITY_MAIL_FROM": "notices@cppcc.example", "PUBLICITY_WORKBENCH_URL": "https://workbench.example",
        ])
        let clue = try await fixture.clue("电动自行车楼道充电", text: "存在火灾隐患")
        let proposal = try await fixture.file("规范电动自行车充电", suggestions: "建设集中充电桩", clues: [clue])
        let lead = UUID()
        // The lead unit's two accounts with addresses, one without, one disabled; a refused address at the co-unit.
        let co = UUID()
        try await fixture.store.database.transaction(.district(proposal.district)) { transaction in
            for (login, unit, email, active) in [
                ("fire.a", lead, "fire.a@units.example", true), ("fire.b", lead, "fire.b@units.example", true),
                ("fire.c", lead, "", true), ("fire.d", lead, "fire.d@units.example", false),
                ("street.a", co, "refused.street@units.example", true),
            ] {
                try await transaction.execute(
                    """
                    INSERT INTO accounts (id, district, login, display_name, role, unit_id, email, password_hash, active)
                    VALUES (\(UUID()), \(proposal.district.rawValue), \(login), \(login), 'handling-unit', \(unit), \(email), 'x', \(active))
                    """)
            }
        }
        let units = [
            AssignedUnit(
                assignmentID: UUID(), unitID: lead, unitName: "区消防救援大队", role: .lead, status: .active, assignedOn: fixture.today,
                deadline: fixture.today.adding(days: 30), contestUntil: fixture.today.adding(days: 7)),
            AssignedUnit(
                assignmentID: UUID(), unitID: co, unitName: "南华西街道办事处", role: .coHandling, status: .active, assignedOn: fixture.today,
                deadline: fixture.today.adding(days: 30), contestUntil: fixture.today.adding(days: 7)),
        ]
        let assigned = try EventEnvelope(
            ProposalAssigned(
                proposalID: proposal.id, caseNumber: proposal.caseNumber, kind: .citizen, round: 1, units: units, isKey: false,
                supervisingLeader: nil, automatic: false, confirmedPreAssignment: false),
            district: proposal.district, occurredAt: Date())
        for _ in 0..<2 {
            for result in await fixture.producer.send([
                OutgoingMessage(
                    topic: fixture.kafka.topicName(TopicCatalogue.assignmentEvents.name), key: Data(proposal.id.uuidString.utf8),
                    value: try assigned.encoded())
            ]) {
                _ = try result.get()
            }
        }
        #expect(try await eventually(timeout: .seconds(30)) { try smtp.messages().count >= 2 }, "the two addresses of the lead unit")
        #expect(
            try await eventually(timeout: .seconds(30)) {
                try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE channel = 'email' AND state = 'dead'") == 1
            }, "the refused address is given up after its attempts")
        let mails = try smtp.messages()
        #expect(mails.count == 2, "once per account, though the event came twice: \(mails.map(\.recipients))")
        #expect(Set(mails.flatMap(\.recipients)) == ["fire.a@units.example", "fire.b@units.example"])
        for mail in mails {
            #expect(mail.subject.contains("新交办") && mail.subject.contains(proposal.caseNumber), "\(mail.subject)")
            #expect(mail.text.contains("https://workbench.example/unit/assignments/\(units[0].assignmentID.uuidString.lowercased())"), "\(mail.text)")
            #expect(mail.headers["from"] == "<notices@cppcc.example>")
        }
        let dead = try await fixture.staff("GET", "/v1/publicity/notifications?state=dead")
        #expect(dead.text.contains("smtp-rcpt-to-5xx"), "staff see why: \(dead.text)")
        try await fixture.stop()
    }

    @Test func escalationsReachTheLeaderTheProposalNamesByName() async throws {
        let fixture = try await PublicityFixture()
        let clue = try await fixture.clue("长者饭堂排队", text: "排队时间长")
        let proposal = try await fixture.file("改善长者饭堂", suggestions: "增加窗口", clues: [clue])
        let units = try await fixture.assign(proposal, lead: "区民政局")
        try await fixture.publish(
            AssignmentEscalated(
                assignmentID: units[0].assignmentID, proposalID: proposal.id, unitID: units[0].unitID, deadline: units[0].deadline!,
                daysOverdue: 31, level: .supervisingLeader, supervisingLeader: "李副主席"),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
        let li = person(.supervisingLeader, "leader-li", name: "李副主席")
        #expect(
            try await eventually(timeout: .seconds(30)) {
                ((try await call(fixture, "GET", "/v1/inbox", as: li).json["notices"] as? [Any]) ?? []).count > 0
            })
        let leader = try await call(fixture, "GET", "/v1/inbox", as: li)
        let titles = (leader.json["notices"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
        #expect(titles.count == 1 && titles[0].contains("31 天"), "\(leader.text)")
        let otherLeader = try await call(fixture, "GET", "/v1/inbox", as: person(.supervisingLeader, "leader-wang", name: "王副主席"))
        #expect((otherLeader.json["notices"] as? [Any])?.isEmpty == true)
        try await fixture.stop()
    }

    /// The proposer's evaluation link goes to the proposer, not only to staff: to the drafting
    /// account's inbox and address, and through the district's platform webhook to each proposer;
    /// the link is the one supervision's hash will accept, derived from the shared key.
    @Test func theProposerIsSentTheEvaluationLinkThroughTheirChannelsOnce() async throws {
        let smtp = try await SMTPServer()
        defer { smtp.stop() }
        let receiver = try await WebhookReceiver()
        let fixture = try await PublicityFixture(environment: [
            "PUBLICITY_SMTP_HOST": "127.0.0.1", "PUBLICITY_SMTP_PORT": String(smtp.port), "PUBLICITY_SMTP_SECURITY": "none",
            "PUBLICITY_WORKBENCH_URL": "https://workbench.example/",
        ])
        let clue = try await fixture.clue("小区加装电梯", text: "老人上下楼难")
        let proposal = try await fixture.file("推进老旧小区加装电梯", suggestions: "简化审批", clues: [clue])
        // The proposal's drafter (`member-1` in the fixture) has an account with an address.
        try await fixture.store.database.transaction(.district(proposal.district)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO accounts (id, district, login, display_name, role, email, password_hash, active)
                VALUES (\(UUID()), \(proposal.district.rawValue), 'member-1', '李明', 'member', 'li.ming@members.example', 'x', true)
                """)
        }
        #expect(
            try await fixture.staff(
                "PUT", "/v1/publicity/notification-endpoints/webhook",
                json: ["url": receiver.base + "/ok", "secret": "webhook-secret-haizhu"], role: .administrator
            ).status == 200)
        let linkID = UUID()
        let token = fixture.signer.evaluationLinkToken(for: linkID)
        try await fixture.publish(
            EvaluationRequested(proposalID: proposal.id, linkID: linkID, expiresOn: fixture.today.adding(days: 30)),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id, times: 2)
        let page = "https://workbench.example/evaluate/\(token)"
        #expect(try await eventually(timeout: .seconds(30)) { try smtp.messages().contains { $0.text.contains(page) } }, "the e-mailed link")
        let asked = {
            receiver.received(path: "/ok").compactMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
                .filter { $0["event"] as? String == EvaluationRequested.eventType }
        }
        func kind(_ body: [String: Any]) -> String? { (body["recipient"] as? [String: Any])?["kind"] as? String }
        #expect(await eventually(timeout: .seconds(30)) { asked().count == 3 }, "one webhook per proposer, one for the drafter's notice")
        let bodies = asked().filter { kind($0) == "proposer" }
        #expect(bodies.count == 2, "each proposer; never the clue's submitter")
        #expect(bodies.allSatisfy { ($0["evaluationLink"] as? String) == page && (($0["message"] as? String) ?? "").contains(page) })
        let staff = try #require(asked().first { kind($0) == "staff" })
        #expect((staff["recipient"] as? [String: Any])?["audience"] as? String == "account" && staff["link"] as? String == page)
        #expect(!String(decoding: try JSONSerialization.data(withJSONObject: staff), as: UTF8.self).contains("li.ming"), "no address in the webhook")

        let mails = try smtp.messages().filter { $0.text.contains(page) }
        #expect(mails.count == 1 && mails[0].recipients == ["li.ming@members.example"], "once, though the event came twice")
        #expect(mails[0].subject.contains("请评价") && mails[0].subject.contains(proposal.caseNumber) && mails[0].text.contains("无需登录"))
        let inbox = try await call(fixture, "GET", "/v1/inbox", as: person(.member, "member-1", name: "李明"))
        let notices = (inbox.json["notices"] as? [[String: Any]]) ?? []
        #expect(notices.contains { ($0["link"] as? String) == "/evaluate/\(token)" }, "\(inbox.text)")
        // Another member does not see it.
        let other = try await call(fixture, "GET", "/v1/inbox", as: person(.member, "member-2", name: "张华"))
        #expect(((other.json["notices"] as? [[String: Any]]) ?? []).allSatisfy { ($0["link"] as? String)?.hasPrefix("/evaluate/") != true })
        try await receiver.stop()
        try await fixture.stop()
    }
}
