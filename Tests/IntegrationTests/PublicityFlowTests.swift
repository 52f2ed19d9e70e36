import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import Synchronization
import TestSupport
import Testing

@testable import PublicityService

@Suite(.timeLimit(.minutes(3)))
struct PublicityFlowTests {
    /// A proposal from a resident's clue through filing, assignment, reply, evaluation and
    /// closing, as the portal and the open data show it.
    @Test func thePortalShowsTheOutcomeAndNothingPersonal() async throws {
        let fixture = try await PublicityFixture()
        let clue = try await fixture.clue("<script>alert('x')</script>电动自行车乱停放", text: "联系我13812345678，家住南华西街 12 号")
        let other = try await fixture.clue("电动车充电", text: "楼道充电危险", contact: ("陈大文", "13900001111"), consent: false, group: clue.groupID)
        let closed = try await fixture.clue("想要一个停车场", text: "无", contact: nil)
        try await fixture.route(closed, .close, note: "已有规划，电话 020-81234567 可咨询")
        let proposal = try await fixture.file(
            "<script>alert('x')</script>规范电动自行车停放",
            suggestions: "建议增设停放点，联系人邮箱 wang.xm@example.com，身份证 440104199001011234", clues: [clue, other])
        let units = try await fixture.assign(proposal, lead: "区交通运输局", co: ["南华西街道办事处"])
        try await fixture.reply(proposal, units[0], text: "已在南华西街增设 12 处停放点。经办人电话 13711112222。")
        try await fixture.evaluate(proposal, units[0], .satisfied)
        try await fixture.close(proposal)
        try await fixture.awaitApplied(12)

        let list = try await fixture.get("/feedback")
        #expect(list.status == 200)
        #expect(list.text.contains("规范电动自行车停放") && list.text.contains(proposal.caseNumber))
        #expect(list.text.contains("区交通运输局、南华西街道办事处") && list.text.contains("已办结") && list.text.contains("满意"))
        #expect(list.text.contains("<option value=\"transport\">交通出行</option>"), "domains are offered by name")
        let pageURL = "/proposals/\(proposal.id.uuidString.lowercased())"
        let page = try await fixture.get(pageURL)
        #expect(page.status == 200)
        for stage in ["收到群众线索", "梳理分类", "审查立案", "交办", "承办单位答复", "提案人评价", "办结"] {
            #expect(page.text.contains(stage), "timeline step \(stage)")
        }
        #expect(page.text.contains("群众（匿名）、李明"), "one of the clues' submitters did not consent: residents stay anonymous; members are named")
        // Resident text is escaped everywhere: no live script tag, on any page.
        for answer in [list, page] {
            #expect(!answer.text.contains("<script>") && answer.text.contains("&lt;script&gt;"))
            for personal in ["13812345678", "13711112222", "王小明", "陈大文", "南华西街 12 号", "wang.xm@example.com", "440104199001011234"] {
                #expect(!answer.text.contains(personal), "\(personal) is published")
            }
        }
        #expect(page.text.contains(Redaction.phoneLabel) && page.text.contains(Redaction.emailLabel) && page.text.contains(Redaction.idCardLabel))

        // Filters, and what is out of range.
        #expect(try await fixture.get("/feedback?status=closed&district=haizhu&year=\(proposal.year)&unit=区交通运输局").text.contains(proposal.caseNumber))
        #expect(try await fixture.get("/feedback?district=tianhe").text.contains(proposal.caseNumber) == false)
        #expect(try await fixture.get("/feedback?q=停放").text.contains(proposal.caseNumber))
        for bad in [
            "/feedback?page=0", "/feedback?page=99999999999999999999", "/feedback?year=3000", "/feedback?status=lost", "/statistics?year=1",
            "/statistics?district=nowhere", "/open-data/feedback.csv?page=-1",
        ] {
            let answer = try await fixture.get(bad)
            #expect(answer.status == 400, "\(bad) answered \(answer.status)")
            #expect(answer.text.contains("请求有误"))
        }

        // Unknown ids and wrong receipt tokens: one and the same 404 page.
        let unknown = try await fixture.get("/proposals/\(UUID().uuidString)")
        let malformed = try await fixture.get("/proposals/not-an-id")
        let wrongToken = try await fixture.post(form: "/track", [("number", closed.trackingNumber), ("token", "wrong")])
        #expect(unknown.status == 404 && malformed.status == 404 && wrongToken.status == 404)
        #expect(unknown.text == wrongToken.text && malformed.text == wrongToken.text)
        let tracked = try await fixture.post(form: "/track", [("number", closed.trackingNumber), ("token", closed.token)])
        #expect(tracked.status == 200 && tracked.text.contains("暂不予采纳") && tracked.text.contains("已有规划"))
        #expect(!tracked.text.contains("020-81234567"), "the reason is masked too")
        let trackedFiled = try await fixture.post(form: "/track", [("number", clue.trackingNumber), ("token", clue.token)])
        #expect(trackedFiled.text.contains(pageURL))

        // Open data.
        let csv = try await fixture.get("/open-data/feedback.csv")
        #expect(csv.status == 200 && csv.body.starts(with: [0xEF, 0xBB, 0xBF]) && csv.text.contains(proposal.caseNumber))
        let json = try await fixture.get("/open-data/feedback.json?district=haizhu")
        let items = json.json["items"] as? [[String: Any]] ?? []
        #expect(json.json["total"] as? Int == 1 && items.first?["caseNumber"] as? String == proposal.caseNumber)
        #expect(items.first?["units"] as? [String] == ["区交通运输局", "南华西街道办事处"] && items.first?["satisfactionCode"] as? String == "satisfied")
        let atom = try await fixture.get("/open-data/answered.atom")
        #expect(atom.text.contains("<entry>") && atom.text.contains("https://portal.example.org\(pageURL)") && !atom.text.contains("<script>"))
        for personal in ["13812345678", "王小明", "wang.xm@example.com"] {
            #expect(!csv.text.contains(personal) && !json.text.contains(personal) && !atom.text.contains(personal))
        }

        // Statistics with server-drawn charts; themed-call counts; the showcase the committee keeps.
        let statistics = try await fixture.get("/statistics?district=haizhu&year=\(proposal.year)")
        #expect(statistics.status == 200 && statistics.text.contains("<svg") && statistics.text.contains("南华西街"))
        #expect(statistics.text.contains("100.0%"), "filing and on-time rates")
        #expect(statistics.text.contains("<td>区交通运输局</td>"))
        let added = try await fixture.staff("POST", "/v1/publicity/showcase", json: ["proposalId": proposal.id.uuidString, "citation": "群众点赞的民生实事"])
        #expect(added.status == 201)
        #expect(
            try await fixture.staff(
                "POST", "/v1/publicity/showcase", json: ["proposalId": proposal.id.uuidString, "citation": "x"], district: "tianhe"
            )
            .status == 404, "another district's proposal")
        #expect(try await fixture.get("/showcase").text.contains("群众点赞的民生实事"))
        try await fixture.stop()
    }

    /// With the page cache on, as deployed: the list's order is kept between pages and loaded
    /// again only when the list changed, so a newly filed proposal joins it once the lifetime is
    /// up, on the whole list and on its district's.
    @Test func aCachedListShowsANewlyFiledProposalOnceItsLifetimeIsUp() async throws {
        let fixture = try await PublicityFixture(environment: ["PUBLICITY_PAGE_CACHE_SECONDS": "1"])
        let first = try await fixture.file("增设公交站台", suggestions: "建议在小区门口增设公交站台", clues: [try await fixture.clue("公交站台太远", text: "步行二十分钟")])
        try await fixture.awaitApplied(3)
        #expect(try await fixture.get("/feedback").text.contains(first.caseNumber))
        // A lifetime passes with nothing filed: the order is kept, and pages still show it.
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(try await fixture.get("/feedback?page=1").text.contains(first.caseNumber))
        #expect(try await fixture.get("/feedback?district=haizhu").text.contains(first.caseNumber))

        let second = try await fixture.file("夜间照明不足", suggestions: "建议增设路灯", clues: [try await fixture.clue("小巷太黑", text: "晚上看不清路")])
        try await fixture.awaitApplied(6)
        for path in ["/feedback", "/feedback?district=haizhu"] {
            let shown = try await eventually(timeout: .seconds(15)) {
                let list = try await fixture.get(path).text
                return list.contains(second.caseNumber) && list.contains(first.caseNumber)
            }
            #expect(shown, "\(path) shows the proposal filed after its order was loaded")
        }
        try await fixture.stop()
    }

    /// Themed calls count their clues and issues.
    @Test func themedCallsShowTheirCounts() async throws {
        let fixture = try await PublicityFixture()
        let call = UUID()
        try await fixture.store.execute(
            """
            INSERT INTO themed_calls (id, district, title, description, opens_at, created_by)
            VALUES (\(call), 'haizhu', '老旧小区加装电梯', '征集意见', now() - interval '1 day', 'committee-1')
            """, scope: .district(DistrictCode(rawValue: "haizhu")!))
        let first = try await fixture.clue("加装电梯", text: "一楼反对", call: call)
        _ = try await fixture.clue("电梯费用分摊", text: "如何分摊", call: call, group: first.groupID)
        _ = try await fixture.clue("电梯噪音", text: "噪音", call: call)
        try await fixture.awaitApplied(6)
        let page = try await fixture.get("/calls")
        #expect(page.text.contains("老旧小区加装电梯"))
        #expect(page.text.contains("收到线索 <strong>3</strong> 条，归并为 <strong>2</strong> 个问题"))
        try await fixture.stop()
    }

    /// A municipal tenant's statistics roll up its member districts' (it has next to no clues of
    /// its own) and are the page's default; a member district's page shows its own figures only.
    @Test func statisticsRollUpTheMunicipalTenantsDistricts() async throws {
        let fixture = try await PublicityFixture()
        try await fixture.store.execute("INSERT INTO districts (code, name) VALUES ('guangzhou', '广州市')")
        try await fixture.store.execute("UPDATE districts SET parent = 'guangzhou' WHERE code IN ('haizhu', 'tianhe')")
        let first = try await fixture.clue("海珠线索", text: "内容")
        _ = try await fixture.clue("海珠线索二", text: "内容")
        let filed = try await fixture.file("海珠提案", suggestions: "建议", clues: [first])
        let units = try await fixture.assign(filed, lead: "区交通运输局")
        try await fixture.reply(filed, units[0], text: "已办理")
        try await fixture.evaluate(filed, units[0], .satisfied)
        var others: [PublicityFixture.Clue] = []
        for number in 0..<3 {
            others.append(try await fixture.clue("天河线索 \(number)", text: "内容", district: "tianhe", street: "石牌街"))
        }
        let other = try await fixture.file("天河提案", suggestions: "建议", clues: [others[0]], district: "tianhe")
        try await fixture.assign(other, lead: "区城市管理局")
        try await fixture.awaitApplied(16)
        let year = fixture.year

        #expect(try await fixture.get("/statistics").text.contains("数据统计：广州市（含各区）"), "the page opens on the roll-up")
        let rollUp = try await fixture.get("/statistics?year=\(year)")
        #expect(rollUp.status == 200 && rollUp.text.contains("<h1>数据统计：广州市（含各区） \(year) 年</h1>"))
        #expect(rollUp.text.contains("<option value=\"guangzhou\" selected>广州市（全市汇总）</option>"))
        #expect(rollUp.text.contains("<td class=\"number\">5 条</td>"), "both districts' clues")
        #expect(rollUp.text.contains("<caption>各区情况</caption>"))
        #expect(rollUp.text.contains("<td><a href=\"/statistics?district=haizhu&amp;year=\(year)\">海珠区</a></td><td class=\"number\">2</td>"))
        #expect(rollUp.text.contains("<td><a href=\"/statistics?district=tianhe&amp;year=\(year)\">天河区</a></td><td class=\"number\">3</td>"))
        #expect(rollUp.text.contains("<td>区交通运输局（海珠区）</td>") && rollUp.text.contains("<td>区城市管理局（天河区）</td>"))
        #expect(rollUp.text.contains("南华西街") && rollUp.text.contains("石牌街"))

        let member = try await fixture.get("/statistics?district=tianhe&year=\(year)")
        #expect(member.status == 200 && member.text.contains("<h1>数据统计：天河区 \(year) 年</h1>"))
        #expect(
            member.text.contains("<option value=\"tianhe\" selected>天河区</option>") && !member.text.contains("<option value=\"guangzhou\" selected>"))
        #expect(member.text.contains("<td class=\"number\">3 条</td>") && member.text.contains("<td>区城市管理局</td>"))
        #expect(!member.text.contains("各区情况") && !member.text.contains("南华西街") && !member.text.contains("区交通运输局"), "tianhe's figures only")
        try await fixture.stop()
    }

    /// Replaying every topic into emptied tables gives what the incremental build gave, even
    /// with reassignments, deadline changes, re-handling and re-categorisation; it tells no one again.
    @Test func rebuildingFromTheTopicsEqualsTheIncrementalBuild() async throws {
        let fixture = try await PublicityFixture()
        try await fixture.store.execute(
            """
            INSERT INTO notification_endpoints (district, channel, url, secret) VALUES ('haizhu', 'webhook', 'http://127.0.0.1:9/hook', 'secret-secret-secret')
            """, scope: .district(DistrictCode(rawValue: "haizhu")!))
        var events = 0
        for number in 0..<4 {
            let clue = try await fixture.clue(
                "线索 \(number)", text: "内容 \(number)", channel: number % 2 == 0 ? .web : .wechat,
                street: ["南华西街", "江南中街"][number % 2], domain: ["交通", "教育"][number % 2])
            let proposal = try await fixture.file("提案 \(number)", suggestions: "建议 \(number)，电话 1380000\(1000 + number)", clues: [clue])
            events += 3
            var units = try await fixture.assign(proposal, lead: "区交通运输局", co: number == 0 ? ["区教育局"] : [])
            events += 1
            if number == 1 {
                units = try await fixture.assign(proposal, lead: "区住房和建设局", round: 2, supersedes: units.map(\.assignmentID))
                try await fixture.changeDeadline(proposal, units[0], to: fixture.today.adding(days: 65))
                events += 2
            }
            if number >= 1 {
                let reply = try await fixture.reply(proposal, units[0], text: "答复 \(number)", category: .inProgressOrPlanned)
                events += 1
                if number == 2 {
                    try await fixture.recategorise(proposal, units[0], reply: reply, from: .inProgressOrPlanned, to: .solvedOrAdopted)
                    try await fixture.evaluate(proposal, units[0], .dissatisfied)
                    try await fixture.reopen(proposal, units[0], deadline: fixture.today.adding(days: 93))
                    events += 3
                }
                if number == 3 {
                    try await fixture.evaluate(proposal, units[0], .basicallySatisfied)
                    try await fixture.close(proposal)
                    events += 2
                }
            }
        }
        // An event the projection cannot apply (its payload lacks fields): the service dead-letters
        // it, and the rebuild skips it as the service did rather than stop at it.
        let impossible = EventEnvelope(
            type: ProposalFiled.eventType, schemaVersion: ProposalFiled.schemaVersion, district: DistrictCode(rawValue: "haizhu")!,
            occurredAt: Date(), correlationID: UUID(), payload: .object(["impossible": .bool(true)]))
        for result in await fixture.producer.send([
            OutgoingMessage(
                topic: fixture.kafka.topicName(TopicCatalogue.triageEvents.name),
                key: UUID().uuidString, value: try impossible.encoded())
        ]) {
            _ = try result.get()
        }
        try await fixture.awaitApplied(events)
        let incremental = try await fixture.snapshot()
        let notifications = try await fixture.store.integer("SELECT count(*)::int FROM notifications")
        #expect(notifications > 0)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM public_proposals") == 4)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM public_proposals WHERE status = 'assigned'") == 2, "no reply; re-handling")
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM public_proposals WHERE proposers = '王*、李明'") == 4,
            "the consenting resident masked, the member named")

        let replayed = try await PublicReadModel.rebuild(database: fixture.store.database, kafka: fixture.kafka, logger: TestEnvironment.logger)
        #expect(replayed == events)
        let rebuilt = try await fixture.snapshot()
        for table in incremental.keys.sorted() {
            #expect(rebuilt[table] == incremental[table], "\(table) differs after the rebuild")
        }
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM notifications") == notifications, "a replay notifies no one")
        try await fixture.stop()
    }

    /// Notifications are signed; a receiver that answers 500 is retried with backoff and the
    /// notification dead-lettered after the last attempt (visible to operators, sent again on
    /// request); one that hangs holds up no other receiver's notifications.
    @Test func notificationsAreSignedRetriedAndDeadLettered() async throws {
        let receiver = try await WebhookReceiver()
        let fixture = try await PublicityFixture(environment: ["PUBLICITY_NOTIFY_CONCURRENCY": "4"])
        for (district, path) in [("haizhu", "/hang"), ("tianhe", "/ok")] {
            let saved = try await fixture.staff(
                "PUT", "/v1/publicity/notification-endpoints/webhook",
                json: ["url": receiver.base + path, "secret": "webhook-secret-\(district)"], district: district, role: .administrator)
            #expect(saved.status == 200)
        }
        // SMS and WeChat have no adapter in this deployment: an endpoint for them is refused, not left to dead-letter every notice.
        let sms = try await fixture.staff(
            "PUT", "/v1/publicity/notification-endpoints/sms", json: ["url": "https://sms.example/send", "secret": "0123456789abcdef"],
            role: .administrator)
        #expect(sms.status == 422 && sms.text.contains("adapter"), "status \(sms.status)")
        #expect(
            try await fixture.staff(
                "PUT", "/v1/publicity/notification-endpoints/webhook", json: ["url": "ftp://x", "secret": "0123456789abcdef"],
                role: .administrator
            ).errorField == "url")
        // A key as proposals-ctl makes it: its districts only (the legacy single column unset).
        try await fixture.store.execute(
            """
            INSERT INTO integration_keys (key_id, districts, secret, description)
            VALUES ('platform', ARRAY['tianhe'], 'integration-secret-1', '政务服务平台')
            """)
        let callback = try await fixture.staff(
            "PUT", "/v1/publicity/integrations/platform/callback", json: ["url": receiver.base + "/fail"],
            district: "tianhe", role: .administrator)
        #expect(callback.status == 200)
        #expect(
            try await fixture.staff(
                "PUT", "/v1/publicity/integrations/platform/callback", json: ["url": receiver.base + "/fail"],
                role: .administrator
            ).status == 404)
        // Only administrators say where residents' data goes; only public https targets.
        for role in [StaffClaims.Role.clueHandler, .proposalsCommittee] {
            #expect(
                try await fixture.staff(
                    "PUT", "/v1/publicity/notification-endpoints/webhook",
                    json: ["url": "https://notify.example.org/hook", "secret": "0123456789abcdef"], role: role
                ).status == 403)
            #expect(
                try await fixture.staff(
                    "PUT", "/v1/publicity/integrations/platform/callback", json: ["url": "https://notify.example.org/hook"],
                    district: "tianhe", role: role
                ).status == 403)
        }
        for url in [
            "http://notify.example.org/hook", "https://127.0.0.2:5432/", "https://169.254.169.254/latest", "https://localhost/x", "https://[::1]/",
        ] {
            let refused = try await fixture.staff(
                "PUT", "/v1/publicity/notification-endpoints/webhook", json: ["url": url, "secret": "0123456789abcdef"],
                district: "yuexiu", role: .administrator)
            #expect(refused.status == 422 && refused.errorField == "url", "\(url): \(refused.text)")
        }

        // Three outcomes in haizhu (its receiver hangs), three in tianhe (an integration's clues).
        for number in 0..<3 {
            let stuck = try await fixture.clue("海珠线索 \(number)", text: "内容")
            try await fixture.route(stuck, .referenceTopic)
            let clue = try await fixture.clue("天河线索 \(number)", text: "内容", district: "tianhe", integration: "platform")
            try await fixture.route(clue, .forwardToDistrictBody)
        }
        try await fixture.awaitApplied(18)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM notifications") == 9, "3 webhooks in each district, 3 callbacks")

        let delivered = await eventually(timeout: .seconds(10)) { receiver.received(path: "/ok").count == 3 }
        #expect(delivered, "tianhe's notifications go out while haizhu's receiver hangs")
        for request in receiver.received(path: "/ok") {
            #expect(request.signature == WebhookChannel.signature(secret: "webhook-secret-tianhe", timestamp: request.timestamp, body: request.body))
            let body = try JSONSerialization.jsonObject(with: request.body) as? [String: Any]
            #expect(body?["event"] as? String == "clue.routed")
            #expect((body?["message"] as? String)?.contains("已转送区有关单位研处") == true)
        }

        // The failing callbacks: three attempts each, then dead.
        let dead = try await eventually(timeout: .seconds(30)) {
            try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE channel = 'integration-callback' AND state = 'dead'") == 3
        }
        #expect(dead)
        #expect(receiver.received(path: "/fail").count == 9)
        #expect(
            receiver.received(path: "/fail").allSatisfy {
                $0.signature == WebhookChannel.signature(secret: "integration-secret-1", timestamp: $0.timestamp, body: $0.body)
            })
        let listed = try await fixture.staff("GET", "/v1/publicity/notifications?state=dead", district: "tianhe")
        let deadOnes = listed.json["notifications"] as? [[String: Any]] ?? []
        #expect(deadOnes.count == 3 && deadOnes.allSatisfy { $0["lastError"] as? String == "http-5xx" && $0["attempts"] as? Int == 3 })
        let haizhuView = try await fixture.staff("GET", "/v1/publicity/notifications?state=dead")
        // (haizhu's own, to the hanging receiver, may have used up their attempts by now.)
        let haizhuTargets = ((haizhuView.json["notifications"] as? [[String: Any]]) ?? []).compactMap { $0["target"] as? String }
        #expect(haizhuTargets.allSatisfy { $0.hasSuffix("/hang") }, "haizhu's staff see none of tianhe's: \(haizhuTargets)")
        #expect(try await fixture.staff("GET", "/v1/publicity/notifications?state=lost").status == 422)

        // Sent again on request: back to pending, attempted anew.
        let id = deadOnes.first?["id"] as? String ?? ""
        #expect(try await fixture.staff("POST", "/v1/publicity/notifications/\(id)/retry", district: "tianhe").status == 202)
        #expect(try await fixture.staff("POST", "/v1/publicity/notifications/\(id)/retry").status == 404, "another district's notification")
        let retried = await eventually(timeout: .seconds(15)) { receiver.received(path: "/fail").count >= 10 }
        #expect(retried)

        // haizhu's notifications time out one after the other (one at a time to a receiver of four
        // slots) and wait for their next attempt; none was delivered.
        let timedOut = try await eventually(timeout: .seconds(30)) {
            try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE target LIKE '%/hang' AND last_error = 'timeout'") == 3
        }
        #expect(timedOut)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE target LIKE '%/hang' AND state = 'delivered'") == 0)
        try await fixture.stop()
        try await receiver.stop()
    }

    /// Notification bodies (names, phone numbers) are emptied once delivered or given up for the
    /// retention period; pending ones and recent ones keep theirs, and a pruned one is not sent again.
    @Test func notificationBodiesArePrunedAfterTheirRetention() async throws {
        let fixture = try await PublicityFixture()
        try await fixture.store.execute(
            """
            INSERT INTO notifications (id, district, event_id, event, recipient, channel, target, signer, body, state, delivered_at, created_at)
            VALUES (gen_random_uuid(), 'haizhu', gen_random_uuid(), 'clue.routed', 'clue:1', 'webhook', 'https://n.example.org/a', 'endpoint',
                    '{"name":"王小明","phone":"13800138000"}', 'delivered', now() - interval '40 days', now() - interval '40 days'),
                   (gen_random_uuid(), 'haizhu', gen_random_uuid(), 'clue.routed', 'clue:2', 'webhook', 'https://n.example.org/a', 'endpoint',
                    '{"name":"李四"}', 'dead', NULL, now() - interval '31 days'),
                   (gen_random_uuid(), 'haizhu', gen_random_uuid(), 'clue.routed', 'clue:3', 'webhook', 'https://n.example.org/a', 'endpoint',
                    '{"name":"赵六"}', 'delivered', now() - interval '2 days', now() - interval '2 days'),
                   (gen_random_uuid(), 'haizhu', gen_random_uuid(), 'clue.routed', 'clue:4', 'webhook', 'https://n.example.org/a', 'endpoint',
                    '{"name":"钱七"}', 'pending', NULL, now() - interval '60 days')
            """, scope: .district(haizhu))
        try await NotificationRetention.prune(olderThan: 30, in: fixture.store.database)
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE body = '{}'::jsonb AND body_pruned_at IS NOT NULL") == 2)
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE body::text LIKE '%王小明%' OR body::text LIKE '%李四%'") == 0)
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM notifications WHERE body::text LIKE '%赵六%' OR body::text LIKE '%钱七%'") == 2)
        let dead = try await fixture.staff("GET", "/v1/publicity/notifications?state=dead")
        let id = ((dead.json["notifications"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
        #expect(try await fixture.staff("POST", "/v1/publicity/notifications/\(id)/retry").status == 409)
        try await fixture.stop()
    }

    /// Two instances in one consumer group share the topics' partitions; a proposal's events,
    /// spread over four topics, reach both, and its row still ends as its last event leaves it.
    @Test func twoInstancesBuildOneConsistentReadModel() async throws {
        let fixture = try await PublicityFixture()
        try await fixture.startAnother("publicity-2")
        var proposals: [PublicityFixture.Proposal] = []
        for number in 0..<20 {
            let clue = try await fixture.clue("线索 \(number)", text: "内容")
            let proposal = try await fixture.file("提案 \(number)", suggestions: "建议", clues: [clue])
            let units = try await fixture.assign(proposal, lead: "区交通运输局", co: ["区教育局"])
            try await fixture.reply(proposal, units[0], text: "答复 \(number)")
            try await fixture.evaluate(proposal, units[0], .satisfied)
            try await fixture.close(proposal)
            proposals.append(proposal)
        }
        try await fixture.awaitApplied(20 * 7)
        let held = fixture.partitionsHeld
        #expect(held.count == 2 && held.allSatisfy { $0 > 0 } && held.reduce(0, +) == 24, "both instances hold partitions: \(held)")
        #expect(
            try await fixture.store.integer(
                """
                SELECT count(*)::int FROM public_proposals
                WHERE status = 'closed' AND units = ARRAY['区交通运输局', '区教育局'] AND satisfaction = 'satisfied' AND reply_summary LIKE '答复%'
                  AND result_category = 'A'
                """) == 20)
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM public_timeline") == 20 * 7,
            "received, triaged, filed, assigned, replied, evaluated, closed")
        try await fixture.stop()
    }

    /// A malformed event or one of an unknown version goes to the dead-letter topic; the ones
    /// after it are applied.
    @Test func badEventsAreDeadLetteredAndTheRestApplied() async throws {
        let fixture = try await PublicityFixture()
        let topic = fixture.kafka.topicName(TopicCatalogue.triageEvents.name)
        var unknownVersion = try EventEnvelope(
            ClueRouted(clueID: UUID(), decisionID: UUID(), route: .close), district: DistrictCode(rawValue: "haizhu")!,
            occurredAt: Date())
        unknownVersion.schemaVersion = 99
        for value in [Data("not json".utf8), try unknownVersion.encoded()] {
            for result in await fixture.producer.send([OutgoingMessage(topic: topic, key: Data("k".utf8), value: value)]) { _ = try result.get() }
        }
        let clue = try await fixture.clue("之后的线索", text: "内容")
        try await fixture.route(clue, .referenceTopic)
        try await fixture.awaitApplied(3)
        let letters = try await readTopic(fixture.kafka.topicName(TopicCatalogue.triageEvents.deadLetterName), kafka: fixture.kafka, atLeast: 2)
        #expect(letters.count == 2)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM public_clues WHERE route = 'reference-topic'") == 1)
        try await fixture.stop()
    }
}

/// A local HTTP server standing in for the government-service platform and an integration:
/// `/ok` answers 204, `/fail` 500, `/hang` never within the sender's timeout.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var signature: String
        var timestamp: Int
        var body: Data
    }

    final class Log: Sendable {
        let items = Mutex<[Received]>([])
    }

    let base: String
    private let requests = Log()
    private let running: RunningServices

    init() async throws {
        let router = Router()
        let requests = self.requests
        router.post("/:outcome") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers[HTTPField.Name("X-Signature")!] ?? ""
            let timestamp = signature.split(separator: ",").first.flatMap { Int($0.dropFirst(2)) } ?? 0
            let path = "/" + (context.parameters.get("outcome") ?? "")
            requests.items.withLock { $0.append(Received(path: path, signature: signature, timestamp: timestamp, body: Data(buffer: body))) }
            switch path {
            case "/ok": return Response(status: .noContent)
            case "/hang":
                try? await Task.sleep(for: .seconds(8))
                return Response(status: .noContent)
            default: return Response(status: .internalServerError)
            }
        }
        let port = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                port.continuation.yield(channel.localAddress?.port ?? 0)
                port.continuation.finish()
            })
        running = RunningServices([application])
        var listening = 0
        for await value in port.stream { listening = value }
        base = "http://127.0.0.1:\(listening)"
    }

    func received(path: String) -> [Received] {
        requests.items.withLock { $0.filter { $0.path == path } }
    }

    func stop() async throws {
        try await running.stop()
    }
}
