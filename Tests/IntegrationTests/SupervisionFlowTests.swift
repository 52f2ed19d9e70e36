import Foundation
import Messaging
import Models
import PostgresNIO
import ServiceKit
import Storage
import SupervisionService
import Synchronization
import TestSupport
import Testing

/// Supervision instances on a database and topics of their own, with one clock they share and
/// tests move forward. Assignments are announced on assignment-events through the broker.
final class SupervisionFixture: Sendable {
    let store: TestDatabase
    let kafka: KafkaConfiguration
    /// Supervision reads the day from this clock only: it starts on a Wednesday morning of a year
    /// whose holidays the calendar knows, so the working days the tests count are the same
    /// whatever day they run on.
    let clock = ServiceClock(startingAt: ISO8601DateFormatter().date(from: "2026-11-25T10:00:00+08:00")!)
    let haizhu = DistrictCode(rawValue: "haizhu")!
    private let running = Mutex<[(ServiceApp, Task<Void, any Error>)]>([])
    private let base = Mutex<String>("")
    let signer = StaffTokenSigner(secret: String(repeating: "s", count: 32))

    init() async throws {
        store = try await TestDatabase()
        kafka = try TestEnvironment.kafka()
        try TestEnvironment.createTopics(kafka)
    }

    /// Starts an instance (another member of the consumer group, another timer scheduler).
    func start(_ name: String) async throws {
        let app = try ServiceApp(
            SupervisionService.definition(clock: clock),
            configuration: ServiceConfiguration(
                service: .supervision, instanceID: name, httpPort: 0, database: store.configuration, kafka: kafka, logLevel: .warning,
                tokenSecret: String(repeating: "s", count: 32), environment: ["SUPERVISION_TIMER_SECONDS": "1"]), handleSignals: false)
        let task = Task { try await app.run() }
        let port = await app.listeningPort() ?? 0
        base.withLock { $0 = "http://127.0.0.1:\(port)" }
        running.withLock { $0.append((app, task)) }
    }

    func stopAll() async throws {
        let apps = running.withLock { apps in
            defer { apps = [] }
            return apps
        }
        for (app, _) in apps { await app.shutdown() }
        for (_, task) in apps { try await task.value }
    }

    var today: LocalDate { LocalDate.on(clock.now, in: .chinaTime) }

    /// Announces a final assignment of one lead unit (and optionally a co-unit) with `deadline`.
    @discardableResult
    func assign(deadline: LocalDate, coUnit: Bool = false, number: Int = 1) async throws -> ProposalAssigned {
        let proposal = UUID()
        var units = [
            AssignedUnit(
                assignmentID: UUID(), unitID: UUID(), unitName: "区应急管理局", role: .lead, status: .active,
                assignedOn: today, deadline: deadline, contestUntil: today.adding(days: 7))
        ]
        if coUnit {
            units.append(
                AssignedUnit(
                    assignmentID: UUID(), unitID: UUID(), unitName: "南华西街道办事处", role: .coHandling, status: .active,
                    assignedOn: today, deadline: deadline, contestUntil: today.adding(days: 7)))
        }
        let caseNumber = String(format: "HZ-14-2026-%04d", number)
        // Assignment's half, as its desk leaves it: the proposal assigned in the shared store.
        try await store.database.transaction(.district(haizhu)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, drafted_by, case_number)
                VALUES (\(proposal), 'haizhu', 'assigned', '关于老旧小区加装电梯的建议', '案由', '理由', '建议', '[]', 'member-1', \(caseNumber))
                """)
        }
        let assigned = ProposalAssigned(
            proposalID: proposal, caseNumber: caseNumber, kind: .citizen, round: 1, units: units,
            isKey: false, supervisingLeader: nil, automatic: false, confirmedPreAssignment: false)
        try await publish([try EventEnvelope(assigned, district: haizhu, occurredAt: Date())], key: proposal.uuidString)
        return assigned
    }

    func publish(_ envelopes: [EventEnvelope], key: String) async throws {
        let producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
        let topic = kafka.topicName(TopicCatalogue.assignmentEvents.name)
        for result in await producer.send(try envelopes.map { OutgoingMessage(topic: topic, key: Data(key.utf8), value: try $0.encoded()) }) {
            _ = try result.get()
        }
        await producer.close()
    }

    func awaitTracked(_ count: Int) async throws {
        let tracked = try await eventually(timeout: .seconds(60)) {
            try await store.integer("SELECT count(*)::int FROM supervised_assignments") >= count
        }
        guard tracked else { throw FixtureError("supervision did not track \(count) assignments in time") }
    }

    func supervisionEvents(atLeast count: Int) async throws -> [EventEnvelope] {
        try await readTopic(kafka.topicName(TopicCatalogue.supervisionEvents.name), kafka: kafka, atLeast: count, settle: .milliseconds(2_500))
            .map { try EventEnvelope.decode(from: $0.value) }
    }
}

@Suite(.timeLimit(.minutes(3)))
struct SupervisionFlowTests {
    static let day: TimeInterval = 86_400

    @Test func remindersAndEscalationFireOnTimeAcrossARestart() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        let deadline = fixture.today.adding(days: 10)
        let assigned = try await fixture.assign(deadline: deadline, coUnit: true)
        try await fixture.awaitTracked(2)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers") == 12, "two reminders and four escalation steps each")
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NOT NULL") == 0)

        // Four days on, the seven-day reminders are due (day 3, 09:00).
        fixture.clock.advance(by: 4 * Self.day)
        let reminded = try await eventually(timeout: .seconds(20)) {
            try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE outcome = 'reminded'") == 2
        }
        #expect(reminded)

        // Stopped; while it is down the deadline passes. On restart the timers due meanwhile fire:
        // the one-day reminders are moot (the deadline passed), the first escalation step is not.
        try await fixture.stopAll()
        fixture.clock.advance(by: 8 * Self.day)
        try await fixture.start("supervision-2")
        let escalated = try await eventually(timeout: .seconds(20)) {
            try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NOT NULL") == 6
        }
        #expect(escalated)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE outcome = 'moot'") == 2)
        #expect(try await fixture.string("SELECT max(escalation_level) FROM supervised_assignments") == "reminder")

        let events = try await fixture.supervisionEvents(atLeast: 4)
        let reminders = try events.filter { $0.type == ReminderDue.eventType }.map { try $0.decodePayload(as: ReminderDue.self) }
        #expect(reminders.count == 2 && reminders.allSatisfy { $0.daysLeft == 7 && $0.deadline == deadline })
        let escalations = try events.filter { $0.type == AssignmentEscalated.eventType }.map { try $0.decodePayload(as: AssignmentEscalated.self) }
        #expect(escalations.count == 2 && escalations.allSatisfy { $0.level == .reminder && $0.daysOverdue == 0 })
        #expect(Set(escalations.map(\.assignmentID)) == Set(assigned.units.map(\.assignmentID)))
        try await fixture.stopAll()
    }

    @Test func theLeadRepliesAfterCoUnitOpinionsAndABReplyIsFollowedUp() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        let assigned = try await fixture.assign(deadline: fixture.today.adding(days: 30), coUnit: true)
        try await fixture.awaitTracked(2)
        let (lead, co) = (assigned.units[0], assigned.units[1])
        let leadToken = try fixture.token(.handlingUnit, unit: lead.unitID)
        let coToken = try fixture.token(.handlingUnit, unit: co.unitID)
        let leadPath = "/v1/supervision/my/assignments/\(lead.assignmentID)"
        let coPath = "/v1/supervision/my/assignments/\(co.assignmentID)"

        // The three meetings: validated, and only of the unit's own assignment.
        let meeting: [String: Any] = [
            "stage": "before", "heldOn": fixture.today.description, "form": "座谈", "attendees": "提案人、承办人", "summary": "了解诉求",
        ]
        #expect(try await fixture.call("POST", leadPath + "/meetings", json: meeting, token: leadToken).status == 201)
        #expect(try await fixture.call("POST", leadPath + "/meetings", json: meeting, token: coToken).status == 404, "not the co-unit's assignment")
        var future = meeting
        future["heldOn"] = fixture.today.adding(days: 2).description
        #expect(try await fixture.call("POST", leadPath + "/meetings", json: future, token: leadToken).errorField == "heldOn")
        var badStage = meeting
        badStage["stage"] = "later"
        #expect(try await fixture.call("POST", leadPath + "/meetings", json: badStage, token: leadToken).errorField == "stage")

        // Co-unit gating: no reply before the co-unit's opinion (its window is open); a co-unit never replies.
        let reply: [String: Any] = ["text": "已在小区建设集中充电桩，计划明年一季度全部投用。", "category": "B", "promisedDate": fixture.today.adding(days: 20).description]
        let early = try await fixture.call("POST", leadPath + "/reply", json: reply, token: leadToken)
        #expect(
            early.status == 409
                && ((early.json["error"] as? [String: Any])?["message"] as? String ?? "").contains("waiting for the opinion of 南华西街道办事处"))
        #expect(try await fixture.call("POST", coPath + "/reply", json: reply, token: coToken).status == 409)
        #expect(
            try await fixture.call("POST", leadPath + "/opinion", json: ["text": "同意"], token: leadToken).status == 409, "the lead gives no opinion")
        #expect(try await fixture.call("POST", coPath + "/opinion", json: ["text": "街道配合做好选址和宣传。"], token: coToken).status == 201)
        #expect(try await fixture.call("POST", coPath + "/opinion", json: ["text": "再次"], token: coToken).status == 409, "once")
        // The co-unit's part is evaluated too; dissatisfaction sends it back for a new opinion.
        let coEvaluation = "/v1/supervision/assignments/\(co.assignmentID)/evaluation"
        let sentBack = try await fixture.call("POST", coEvaluation, json: ["result": "dissatisfied", "comment": "选址未征求居民意见"], token: fixture.token())
        #expect(sentBack.status == 201 && sentBack.json["rehandlingDeadline"] != nil, "\(sentBack.text)")
        #expect(try await fixture.call("POST", coPath + "/opinion", json: ["text": "已征求居民意见，调整选址。"], token: coToken).status == 201)
        #expect(try await fixture.call("POST", coEvaluation, json: ["result": "basically-satisfied"], token: fixture.token()).status == 201)

        // Extensions: before the deadline, later than it, one open at a time; the committee decides.
        let extensionPath = leadPath + "/extension"
        #expect(
            try await fixture.call(
                "POST", extensionPath, json: ["deadline": fixture.today.adding(days: 10).description, "reason": "x"], token: leadToken
            ).errorField == "deadline")
        let asked = try await fixture.call(
            "POST", extensionPath, json: ["deadline": fixture.today.adding(days: 45).description, "reason": "需协调供电部门"], token: leadToken)
        #expect(asked.status == 201)
        #expect(
            try await fixture.call(
                "POST", extensionPath, json: ["deadline": fixture.today.adding(days: 50).description, "reason": "再次"], token: leadToken
            ).status == 409)
        let request = try #require(asked.json["id"] as? String)
        // The committee finds the waiting request without asking the unit for its id.
        let waiting = try await fixture.call("GET", "/v1/supervision/extensions", token: fixture.token())
        #expect((waiting.json["extensionRequests"] as? [[String: Any]])?.map { $0["id"] as? String } == [request], "\(waiting.text)")
        #expect(try await fixture.call("GET", "/v1/supervision/extensions?state=soon", token: fixture.token()).errorField == "state")

        // What the units wrote is read back: the lead sees the co-unit's opinions and its own
        // progress notes; the co-unit sees its own part only; the committee sees everything.
        #expect(try await fixture.call("POST", leadPath + "/progress", json: ["text": "已完成选址初步方案。"], token: leadToken).status == 201)
        let leadView = try await fixture.call("GET", leadPath, token: leadToken)
        #expect(leadView.status == 200)
        #expect(
            (leadView.json["coUnitOpinions"] as? [[String: Any]])?.compactMap { $0["text"] as? String }
                == ["街道配合做好选址和宣传。", "已征求居民意见，调整选址。"], "\(leadView.text)")
        #expect((leadView.json["progressNotes"] as? [[String: Any]])?.first?["text"] as? String == "已完成选址初步方案。")
        #expect((leadView.json["extensionRequests"] as? [[String: Any]])?.count == 1)
        #expect(try await fixture.call("GET", leadPath, token: coToken).status == 404, "not the co-unit's assignment")
        let coView = try await fixture.call("GET", coPath, token: coToken)
        #expect((coView.json["coUnitOpinions"] as? [[String: Any]])?.count == 2 && coView.json["progressNotes"] as? [Any] != nil)
        let staffView = try await fixture.call("GET", "/v1/supervision/assignments/\(lead.assignmentID)", token: fixture.token())
        #expect((staffView.json["coUnitOpinions"] as? [[String: Any]])?.count == 2 && (staffView.json["progressNotes"] as? [Any])?.count == 1)
        #expect(
            try await fixture.call("POST", "/v1/supervision/extensions/\(request)/decision", json: ["decision": "maybe"], token: fixture.token())
                .errorField == "decision")
        let granted = try await fixture.call(
            "POST", "/v1/supervision/extensions/\(request)/decision", json: ["decision": "granted", "note": "同意延期"], token: fixture.token())
        #expect(granted.status == 200, "\(granted.text)")
        #expect(
            (try await fixture.call("GET", "/v1/supervision/extensions", token: fixture.token()).json["extensionRequests"] as? [Any])?.isEmpty == true
        )
        #expect(
            (try await fixture.call("GET", "/v1/supervision/extensions?state=granted", token: fixture.token()).json["extensionRequests"] as? [Any])?
                .count == 1)
        #expect(
            try await fixture.string("SELECT to_char(deadline, 'YYYY-MM-DD') FROM supervised_assignments WHERE assignment_id = \(lead.assignmentID)")
                == fixture.today.adding(days: 45).description)

        // The reply: B needs a promised date after today; then the follow-up review fires on that day.
        var noDate = reply
        noDate["promisedDate"] = nil
        #expect(try await fixture.call("POST", leadPath + "/reply", json: noDate, token: leadToken).errorField == "promisedDate")
        var script = reply
        script["attachments"] = [["name": "x.html", "mediaType": "text/html", "content": Data("<script>".utf8).base64EncodedString()]]
        let refused = try await fixture.call("POST", leadPath + "/reply", json: script, token: leadToken)
        #expect(refused.status == 415 && refused.errorField == "attachments.0.mediaType")
        let plan = Data("充电桩建设计划".utf8)
        var withPlan = reply
        withPlan["attachments"] = [["name": "建设计划.txt", "mediaType": "text/plain", "content": plan.base64EncodedString()]]
        let answered = try await fixture.call("POST", leadPath + "/reply", json: withPlan, token: leadToken)
        #expect(answered.status == 201)
        #expect(((answered.json["attachments"] as? [[String: Any]])?.first?["name"] as? String) == "建设计划.txt")
        #expect(try await fixture.call("POST", leadPath + "/reply", json: reply, token: leadToken).status == 409, "replied already")
        let replyID = try #require(answered.json["id"] as? String)
        let file = try await fixture.call("GET", "/v1/supervision/replies/\(replyID)/attachments/0", token: fixture.token())
        #expect(file.status == 200 && file.body == plan && file.header("Content-Type") == "text/plain")
        #expect(try await fixture.call("GET", "/v1/supervision/my/replies/\(replyID)/attachments/0", token: leadToken).body == plan)
        #expect(
            try await fixture.call("GET", "/v1/supervision/my/replies/\(replyID)/attachments/0", token: coToken).status == 404, "another unit's reply"
        )
        let opened = try await fixture.call("GET", "/v1/supervision/assignments/\(lead.assignmentID)", token: fixture.token())
        let replies = (opened.json["replies"] as? [[String: Any]]) ?? []
        #expect(replies.map { $0["category"] as? String } == ["B"] && (replies.first?["attachments"] as? [[String: Any]])?.count == 1)
        #expect(((opened.json["meetings"] as? [[String: Any]]) ?? []).map { $0["stage"] as? String } == ["before"])
        #expect(
            try await fixture.store.integer(
                "SELECT count(*)::int FROM supervision_timers WHERE assignment_id = \(lead.assignmentID) AND kind IN ('reminder', 'escalation') AND fired_at IS NULL AND cancelled_at IS NULL"
            ) == 0,
            "a reply ends the reminders and escalation")
        fixture.clock.advance(by: 21 * Self.day)
        let followedUp = try await eventually(timeout: .seconds(20)) {
            try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE kind = 'follow-up' AND outcome = 'follow-up'") == 1
        }
        #expect(followedUp)
        // Nobody evaluates: once the proposer's window (30 days) has passed, the proposal closes.
        #expect(try await fixture.string("SELECT state FROM supervised_assignments WHERE assignment_id = \(lead.assignmentID)") == "replied")
        fixture.clock.advance(by: 11 * Self.day)
        let closedByWindow = try await eventually(timeout: .seconds(20)) {
            try await fixture.string("SELECT reason FROM proposal_closures WHERE proposal_id = \(assigned.proposalID)")
                == "the proposer's evaluation window passed"
        }
        #expect(closedByWindow)
        let events = try await fixture.supervisionEvents(atLeast: 5)
        let types = events.map(\.type)
        #expect(
            types.contains(CoUnitOpinionGiven.eventType) && types.contains(ExtensionDecided.eventType) && types.contains(ExtensionRequested.eventType)
        )
        #expect(types.contains(AssignmentReplied.eventType) && types.contains(FollowUpDue.eventType) && types.contains(ProposalClosed.eventType))
        let replied = try #require(try events.first { $0.type == AssignmentReplied.eventType }?.decodePayload(as: AssignmentReplied.self))
        #expect(replied.category == .inProgressOrPlanned && replied.onTime)

        // On review the committee re-categorises the reply; the unit's own category stays on record.
        let category = "/v1/supervision/replies/\(replied.replyID)/category"
        #expect(try await fixture.call("POST", category, json: ["category": "D", "note": "x"], token: fixture.token()).errorField == "category")
        #expect(try await fixture.call("POST", category, json: ["category": "C"], token: fixture.token()).errorField == "note")
        #expect(try await fixture.call("POST", category, json: ["category": "C", "note": "承诺事项不具备条件"], token: fixture.token()).status == 200)
        #expect(try await fixture.call("POST", category, json: ["category": "C", "note": "再次"], token: fixture.token()).status == 409)
        #expect(try await fixture.string("SELECT category || reviewed_category FROM replies WHERE id = \(replied.replyID)") == "BC")
        try await fixture.stopAll()
    }

    @Test func aFollowUpReviewSurvivesClosingAndItsResultIsRecordedAndCounted() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        let assigned = try await fixture.assign(deadline: fixture.today.adding(days: 30))
        let other = try await fixture.assign(deadline: fixture.today.adding(days: 30), number: 2)
        try await fixture.awaitTracked(2)
        let lead = assigned.units[0]
        let leadToken = try fixture.token(.handlingUnit, unit: lead.unitID)
        let otherToken = try fixture.token(.handlingUnit, unit: other.units[0].unitID)
        let committee = try fixture.token()

        // A B reply promising a date after the proposer's window; the proposer is satisfied at once.
        let year = fixture.today.year
        let promised = fixture.today.adding(days: 60)
        let reply: [String: Any] = ["text": "已列入明年计划。", "category": "B", "promisedDate": promised.description]
        #expect(
            try await fixture.call("POST", "/v1/supervision/my/assignments/\(lead.assignmentID)/reply", json: reply, token: leadToken).status == 201)
        #expect(try await fixture.string("SELECT status FROM proposals WHERE id = \(assigned.proposalID)") == "replied")
        let evaluated = try await fixture.call(
            "POST", "/v1/supervision/assignments/\(lead.assignmentID)/evaluation", json: ["result": "satisfied"], token: committee)
        #expect(evaluated.status == 201 && evaluated.json["proposalClosed"] as? Bool == true, "\(evaluated.text)")
        #expect(try await fixture.string("SELECT status FROM proposals WHERE id = \(assigned.proposalID)") == "closed")
        #expect(
            try await fixture.store.integer(
                "SELECT count(*)::int FROM supervision_timers WHERE kind = 'follow-up' AND cancelled_at IS NULL AND assignment_id = \(lead.assignmentID)"
            ) == 1,
            "closing keeps the follow-up the reply promised")

        // Nothing to answer before the day; on it, the unit and the committee are asked.
        #expect((try await fixture.call("GET", "/v1/supervision/my/follow-ups", token: leadToken).json["followUps"] as? [Any])?.isEmpty == true)
        fixture.clock.advance(by: 61 * Self.day)
        let asked = try await eventually(timeout: .seconds(20)) {
            try await fixture.store.integer("SELECT count(*)::int FROM follow_up_reviews WHERE result IS NULL") == 1
        }
        #expect(asked)
        let open = try await fixture.call("GET", "/v1/supervision/my/follow-ups?state=open", token: leadToken)
        let review = try #require(((open.json["followUps"] as? [[String: Any]]) ?? []).first)
        #expect(review["promised"] as? String == promised.description && review["caseNumber"] as? String == assigned.caseNumber)
        let reviewID = try #require(review["id"] as? String)
        #expect((try await fixture.call("GET", "/v1/supervision/follow-ups?state=open", token: committee).json["followUps"] as? [Any])?.count == 1)
        #expect((try await fixture.call("GET", "/v1/supervision/my/follow-ups", token: otherToken).json["followUps"] as? [Any])?.isEmpty == true)
        #expect(try await fixture.call("GET", "/v1/supervision/follow-ups?state=later", token: committee).errorField == "state")

        // The result: checked, recorded once, by the unit itself or the committee.
        let path = "/v1/supervision/my/follow-ups/\(reviewID)/result"
        #expect(try await fixture.call("POST", path, json: [:], token: leadToken).errorField == "result")
        #expect(try await fixture.call("POST", path, json: ["result": "mostly"], token: leadToken).errorField == "result")
        #expect(try await fixture.call("POST", path, json: ["result": "done"], token: otherToken).status == 404, "another unit's review")
        let recorded = try await fixture.call("POST", path, json: ["result": "partly", "note": "已建成两处，另一处待选址"], token: leadToken)
        #expect(recorded.status == 200 && recorded.json["result"] as? String == "partly", "\(recorded.text)")
        #expect(
            try await fixture.call("POST", "/v1/supervision/follow-ups/\(reviewID)/result", json: ["result": "done"], token: committee).status == 409)
        let events = try await fixture.supervisionEvents(atLeast: 4)
        let result = try #require(try events.first { $0.type == FollowUpRecorded.eventType }?.decodePayload(as: FollowUpRecorded.self))
        #expect(result.result == .partly && result.proposalID == assigned.proposalID && result.promised == promised)
        #expect(events.contains { $0.type == FollowUpDue.eventType })

        // The unit evaluation of the year it was assigned counts it: half a promise not kept.
        let evaluation = try await fixture.call("GET", "/v1/supervision/evaluation?from=\(year)-01-01&to=\(year)-12-31", token: committee)
        let unit = try #require(((evaluation.json["units"] as? [[String: Any]]) ?? []).first { $0["unitId"] as? String == lead.unitID.uuidString })
        #expect(unit["followUpsPartly"] as? Int == 1 && unit["followUpsRecorded"] as? Int == 1, "\(unit)")
        try await fixture.stopAll()
    }

    @Test func aReplyInProgressHoldsOffTheTimerPassAndAFailingDistrictHoldsOffNoOther() async throws {
        let fixture = try await SupervisionFixture()
        let assigned = try await fixture.assign(deadline: fixture.today.adding(days: 2))
        try await fixture.start("supervision-1")
        try await fixture.awaitTracked(1)
        try await fixture.stopAll()
        let lead = assigned.units[0]
        let tianhe = DistrictCode(rawValue: "tianhe")!
        // Tianhe has an escalation due too, and settings no service can read.
        let broken = UUID()
        try await fixture.store.database.transaction(.district(tianhe)) { transaction in
            try await transaction.execute(
                """
                INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, drafted_by, case_number)
                VALUES (\(broken), 'tianhe', 'assigned', '题', '案由', '理由', '建议', '[]', 'member-1', 'TH-14-2026-0001')
                """)
            try await transaction.execute(
                """
                INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round,
                                                    assigned_on, deadline, state)
                VALUES (\(UUID()), 'tianhe', \(broken), 'TH-14-2026-0001', \(UUID()), '天河区某局', 'lead', 1, '2026-11-01', '2026-11-02', 'handling')
                """)
            try await transaction.execute(
                """
                INSERT INTO supervision_timers (district, assignment_id, proposal_id, kind, step, day, due_at)
                SELECT 'tianhe', assignment_id, proposal_id, 'escalation', 0, '2026-11-03', '2026-11-03T09:00:00+08:00'
                FROM supervised_assignments WHERE proposal_id = \(broken)
                """)
        }
        try await fixture.store.execute("UPDATE districts SET supervision_settings = '{\"fireHour\": \"nine\"}' WHERE code = 'tianhe'")

        // The unit is replying (its transaction holds the proposal) when the deadline passes.
        let afterDeadline = fixture.clock.now.addingTimeInterval(4 * Self.day)
        let replying = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let reply = Task {
            try await fixture.store.database.transaction(.district(fixture.haizhu)) { transaction in
                try await ProposalStatuses.lock(assigned.proposalID, in: transaction)
                replying.continuation.yield()
                for await _ in release.stream { break }
                try await transaction.execute(
                    """
                    UPDATE supervised_assignments SET state = 'replied', replied_at = now() WHERE assignment_id = \(lead.assignmentID)
                    """)
            }
        }
        for await _ in replying.stream { break }
        let during = try await TimerRepository.fireDue(database: fixture.store.database, now: afterDeadline, batch: 100)
        #expect(during.total == 0, "the proposal being replied to is left for a later pass, without waiting")
        #expect(during.failed.map(\.district) == [tianhe], "the broken district is reported")
        release.continuation.yield()
        try await reply.value
        let after = try await TimerRepository.fireDue(database: fixture.store.database, now: afterDeadline, batch: 100)
        #expect(after.total >= 1 && after.acted == 0, "the later pass sees the reply: nothing escalates after it")
        #expect(try await fixture.string("SELECT escalation_level FROM supervised_assignments WHERE assignment_id = \(lead.assignmentID)") == nil)
        #expect(after.failed.map(\.district) == [tianhe])
    }

    @Test func aDissatisfiedProposerReopensHandlingAndASatisfiedOneClosesTheProposal() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        let assigned = try await fixture.assign(deadline: fixture.today.adding(days: 30))
        let other = try await fixture.assign(deadline: fixture.today.adding(days: 30), number: 2)
        try await fixture.awaitTracked(2)
        let lead = assigned.units[0]
        let leadToken = try fixture.token(.handlingUnit, unit: lead.unitID)
        let replyPath = "/v1/supervision/my/assignments/\(lead.assignmentID)/reply"
        let committee = try fixture.token()
        #expect(try await fixture.call("POST", replyPath, json: ["text": "已整改。", "category": "A"], token: leadToken).status == 201)

        let linked = try await fixture.call("POST", "/v1/supervision/proposals/\(assigned.proposalID)/evaluation-link", token: committee)
        let token = try #require(linked.json["token"] as? String)
        let link = "/v1/supervision/evaluations/\(token)"
        let body: [String: Any] = ["assignmentId": lead.assignmentID.uuidString, "result": "dissatisfied", "comment": "充电桩位置不合理"]
        #expect(
            try await fixture.call("POST", "/v1/supervision/evaluations/" + String(repeating: "x", count: 43), json: body, token: "").status == 404,
            "only the proposer's link evaluates")
        var wrongUnit = body
        wrongUnit["assignmentId"] = other.units[0].assignmentID.uuidString
        #expect(try await fixture.call("POST", link, json: wrongUnit, token: "").status == 404, "the link is for its own proposal only")
        var outOfRange = body
        outOfRange["result"] = "happy"
        #expect(try await fixture.call("POST", link, json: outOfRange, token: "").errorField == "result")
        #expect(
            try await fixture.call("POST", "/v1/supervision/assignments/\(lead.assignmentID)/evaluation", json: body, token: leadToken).status == 403,
            "a unit does not evaluate itself")

        let reopened = try await fixture.call("POST", link, json: body, token: "")
        #expect(reopened.status == 201, "\(reopened.text)")
        let expected = DeadlineRule(amount: 30, unit: .calendarDays).deadline(from: fixture.today, calendar: .none)
        #expect(reopened.json["rehandlingDeadline"] as? String == expected.description)
        #expect(
            try await fixture.string("SELECT state || ':' || rehandlings FROM supervised_assignments WHERE assignment_id = \(lead.assignmentID)")
                == "handling:1")
        #expect(try await fixture.call("POST", link, json: body, token: "").status == 409, "nothing to evaluate until it replies again")

        #expect(try await fixture.call("POST", replyPath, json: ["text": "已调整充电桩位置。", "category": "A"], token: leadToken).status == 201)
        var satisfied = body
        satisfied["result"] = "satisfied"
        let closed = try await fixture.call("POST", "/v1/supervision/assignments/\(lead.assignmentID)/evaluation", json: satisfied, token: committee)
        #expect(closed.status == 201 && closed.json["proposalClosed"] as? Bool == true, "\(closed.text)")

        // The committee closes the other by decision; its timers then do nothing.
        let otherPath = "/v1/supervision/proposals/\(other.proposalID)/closing"
        #expect(try await fixture.call("POST", otherPath, json: [:], token: committee).errorField == "reason")
        #expect(try await fixture.call("POST", otherPath, json: ["reason": "提案人撤回"], token: committee).status == 200)
        #expect(try await fixture.call("POST", otherPath, json: ["reason": "再次"], token: committee).status == 409)
        fixture.clock.advance(by: 40 * Self.day)
        try await Task.sleep(for: .seconds(3))
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NOT NULL") == 0)

        let events = try await fixture.supervisionEvents(atLeast: 7)
        let types = events.map(\.type)
        #expect(types.filter { $0 == AssignmentEvaluated.eventType }.count == 2)
        #expect(types.filter { $0 == AssignmentReopened.eventType }.count == 1)
        let closings = try events.filter { $0.type == ProposalClosed.eventType }.map { try $0.decodePayload(as: ProposalClosed.self) }
        let closedProposals: Set<UUID> = Set(closings.map(\.proposalID))
        #expect(closings.count == 2 && closedProposals == [assigned.proposalID, other.proposalID])
        #expect(closings.first { $0.proposalID == other.proposalID }?.byDecision == true)
        try await fixture.stopAll()
    }

    @Test func theUnitEvaluationAndTheQuotasComeFromTheStore() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        let good = try await fixture.assign(deadline: fixture.today.adding(days: 30), number: 1)
        let slow = try await fixture.assign(deadline: fixture.today.adding(days: 30), number: 2)
        try await fixture.awaitTracked(2)
        let unit = good.units[0]
        let token = try fixture.token(.handlingUnit, unit: unit.unitID)
        let path = "/v1/supervision/my/assignments/\(unit.assignmentID)"
        for stage in ["before", "during", "after"] {
            let meeting: [String: Any] = ["stage": stage, "heldOn": fixture.today.description, "form": "走访", "attendees": "提案人", "summary": "沟通"]
            #expect(try await fixture.call("POST", path + "/meetings", json: meeting, token: token).status == 201)
        }
        #expect(try await fixture.call("POST", path + "/reply", json: ["text": "已办结。", "category": "A"], token: token).status == 201)
        #expect(
            try await fixture.call(
                "POST", "/v1/supervision/assignments/\(unit.assignmentID)/evaluation", json: ["result": "satisfied"], token: fixture.token()
            ).status == 201)

        let period = "from=\(fixture.today.adding(days: -1))&to=\(fixture.today.adding(days: 1))"
        let report = try await fixture.call("GET", "/v1/supervision/evaluation?" + period, token: fixture.token())
        let units = (report.json["units"] as? [[String: Any]]) ?? []
        #expect(units.count == 2, "\(report.text)")
        let first = try #require(units.first)
        #expect(first["unitId"] as? String == unit.unitID.uuidString)
        #expect(first["onTimeReplyRate"] as? Double == 1 && first["threeMeetingRate"] as? Double == 1 && first["satisfactionRate"] as? Double == 1)
        #expect(first["score"] as? Double == 100 && first["rank"] as? Int == 1)
        #expect(units.last?["onTimeReplyRate"] == nil, "nothing of the slow unit is due yet (\(slow.caseNumber))")
        let csv = try await fixture.call("GET", "/v1/supervision/evaluation?format=csv&" + period, token: fixture.token())
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true && csv.body.starts(with: [0xEF, 0xBB, 0xBF]))
        #expect(csv.text.contains("单位") && csv.text.contains("区应急管理局"))
        #expect(
            try await fixture.call("GET", "/v1/supervision/evaluation?from=2026-13-01&to=2026-12-31", token: fixture.token()).errorField == "from")
        let backwards = try await fixture.call("GET", "/v1/supervision/evaluation?from=2026-12-31&to=2026-01-01", token: fixture.token())
        #expect(backwards.status == 422)
        #expect(backwards.errorField == "from")

        // Supervision activities (五督办) on a proposal.
        let actionsPath = "/v1/supervision/proposals/\(slow.proposalID)/actions"
        let action: [String: Any] = ["kind": "leader-led", "heldOn": fixture.today.description, "participants": "张副主席、区应急管理局", "summary": "现场督办"]
        #expect(try await fixture.call("POST", actionsPath, json: action, token: fixture.token()).status == 201)
        var badKind = action
        badKind["kind"] = "tea"
        #expect(try await fixture.call("POST", actionsPath, json: badKind, token: fixture.token()).errorField == "kind")
        #expect(try await fixture.call("POST", "/v1/supervision/proposals/\(UUID())/actions", json: action, token: fixture.token()).status == 404)
        let listed = try await fixture.call("GET", actionsPath, token: fixture.token())
        #expect(((listed.json["actions"] as? [[String: Any]]) ?? []).map { $0["kind"] as? String } == ["leader-led"])

        // Quotas against the register: a studio counts its own clues and its members' for it; an inactive entry owes
        // nothing; a clue credited to no entry (free text not yet mapped) counts for no one.
        try await fixture.store.execute(
            """
            INSERT INTO register_entries (district, code, kind, name, studio_code, active, updated_by) VALUES
                ('haizhu', 's-sy', 'studio', '沙园街委员工作室', NULL, true, 'test'),
                ('haizhu', 's-nhx', 'studio', '南华西街委员工作室', NULL, true, 'test'),
                ('haizhu', 's-old', 'studio', '旧工作室', NULL, false, 'test'),
                ('haizhu', 'm-chen', 'member', '陈委员', 's-nhx', true, 'test')
            """, scope: .district(fixture.haizhu))
        for (number, code, studio) in [(1, "s-sy", "s-sy"), (2, "s-sy", "s-sy"), (3, "m-chen", "s-nhx"), (4, "s-old", "s-old"), (5, nil, nil)]
            as [(Int, String?, String?)]
        {
            try await fixture.store.execute(
                """
                INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions, source_category, channel,
                                   is_anonymous, received_at, receiver_kind, receiver_name, receiver_code, receiver_studio_code)
                VALUES (\(UUID()), 'haizhu', \("HZ-Q-\(number)"), '标题', '情况', '建议', 'studio', 'studio', true, \(fixture.clock.now),
                        \(code?.hasPrefix("m-") == true ? "member" : "studio"), '沙园街工作室', \(code), \(studio))
                """, scope: .district(fixture.haizhu))
        }
        let month = String(fixture.today.description.prefix(7))
        let quotas = try await fixture.call("GET", "/v1/supervision/quotas?month=\(month)&behind=true", token: fixture.token())
        let behind = ((quotas.json["standings"] as? [[String: Any]]) ?? []).map { "\($0["code"] ?? ""):\($0["shortfall"] ?? "")" }
        #expect(behind == ["s-nhx:1", "m-chen:1"], "\(quotas.text)")
        #expect(try await fixture.call("GET", "/v1/supervision/quotas?month=2026-13", token: fixture.token()).errorField == "month")
        let reminded = try await fixture.call("POST", "/v1/supervision/quotas/reminders?month=\(month)", token: fixture.token())
        #expect(((reminded.json["reminded"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["s-nhx", "m-chen"])
        let again = try await fixture.call("POST", "/v1/supervision/quotas/reminders?month=\(month)", token: fixture.token())
        #expect(((again.json["reminded"] as? [[String: Any]]) ?? []).isEmpty, "once per month")
        let quotaEvents = try await fixture.supervisionEvents(atLeast: 1).filter { $0.type == QuotaReminderDue.eventType }
        #expect(quotaEvents.count == 2)
        #expect(
            Set(try quotaEvents.map { try $0.decodePayload(as: QuotaReminderDue.self).receiver }) == ["s-nhx", "m-chen"], "addressed by register code"
        )
        try await fixture.stopAll()
    }

    @Test func twoInstancesFireEveryTimerExactlyOnce() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        try await fixture.start("supervision-2")
        for number in 1...40 { try await fixture.assign(deadline: fixture.today.adding(days: 10), number: number) }
        try await fixture.awaitTracked(40)
        fixture.clock.advance(by: 4 * Self.day)
        let fired = try await eventually(timeout: .seconds(30)) {
            try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NOT NULL") == 40
        }
        #expect(fired)
        let events = try await fixture.supervisionEvents(atLeast: 40)
        #expect(events.count == 40, "one reminder per assignment, whichever instance fired it")
        #expect(Set(try events.map { try $0.decodePayload(as: ReminderDue.self).assignmentID }).count == 40)
        try await fixture.stopAll()
    }

    @Test func aNewDeadlineReplansAndAReassignmentSilencesTheRoundItReplaces() async throws {
        let fixture = try await SupervisionFixture()
        try await fixture.start("supervision-1")
        let first = try await fixture.assign(deadline: fixture.today.adding(days: 10), number: 1)
        let second = try await fixture.assign(deadline: fixture.today.adding(days: 10), number: 2)
        try await fixture.awaitTracked(2)
        let lead = first.units[0]
        let moved = fixture.today.adding(days: 30)
        try await fixture.publish(
            [
                try EventEnvelope(
                    AssignmentDeadlineChanged(
                        assignmentID: lead.assignmentID, proposalID: first.proposalID, unitID: lead.unitID,
                        previous: lead.deadline, deadline: moved, reason: "涉及多部门协调"),
                    district: fixture.haizhu, occurredAt: Date())
            ], key: first.proposalID.uuidString)
        let replacement = AssignedUnit(
            assignmentID: UUID(), unitID: UUID(), unitName: "区民政局", role: .lead, status: .active,
            assignedOn: fixture.today, deadline: fixture.today.adding(days: 20), contestUntil: nil)
        try await fixture.publish(
            [
                try EventEnvelope(
                    ProposalReassigned(
                        proposalID: second.proposalID, caseNumber: second.caseNumber, round: 2, units: [replacement],
                        superseded: [second.units[0].assignmentID], resolvedContests: [], deadlineRule: .restart, note: "改派"),
                    district: fixture.haizhu, occurredAt: Date())
            ], key: second.proposalID.uuidString)
        try await fixture.awaitTracked(3)
        let replanned = try await eventually(timeout: .seconds(20)) {
            try await fixture.string(
                "SELECT to_char(min(day), 'YYYY-MM-DD') FROM supervision_timers WHERE assignment_id = \(lead.assignmentID) AND cancelled_at IS NULL")
                == moved.adding(days: -7).description
        }
        #expect(replanned, "the new deadline's timers replace the old ones")
        #expect(
            try await fixture.string("SELECT state FROM supervised_assignments WHERE assignment_id = \(second.units[0].assignmentID)") == "superseded"
        )

        // Past the old deadline, and past the replacement's seven-day reminder (day 13): only that fires.
        fixture.clock.advance(by: 14 * Self.day)
        let settled = try await eventually(timeout: .seconds(20)) {
            try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NOT NULL") >= 1
        }
        #expect(settled)
        try await Task.sleep(for: .seconds(2))
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NOT NULL") == 1)
        let events = try await fixture.supervisionEvents(atLeast: 1)
        let assignments = Set(
            try events.map { event -> UUID in
                switch event.type {
                case ReminderDue.eventType: try event.decodePayload(as: ReminderDue.self).assignmentID
                default: try event.decodePayload(as: AssignmentEscalated.self).assignmentID
                }
            })
        #expect(!assignments.contains(lead.assignmentID), "the moved deadline is still 16 days away")
        #expect(!assignments.contains(second.units[0].assignmentID), "the superseded assignment is silent")
        #expect(assignments == [replacement.assignmentID], "only the replacement's reminders: \(events.map(\.type))")
        try await fixture.stopAll()
    }
}

extension SupervisionFixture {
    func token(_ role: StaffClaims.Role = .proposalsCommittee, unit: UUID? = nil) throws -> String {
        try signer.token(
            for: StaffClaims(
                subject: "\(role.rawValue)-\(unit?.uuidString.prefix(4) ?? "1")", role: role, district: haizhu,
                unitID: unit, expiresAt: Date().addingTimeInterval(3600)))
    }

    /// An HTTP call to the latest instance started.
    func call(_ method: String, _ path: String, json: Any? = nil, token: String) async throws -> HTTPAnswer {
        try await sendHTTP(
            method, base.withLock { $0 } + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
            contentType: json == nil ? nil : "application/json", headers: ["Authorization": "Bearer \(token)"])
    }

    func string(_ query: PostgresQuery) async throws -> String? {
        try await store.database.transaction(.allDistricts) { transaction in
            for try await value in try await transaction.query(query).decode(String?.self) { return value }
            return nil
        }
    }
}
