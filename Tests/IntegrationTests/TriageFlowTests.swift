import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

/// Triage end to end: clues enter through intake, reach triage through the broker, are
/// classified and grouped, and staff route them through the HTTP API.
@Suite(.timeLimit(.minutes(3)))
struct TriageFlowTests {
    @Test func cluesAreClassifiedGroupedAndAnnouncedWithoutPersonalData() async throws {
        let fixture = try await TriageFixture()
        let first = try await fixture.submit(
            title: PilotClues.ebike.title, situation: PilotClues.ebike.situation, suggestions: PilotClues.ebike.suggestions, address: "海珠区南华西街某小区")
        try await fixture.awaitTriaged([first])
        let second = try await fixture.submit(
            title: PilotClues.ebikeParaphrase.title, situation: PilotClues.ebikeParaphrase.situation,
            suggestions: PilotClues.ebikeParaphrase.suggestions)
        let canteen = try await fixture.submit(
            title: PilotClues.canteen.title, situation: PilotClues.canteen.situation, suggestions: PilotClues.canteen.suggestions)
        try await fixture.awaitTriaged([second, canteen])

        let clerk = try fixture.token()
        let opened = try await fixture.call("GET", "/v1/triage/clues/\(first)", token: clerk)
        #expect(opened.status == 200)
        let clue = try #require(opened.json["clue"] as? [String: Any])
        #expect(clue["domain"] as? String == "public-safety")
        #expect(clue["urgency"] as? String == "urgent")
        #expect(clue["street"] as? String == "南华西")
        #expect(clue["groupVoices"] as? Int == 2, "the paraphrase joined its group")
        let hits = try #require(opened.json["hits"] as? [[String: Any]])
        #expect(
            hits.contains { $0["kind"] as? String == "urgency" && (($0["phrases"] as? [String]) ?? []).contains { $0.contains("火灾") } },
            "the urgency hit says which phrase fired")
        let members = try #require(opened.json["groupMembers"] as? [[String: Any]])
        #expect(members.map { $0["clueId"] as? String } == [second.uuidString])
        #expect((opened.json["form"] as? [String: Any])?["situationAnalysis"] as? String == PilotClues.ebike.situation)

        let groupOf: (UUID) async throws -> String? = { id in
            try await fixture.string("SELECT group_id::text FROM triage_clues WHERE clue_id = \(id)")
        }
        #expect(try await groupOf(first) == groupOf(second))
        #expect(try await groupOf(first) != groupOf(canteen))
        #expect(try await fixture.string("SELECT domain FROM triage_clues WHERE clue_id = \(canteen)") == "elderly-care")

        let events = try await fixture.triageEvents(atLeast: 3)
        let triaged = try events.filter { $0.type == ClueTriaged.eventType }.map { try $0.decodePayload(as: ClueTriaged.self) }
        #expect(Set(triaged.map(\.clueID)) == [first, second, canteen])
        #expect(triaged.first { $0.clueID == second }?.startedGroup == false)
        #expect(triaged.first { $0.clueID == second }?.groupVoices == 2)
        for event in events {
            let text = String(decoding: try event.encoded(), as: UTF8.self)
            #expect(!text.contains("王小明") && !text.contains("13800000000") && !text.contains("楼道"), "events carry ids and categories only")
        }

        // Filters of the queue.
        let urgent = try await fixture.call("GET", "/v1/triage/clues?urgency=urgent&status=awaiting-review", token: clerk)
        #expect(
            ((urgent.json["clues"] as? [[String: Any]]) ?? []).compactMap { $0["clueId"] as? String }.sorted()
                == [first, second].map(\.uuidString).sorted())
        let groups = try await fixture.call("GET", "/v1/triage/groups?minVoices=2", token: clerk)
        #expect(((groups.json["groups"] as? [[String: Any]]) ?? []).map { $0["voices"] as? Int } == [2])
        let badFilter = try await fixture.call("GET", "/v1/triage/clues?urgency=very", token: clerk)
        #expect(badFilter.status == 422 && badFilter.errorField == "urgency")

        // Another district's staff see nothing of it.
        let stranger = try fixture.token(district: "tianhe")
        #expect(try await fixture.call("GET", "/v1/triage/clues/\(first)", token: stranger).status == 404)
        let theirs = try await fixture.call("GET", "/v1/triage/clues", token: stranger)
        #expect((theirs.json["clues"] as? [[String: Any]])?.isEmpty == true)
        #expect(try await fixture.call("GET", "/v1/triage/clues", token: "nonsense").status == 401)
        try await fixture.stop()
    }

    @Test func everyRouteEndToEnd() async throws {
        let fixture = try await TriageFixture()
        let texts = [
            PilotClues.ebike, PilotClues.canteen, PilotClues.noise, PilotClues.metro,
            (title: "珠江堤岸码头改造", situation: "珠江沿岸码头老化，市民亲水空间不足。", suggestions: "建议港务部门统一规划码头改造。"),
            (title: "建议增加路灯", situation: "某路段晚上没有路灯，行人出行不便。", suggestions: "建议增设路灯。"),
        ]
        var ids: [UUID] = []
        for text in texts { ids.append(try await fixture.submit(title: text.title, situation: text.situation, suggestions: text.suggestions)) }
        try await fixture.awaitTriaged(ids)
        let clerk = try fixture.token()

        let decisions: [[String: Any]] = [
            ["route": "forward-to-district-body", "recipient": "区消防救援大队", "note": "火灾隐患，立即转送"],
            ["route": "special-committee", "committee": "social-legal-ethnic-religious", "purpose": "key-proposal-cultivation"],
            ["route": "reference-topic", "topicTitle": "夜间施工噪音治理"],
            ["route": "through-train", "note": "地铁属市级事权"],
            ["route": "municipal-department", "recipient": "市港务局"],
            ["route": "close", "reason": "该路段路灯已列入今年建设计划"],
        ]
        var answers: [HTTPAnswer] = []
        for (id, decision) in zip(ids, decisions) {
            let answer = try await fixture.call("POST", "/v1/triage/clues/\(id)/decision", json: decision, token: clerk)
            #expect(answer.status == 200, "\(decision["route"]!): \(answer.text)")
            answers.append(answer)
        }
        let statuses = try await ids.asyncMap { try await fixture.string("SELECT status FROM triage_clues WHERE clue_id = \($0)") }
        #expect(statuses == ["forwarded", "with-special-committee", "reference-topic", "sent-to-municipal", "sent-to-municipal", "closed"])

        // Every decision records who, when, the route and the note.
        let recorded = try await fixture.store.integer(
            """
            SELECT count(*)::int FROM triage_decisions WHERE action = 'route' AND decided_by = 'clue-handler-1' AND decided_at IS NOT NULL
            """)
        #expect(recorded == 6)
        #expect(try await fixture.string("SELECT note FROM triage_decisions WHERE \(ids[0]) = ANY(clue_ids)") == "火灾隐患，立即转送")

        // The through train made a clue of the municipal tenant, triaged by the municipal triage.
        let linked = try #require(
            await fixture.string("SELECT linked_clue_id::text FROM triage_clues WHERE clue_id = \(ids[3])").flatMap(UUID.init(uuidString:)))
        #expect(try await fixture.string("SELECT district FROM triage_clues WHERE clue_id = \(linked)") == "guangzhou")
        #expect(
            try await fixture.string("SELECT linked_from_clue_id::text FROM triage_clues WHERE clue_id = \(linked)") == ids[3].uuidString.lowercased()
        )
        #expect(try await fixture.string("SELECT tracking_number FROM clues WHERE id = \(linked)")?.hasPrefix("GZ-") == true)
        let municipal = try fixture.token(district: "guangzhou")
        let queue = try await fixture.call("GET", "/v1/triage/clues", token: municipal)
        #expect(((queue.json["clues"] as? [[String: Any]]) ?? []).map { $0["clueId"] as? String } == [linked.uuidString])
        #expect(try await fixture.call("GET", "/v1/triage/clues/\(linked)", token: clerk).status == 404)

        // Each route is an event; the through train also triaged the new clue in guangzhou.
        let events = try await fixture.triageEvents(atLeast: 6 + 6 + 1)
        let routed = try events.filter { $0.type == ClueRouted.eventType }.map { try $0.decodePayload(as: ClueRouted.self) }
        #expect(routed.map(\.route).sorted { $0.rawValue < $1.rawValue } == ClueRoute.Kind.allCases.sorted { $0.rawValue < $1.rawValue })
        #expect(routed.first { $0.route == .throughTrain }?.linkedClueID == linked)
        #expect(routed.first { $0.route == .specialCommittee }?.purpose == .keyProposalCultivation)
        #expect(events.contains { $0.type == ClueTriaged.eventType && $0.district.rawValue == "guangzhou" })

        // A routed clue cannot be routed again; bad decisions name their field.
        let again = try await fixture.call("POST", "/v1/triage/clues/\(ids[0])/decision", json: ["route": "close", "reason": "重复"], token: clerk)
        #expect(again.status == 409 && again.errorCode == "illegal-state")
        #expect(again.text.contains("forwarded"))
        let unknownCommittee = try await fixture.call(
            "POST", "/v1/triage/clues/\(ids[5])/decision", json: ["route": "special-committee", "committee": "nope", "purpose": "research"],
            token: clerk)
        #expect(unknownCommittee.status == 422 && unknownCommittee.errorField == "committee")
        let noReason = try await fixture.call("POST", "/v1/triage/clues/\(ids[5])/decision", json: ["route": "close"], token: clerk)
        #expect(noReason.status == 422 && noReason.errorField == "reason")
        let noRoute = try await fixture.call("POST", "/v1/triage/clues/\(ids[5])/decision", json: ["route": "teleport"], token: clerk)
        #expect(noRoute.status == 422 && noRoute.errorField == "route")
        #expect(try await fixture.call("POST", "/v1/triage/clues/\(UUID())/decision", json: ["route": "reference-topic"], token: clerk).status == 404)
        let stranger = try fixture.token(district: "tianhe")
        #expect(
            try await fixture.call("POST", "/v1/triage/clues/\(ids[5])/decision", json: ["route": "reference-topic"], token: stranger).status == 404)
        let member = try fixture.token(.member)
        #expect(
            try await fixture.call("POST", "/v1/triage/clues/\(ids[5])/decision", json: ["route": "reference-topic"], token: member).status == 403)
        try await fixture.stop()
    }

    @Test func groupsAreRoutedMergedAndSplitByStaff() async throws {
        let fixture = try await TriageFixture()
        let a = try await fixture.submit(
            title: PilotClues.ebike.title, situation: PilotClues.ebike.situation, suggestions: PilotClues.ebike.suggestions)
        try await fixture.awaitTriaged([a])
        let b = try await fixture.submit(
            title: PilotClues.ebikeParaphrase.title, situation: PilotClues.ebikeParaphrase.situation,
            suggestions: PilotClues.ebikeParaphrase.suggestions)
        let c = try await fixture.submit(
            title: PilotClues.noise.title, situation: PilotClues.noise.situation, suggestions: PilotClues.noise.suggestions)
        try await fixture.awaitTriaged([b, c])
        let clerk = try fixture.token()
        let groupOf: (UUID) async throws -> String = { id in
            try #require(await fixture.string("SELECT group_id::text FROM triage_clues WHERE clue_id = \(id)"))
        }
        let ebikeGroup = try await groupOf(a)
        let noiseGroup = try await groupOf(c)

        // Merge the noise group into the e-bike group: three voices, one group.
        let merged = try await fixture.call(
            "POST", "/v1/triage/groups/\(ebikeGroup)/merge", json: ["groupIds": [noiseGroup], "note": "同一小区问题"], token: clerk)
        #expect(merged.status == 200, "\(merged.text)")
        #expect(merged.json["voices"] as? Int == 3)
        #expect(try await groupOf(c) == ebikeGroup)
        #expect(try await fixture.call("GET", "/v1/triage/groups/\(noiseGroup)", token: clerk).status == 404, "a merged group is gone")
        let mergeAgain = try await fixture.call("POST", "/v1/triage/groups/\(ebikeGroup)/merge", json: ["groupIds": [noiseGroup]], token: clerk)
        #expect(mergeAgain.status == 422 && mergeAgain.errorField == "groupIds")

        // Split it off again, then route the e-bike group as a whole.
        let split = try await fixture.call("POST", "/v1/triage/groups/\(ebikeGroup)/split", json: ["clueIds": [c.uuidString]], token: clerk)
        #expect(split.status == 201, "\(split.text)")
        #expect(try await groupOf(c) != ebikeGroup)
        let opened = try await fixture.call("GET", "/v1/triage/groups/\(ebikeGroup)", token: clerk)
        #expect((opened.json["group"] as? [String: Any])?["voices"] as? Int == 2)
        let everything = try await fixture.call(
            "POST", "/v1/triage/groups/\(ebikeGroup)/split", json: ["clueIds": [a.uuidString, b.uuidString]], token: clerk)
        #expect(everything.status == 422 && everything.errorField == "clueIds")

        let routed = try await fixture.call("POST", "/v1/triage/groups/\(ebikeGroup)/decision", json: ["route": "reference-topic"], token: clerk)
        #expect(routed.status == 200, "\(routed.text)")
        #expect(((routed.json["routed"] as? [String]) ?? []).sorted() == [a, b].map(\.uuidString).sorted())
        #expect(
            try await fixture.store.integer("SELECT count(*)::int FROM reference_topics WHERE \(a) = ANY(clue_ids) AND \(b) = ANY(clue_ids)") == 1)
        let twice = try await fixture.call("POST", "/v1/triage/groups/\(ebikeGroup)/decision", json: ["route": "reference-topic"], token: clerk)
        #expect(twice.status == 409)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM triage_decisions WHERE action IN ('merge', 'split', 'route')") == 3)
        try await fixture.stop()
    }

    @Test func rulesAreVersionedValidatedAndUsedWithoutRestart() async throws {
        let fixture = try await TriageFixture()
        let clerk = try fixture.token()
        let current = try await fixture.call("GET", "/v1/triage/rules", token: clerk)
        #expect(current.status == 200 && current.json["version"] as? Int == 0)
        var definition = try #require(current.json["definition"] as? [String: Any])

        // A bad expression and an unknown committee are refused, naming rule, field and position.
        var domains = try #require(definition["domains"] as? [[String: Any]])
        var broken = definition
        var brokenDomains = domains
        brokenDomains[0]["match"] = "公交|(地铁"
        brokenDomains[1]["committee"] = "no-such-committee"
        broken["domains"] = brokenDomains
        let refused = try await fixture.call("PUT", "/v1/triage/rules", json: ["definition": broken], token: clerk)
        #expect(refused.status == 422)
        let problems = (refused.json["problems"] as? [[String: Any]]) ?? []
        #expect(problems.contains { $0["rule"] as? String == "domains[0]" && $0["field"] as? String == "match" && $0["position"] as? Int != nil })
        #expect(problems.contains { $0["rule"] as? String == "domains[1]" && $0["field"] as? String == "committee" })
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM classification_rule_sets") == 0)
        #expect(try await fixture.call("PUT", "/v1/triage/rules", json: ["definition": broken], token: fixture.token(.member)).status == 403)

        // A new domain for river channels (河涌), saved as version 1, classifies the next clue.
        domains.insert(["code": "rivers", "name": "河涌治理", "committee": "agriculture-rural", "match": "河涌|黑臭|清淤|蚊虫"], at: 0)
        definition["domains"] = domains
        let saved = try await fixture.call("PUT", "/v1/triage/rules", json: ["definition": definition, "note": "增加河涌治理", "basedOn": 0], token: clerk)
        #expect(saved.status == 201, "\(saved.text)")
        #expect(saved.json["version"] as? Int == 1)
        let stale = try await fixture.call("PUT", "/v1/triage/rules", json: ["definition": definition, "basedOn": 0], token: clerk)
        #expect(stale.status == 409)

        let river = try await fixture.submit(title: "河涌黑臭", situation: "小区旁河涌夏天黑臭，蚊虫多。", suggestions: "建议定期清淤。")
        try await fixture.awaitTriaged([river])
        #expect(try await fixture.string("SELECT domain FROM triage_clues WHERE clue_id = \(river)") == "rivers")
        #expect(try await fixture.store.integer("SELECT rule_version FROM triage_clues WHERE clue_id = \(river)") == 1)
        // Another district still uses the built-in rules.
        let elsewhere = try await fixture.submit(title: "河涌黑臭", situation: "小区旁河涌夏天黑臭，蚊虫多。", suggestions: "建议定期清淤。", district: "tianhe")
        try await fixture.awaitTriaged([elsewhere])
        #expect(try await fixture.store.integer("SELECT rule_version FROM triage_clues WHERE clue_id = \(elsewhere)") == 0)

        let explained = try await fixture.call(
            "POST", "/v1/triage/rules/classify", json: ["title": "地铁站口", "situationAnalysis": "地铁出口拥挤"], token: clerk)
        #expect(explained.status == 200)
        #expect((explained.json["classification"] as? [String: Any])?["jurisdiction"] as? String == "municipal")
        try await fixture.stop()
    }

    @Test func eventsTriageCannotApplyGoToTheDeadLetterTopicAndTheRestMovesOn() async throws {
        let fixture = try await TriageFixture()
        let haizhu = DistrictCode(rawValue: "haizhu")!
        func received(_ clueID: UUID) -> ClueReceived {
            ClueReceived(
                clueID: clueID, trackingNumber: TrackingNumber(rawValue: "HZ-2026-999999"), channel: .web,
                sourceCategory: .onlinePlatform, isAnonymous: true, receivedAt: Date())
        }
        var newerVersion = try EventEnvelope(received(UUID()), district: haizhu, occurredAt: Date())
        newerVersion.schemaVersion = 2
        let missingClue = try EventEnvelope(received(UUID()), district: haizhu, occurredAt: Date())
        let producer = try KafkaProducer(configuration: fixture.kafka, logger: TestEnvironment.logger)
        let topic = fixture.kafka.topicName(TopicCatalogue.intakeEvents.name)
        // One key, one partition: the good clue after them must still be triaged.
        for result in await producer.send([
            OutgoingMessage(topic: topic, key: Data("k".utf8), value: try newerVersion.encoded()),
            OutgoingMessage(topic: topic, key: Data("k".utf8), value: try missingClue.encoded()),
        ]) { _ = try result.get() }
        await producer.close()
        let good = try await fixture.submit(
            title: PilotClues.noise.title, situation: PilotClues.noise.situation, suggestions: PilotClues.noise.suggestions)
        try await fixture.awaitTriaged([good])

        let letters = try await readTopic(
            fixture.kafka.topicName(TopicCatalogue.intakeEvents.deadLetterName), kafka: fixture.kafka, atLeast: 2, settle: .milliseconds(500))
        let reasons = letters.compactMap { $0.header(DeadLetter.reasonHeader) }.sorted()
        #expect(reasons.count == 2)
        #expect(reasons.contains { $0.contains("unsupported schema version 2") })
        #expect(reasons.contains { $0.contains("is not in the store") })
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM triage_clues") == 1)
        try await fixture.stop()
    }

    @Test func twoTriageInstancesPutConcurrentNearDuplicatesInOneGroup() async throws {
        let fixture = try await TriageFixture(triageInstances: 2)
        let topics = [
            ("电动自行车楼道充电", "居民晚上把电瓶车推进楼道充电，插线板乱拉，去年隔壁楼就起过火。", "建议建设集中充电棚，物业每晚巡查。"),
            ("长者饭堂排队", "长者饭堂午餐时段排队超过半小时，老人站着等很辛苦。", "建议增加供餐窗口，推行线上预约。"),
            ("夜间施工噪音", "工地夜里施工到凌晨两点，打桩声吵得孩子无法入睡。", "建议严格夜间施工审批，加强噪音执法。"),
            ("学校门口交通拥堵", "放学时家长车辆在校门口乱停，公交车都过不去。", "建议设置临时接送车位，安排交警疏导。"),
            ("公园厕所不足", "湿地公园只有一个公厕，节假日游客排长队。", "建议增建移动公厕并延长开放时间。"),
            ("小区加装电梯", "九十年代的七层楼房没有电梯，高层老人下楼买菜要歇好几次。", "建议简化加装电梯审批，加大财政补贴。"),
            ("菜市场环境脏乱", "菜市场地面污水横流，死鱼烂菜堆在门口发臭。", "建议市场管理方每日冲洗，设置分类垃圾桶。"),
            ("共享单车乱停放", "地铁口共享单车堆成山，盲道被堵住，行人只能走机动车道。", "建议划定停放区，企业及时清运。"),
        ]
        // Each pair is sent at once, so the two clues of a pair are usually triaged concurrently,
        // on different partitions and therefore different instances.
        var pairs: [(UUID, UUID)] = []
        for (topic, situation, suggestions) in topics {
            async let first = fixture.submit(title: "关于\(topic)的建议", situation: situation, suggestions: suggestions)
            async let second = fixture.submit(title: "\(topic)问题", situation: situation + "情况紧急。", suggestions: suggestions)
            pairs.append(try await (first, second))
        }
        try await fixture.awaitTriaged(pairs.flatMap { [$0.0, $0.1] })
        for (first, second) in pairs {
            let groups = try await fixture.store.integer(
                "SELECT count(DISTINCT group_id)::int FROM triage_clues WHERE clue_id IN (\(first), \(second))")
            #expect(groups == 1)
        }
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM clue_groups WHERE district = 'haizhu'") == topics.count)
        #expect(try await fixture.store.integer("SELECT sum(voices)::int FROM clue_groups") == topics.count * 2)
        // The two instances shared the partitions of one consumer group, and each clue was applied once.
        let owned = fixture.apps.dropFirst().map { $0.consumer?.assignment ?? [] }
        #expect(owned.allSatisfy { !$0.isEmpty } && owned[0].isDisjoint(with: owned[1]))
        let consumed = try await fixture.store.integer("SELECT count(*)::int FROM processed_events WHERE consumer LIKE '%triage'")
        #expect(consumed == topics.count * 2)
        try await fixture.stop()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
