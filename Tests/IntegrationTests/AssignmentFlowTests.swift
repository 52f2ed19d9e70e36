import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

/// Assignment (交办) through the broker and the HTTP API: the unit directory, suggestions,
/// assigning with deadlines from the district's calendar, contests and reassignment, key
/// proposals, pre-assignment, automatic assignment, and bad input.
@Suite(.timeLimit(.minutes(3)))
struct AssignmentFlowTests {
    static let ebike = "南华西街老旧小区居民在楼道内为电动自行车充电，存在火灾隐患。建议建设集中充电桩，加强消防巡查。"

    @Test func theDirectoryIsValidatedVersionedAndScopedToItsDistrict() async throws {
        let fixture = try await AssignmentFixture()
        let committee = try fixture.token()
        let bad: [([String: Any], String)] = [
            (["code": "Bad Code", "name": "x", "kind": "district-department"], "code"),
            (["code": "transport", "name": "", "kind": "district-department"], "name"),
            (["code": "transport", "name": "区交通运输局", "kind": "ministry"], "kind"),
            (["code": "transport", "name": "区交通运输局", "kind": "district-department", "keywords": ["路"]], "keywords[0]"),
            (["code": "transport", "name": "区交通运输局", "kind": "district-department", "domains": ["transport", "transport"]], "domains[1]"),
            (["code": "transport", "name": "区交通运输局", "kind": "district-department", "contacts": [["name": ""]]], "contacts[0].name"),
        ]
        for (body, field) in bad {
            let answer = try await fixture.call("POST", "/v1/assignment/units", json: body, token: committee)
            #expect(answer.status == 422 && answer.errorField == field, "\(field): \(answer.status) \(answer.text)")
        }
        let transport = try await fixture.unit("transport", "区交通运输局", domains: ["transport"], keywords: ["地铁", "公交"])
        let duplicate = try await fixture.call(
            "POST", "/v1/assignment/units", json: ["code": "transport", "name": "又一个", "kind": "district-department"], token: committee)
        #expect(duplicate.status == 409 && duplicate.errorField == "code")

        var edit: [String: Any] = [
            "code": "transport", "name": "区交通运输局", "kind": "district-department", "domains": ["transport"],
            "keywords": ["地铁", "公交", "停车"], "basedOn": 1,
        ]
        let saved = try await fixture.call("PUT", "/v1/assignment/units/\(transport)", json: edit, token: committee)
        #expect(saved.status == 200 && saved.json["version"] as? Int == 2)
        let stale = try await fixture.call("PUT", "/v1/assignment/units/\(transport)", json: edit, token: committee)
        #expect(stale.status == 409 && stale.errorCode == "stale-version")
        edit["basedOn"] = 2
        edit["active"] = false
        #expect(try await fixture.call("PUT", "/v1/assignment/units/\(transport)", json: edit, token: committee).json["version"] as? Int == 3)
        let versions = try await fixture.call("GET", "/v1/assignment/units/\(transport)/versions", token: committee)
        let listed = (versions.json["versions"] as? [[String: Any]]) ?? []
        #expect(listed.map { $0["version"] as? Int } == [1, 2, 3])
        #expect(((listed[0]["unit"] as? [String: Any])?["keywords"] as? [String]) == ["地铁", "公交"], "each version is kept as it was")
        let active = try await fixture.call("GET", "/v1/assignment/units", token: committee)
        #expect(((active.json["units"] as? [[String: Any]]) ?? []).isEmpty, "inactive units are listed only on request")
        let everything = try await fixture.call("GET", "/v1/assignment/units?includeInactive=true", token: committee)
        #expect(((everything.json["units"] as? [[String: Any]]) ?? []).count == 1)

        let elsewhere = try fixture.token(district: "tianhe")
        #expect(try await fixture.call("GET", "/v1/assignment/units/\(transport)", token: elsewhere).status == 404)
        #expect(try await fixture.call("GET", "/v1/assignment/units", token: fixture.token(.member)).status == 403)
        try await fixture.stop()
    }

    @Test func aFiledProposalIsSuggestedAssignedAndAnnouncedOnce() async throws {
        let fixture = try await AssignmentFixture()
        let committee = try fixture.token()
        let emergency = try await fixture.unit("emergency", "区应急管理局", domains: ["public-safety"], keywords: ["消防", "火灾", "电动自行车"])
        let street = try await fixture.unit("nanhuaxi", "南华西街道办事处", keywords: ["南华西"])
        let housing = try await fixture.unit("housing", "区住房和城乡建设局", domains: ["urban-renewal"], keywords: ["老旧小区"])
        let closed = try await fixture.unit("closed", "已撤销的单位")
        let unitPath = "/v1/assignment/units/\(closed)"
        #expect(
            try await fixture.call(
                "PUT", unitPath, json: ["code": "closed", "name": "已撤销的单位", "kind": "district-department", "active": false, "basedOn": 1],
                token: committee
            ).status == 200)

        let (proposal, _) = try await fixture.file(title: "关于整治电动自行车楼道充电的提案", text: Self.ebike, domain: "public-safety", number: 1)
        try await fixture.awaitCases([proposal])
        let queue = try await fixture.call("GET", "/v1/assignment/queue", token: committee)
        let entries = (queue.json["proposals"] as? [[String: Any]]) ?? []
        #expect(entries.map { $0["proposalId"] as? String } == [proposal.uuidString])
        #expect((entries.first?["suggestedLead"] as? [String: Any])?["code"] as? String == "emergency")
        let opened = try await fixture.call("GET", "/v1/assignment/proposals/\(proposal)", token: committee)
        let suggestion = try #require(opened.json["suggestion"] as? [String: Any])
        let lead = try #require((suggestion["lead"] as? [[String: Any]])?.first)
        #expect(lead["code"] as? String == "emergency")
        #expect(((lead["reasons"] as? [[String: Any]]) ?? []).contains { $0["kind"] as? String == "domain" })
        #expect(opened.json["state"] as? String == "awaiting-assignment")

        // Bad assignments answer 422 naming the field, and write nothing.
        let path = "/v1/assignment/proposals/\(proposal)/assignment"
        let bad: [([String: Any], String)] = [
            ([:], "lead"),
            (["lead": UUID().uuidString], "lead"),
            (["lead": closed.uuidString], "lead"),
            (["lead": emergency.uuidString, "coUnits": [emergency.uuidString]], "coUnits[0]"),
            (["lead": emergency.uuidString, "deadline": fixture.today.adding(days: -1).description], "deadline"),
            (["lead": emergency.uuidString, "deadline": "2026-02-30"], "deadline"),
        ]
        for (body, field) in bad {
            let answer = try await fixture.call("POST", path, json: body, token: committee)
            #expect(answer.status == 422 && answer.errorField == field, "\(field): \(answer.status) \(answer.text)")
        }
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM assignments") == 0)
        #expect(try await fixture.call("POST", path, json: ["lead": emergency.uuidString], token: fixture.token(district: "tianhe")).status == 404)
        #expect(
            try await fixture.call("POST", path, json: ["lead": emergency.uuidString], token: fixture.token(.handlingUnit, unit: emergency)).status
                == 403)

        let assigned = try await fixture.call(
            "POST", path, json: ["lead": emergency.uuidString, "coUnits": [street.uuidString], "notes": "请会同街道办理"], token: committee)
        #expect(assigned.status == 201, "\(assigned.text)")
        #expect(assigned.json["state"] as? String == "assigned")
        let rows = (assigned.json["assignments"] as? [[String: Any]]) ?? []
        #expect(rows.map { $0["role"] as? String } == ["lead", "co-handling"])
        // 百姓提案: one month from today, moved past a non-working day (no holidays configured).
        let expected = DeadlineRule.citizenProposal.deadline(from: fixture.today, calendar: .none).description
        #expect(rows.allSatisfy { $0["deadline"] as? String == expected && $0["assignedOn"] as? String == fixture.today.description })
        #expect(try await fixture.call("POST", path, json: ["lead": housing.uuidString], token: committee).status == 409, "assigned already")
        #expect(try await fixture.string("SELECT status FROM proposals WHERE id = \(proposal)") == "assigned")

        let events = try await fixture.assignmentEvents(atLeast: 1)
        #expect(events.map(\.type) == [ProposalAssigned.eventType], "one event for the assignment")
        let event = try events[0].decodePayload(as: ProposalAssigned.self)
        #expect(event.units.map(\.unitID) == [emergency, street])
        #expect(event.units.map(\.deadline?.description) == [expected, expected])
        #expect(event.automatic == false && event.caseNumber == "HZ-14-2026-0001")
        try await fixture.stop()
    }

    @Test func aUnitContestsWithinItsWindowAndTheCommitteeReassignsOrRejects() async throws {
        let fixture = try await AssignmentFixture(settings: #"{"reassignmentDeadline":"keep","contestWindow":{"workingDays":5}}"#)
        let committee = try fixture.token()
        let emergency = try await fixture.unit("emergency", "区应急管理局", domains: ["public-safety"])
        let street = try await fixture.unit("nanhuaxi", "南华西街道办事处", keywords: ["南华西"])
        let housing = try await fixture.unit("housing", "区住房和城乡建设局")
        let (first, _) = try await fixture.file(title: "电动自行车充电", text: Self.ebike, domain: "public-safety", number: 1)
        let (second, _) = try await fixture.file(title: "长者饭堂排队", text: "长者饭堂午餐时段排队超过半小时，建议增加窗口。", domain: "elderly-care", number: 2)
        try await fixture.awaitCases([first, second])
        let one = try await fixture.call(
            "POST", "/v1/assignment/proposals/\(first)/assignment",
            json: ["lead": street.uuidString, "coUnits": [housing.uuidString]], token: committee)
        let leadAssignment = try #require(((one.json["assignments"] as? [[String: Any]])?.first?["id"] as? String))
        let coAssignment = try #require(((one.json["assignments"] as? [[String: Any]])?.last?["id"] as? String))
        let originalDeadline = try #require((one.json["assignments"] as? [[String: Any]])?.first?["deadline"] as? String)
        _ = try await fixture.call("POST", "/v1/assignment/proposals/\(second)/assignment", json: ["lead": emergency.uuidString], token: committee)

        // A unit sees its own assignments only.
        let streetToken = try fixture.token(.handlingUnit, unit: street, subject: "street-clerk")
        let mine = try await fixture.call("GET", "/v1/assignment/my/assignments", token: streetToken)
        #expect(
            ((mine.json["assignments"] as? [[String: Any]]) ?? []).compactMap { ($0["assignment"] as? [String: Any])?["id"] as? String } == [
                leadAssignment
            ])
        #expect(try await fixture.call("GET", "/v1/assignment/my/assignments/\(coAssignment)", token: streetToken).status == 404)
        #expect(
            try await fixture.call("POST", "/v1/assignment/my/assignments/\(coAssignment)/contest", json: ["reason": "不是我们的"], token: streetToken)
                .status == 404,
            "another unit's assignment cannot be contested")
        #expect(
            try await fixture.call("GET", "/v1/assignment/my/assignments", token: fixture.token(.handlingUnit)).status == 403,
            "a unit token names its unit")
        #expect(try await fixture.call("GET", "/v1/assignment/queue", token: streetToken).status == 403)

        let noReason = try await fixture.call("POST", "/v1/assignment/my/assignments/\(leadAssignment)/contest", json: [:], token: streetToken)
        #expect(noReason.status == 422 && noReason.errorField == "reason")
        let contested = try await fixture.call(
            "POST", "/v1/assignment/my/assignments/\(leadAssignment)/contest",
            json: ["reason": "消防安全属应急管理部门职责", "suggestedUnit": "区应急管理局"], token: streetToken)
        #expect(contested.status == 201, "\(contested.text)")
        #expect((contested.json["assignment"] as? [String: Any])?["status"] as? String == "contested")
        let again = try await fixture.call(
            "POST", "/v1/assignment/my/assignments/\(leadAssignment)/contest", json: ["reason": "再次"], token: streetToken)
        #expect(again.status == 409 && again.errorCode == "contest-refused")
        #expect(try await fixture.string("SELECT state FROM assignment_cases WHERE proposal_id = \(first)") == "contested")

        // The committee reassigns: a new round, the old one superseded, the deadline kept (district rule).
        let reassigned = try await fixture.call(
            "POST", "/v1/assignment/proposals/\(first)/reassignment",
            json: ["lead": emergency.uuidString, "coUnits": [street.uuidString], "notes": "改由应急管理局主办"], token: committee)
        #expect(reassigned.status == 201, "\(reassigned.text)")
        #expect(reassigned.json["round"] as? Int == 2)
        let all = (reassigned.json["assignments"] as? [[String: Any]]) ?? []
        #expect(all.filter { $0["round"] as? Int == 1 }.allSatisfy { $0["status"] as? String == "superseded" })
        let current = all.filter { $0["round"] as? Int == 2 }
        #expect(current.map { $0["unitId"] as? String } == [emergency.uuidString, street.uuidString])
        #expect(current.allSatisfy { $0["deadline"] as? String == originalDeadline }, "reassignment keeps the deadline")
        #expect(((reassigned.json["contests"] as? [[String: Any]]) ?? []).map { $0["resolution"] as? String } == ["reassigned"])
        let actions = ((reassigned.json["history"] as? [[String: Any]]) ?? []).map { $0["action"] as? String ?? "" }
        #expect(actions == ["suggested", "assigned", "contested", "reassigned"], "the full history remains")

        // A contest after the window is refused; a rejected contest leaves the assignment as it was.
        let emergencyToken = try fixture.token(.handlingUnit, unit: emergency, subject: "emergency-clerk")
        let secondAssignment = try #require(try await fixture.string("SELECT id::text FROM assignments WHERE proposal_id = \(second)"))
        try await fixture.store.execute(
            "UPDATE assignments SET contest_until = current_date - 1 WHERE id = \(UUID(uuidString: secondAssignment)!)",
            scope: .district(fixture.haizhu))
        let late = try await fixture.call(
            "POST", "/v1/assignment/my/assignments/\(secondAssignment)/contest", json: ["reason": "晚了"], token: emergencyToken)
        #expect(
            late.status == 409 && late.errorCode == "contest-refused"
                && ((late.json["error"] as? [String: Any])?["message"] as? String ?? "").contains("window closed"))
        try await fixture.store.execute(
            "UPDATE assignments SET contest_until = current_date + 3 WHERE id = \(UUID(uuidString: secondAssignment)!)",
            scope: .district(fixture.haizhu))
        let inTime = try await fixture.call(
            "POST", "/v1/assignment/my/assignments/\(secondAssignment)/contest", json: ["reason": "属民政部门"], token: emergencyToken)
        let contest = try #require(((inTime.json["contests"] as? [[String: Any]])?.first?["id"] as? String))
        let noNote = try await fixture.call("POST", "/v1/assignment/contests/\(contest)/rejection", json: [:], token: committee)
        #expect(noNote.status == 422 && noNote.errorField == "note")
        let rejected = try await fixture.call(
            "POST", "/v1/assignment/contests/\(contest)/rejection", json: ["note": "长者饭堂消防安全由应急管理局牵头"], token: committee)
        #expect(rejected.status == 200 && rejected.json["state"] as? String == "assigned")
        #expect(try await fixture.string("SELECT status FROM assignments WHERE id = \(UUID(uuidString: secondAssignment)!)") == "active")
        #expect(try await fixture.call("POST", "/v1/assignment/contests/\(contest)/rejection", json: ["note": "再次"], token: committee).status == 409)

        let events = try await fixture.assignmentEvents(atLeast: 6)
        #expect(
            events.map(\.type).sorted() == [
                ContestRejected.eventType, AssignmentContested.eventType, AssignmentContested.eventType,
                ProposalAssigned.eventType, ProposalAssigned.eventType, ProposalReassigned.eventType,
            ])
        let reassignment = try #require(try events.first { $0.type == ProposalReassigned.eventType }?.decodePayload(as: ProposalReassigned.self))
        #expect(reassignment.superseded.count == 2 && reassignment.resolvedContests.count == 1 && reassignment.deadlineRule == .keep)
        try await fixture.stop()
    }

    @Test func deadlinesFollowTheDistrictsCalendarAndKeyProposalsTheirOwnLimit() async throws {
        let fixture = try await AssignmentFixture()
        let committee = try fixture.token()
        let emergency = try await fixture.unit("emergency", "区应急管理局")
        // A holiday on the day the one-month limit ends (moved to a weekday first) pushes the deadline on.
        let plain = DeadlineRule.citizenProposal.deadline(from: fixture.today, calendar: .none)
        let year = plain.year
        let badCalendar = try await fixture.call(
            "PUT", "/v1/assignment/calendar/\(year)",
            json: ["days": [["date": "\(year)-01-05", "kind": "working-day", "name": "调休"]]], token: committee)
        #expect(badCalendar.status == 422 && badCalendar.errorField == "days", "\(badCalendar.text)")
        let wrongYear = try await fixture.call(
            "PUT", "/v1/assignment/calendar/\(year)",
            json: ["days": [["date": "\(year + 1)-01-01", "kind": "holiday", "name": "元旦"]]], token: committee)
        #expect(wrongYear.status == 422 && wrongYear.errorField == "days[0].date")
        let holidays = [
            HolidayCalendar.Day(date: plain, kind: .holiday, name: "测试假日"),
            HolidayCalendar.Day(date: plain.adding(days: 1), kind: .holiday, name: "测试假日"),
        ]
        let saved = try await fixture.call(
            "PUT", "/v1/assignment/calendar/\(year)",
            json: [
                "days": holidays.map { ["date": $0.date.description, "kind": $0.kind.rawValue, "name": $0.name] }
            ], token: committee)
        #expect(saved.status == 200, "\(saved.text)")
        let calendar = HolidayCalendar(days: holidays)
        let expected = DeadlineRule.citizenProposal.deadline(from: fixture.today, calendar: calendar)
        #expect(expected > plain)

        let (proposal, _) = try await fixture.file(title: "电动自行车充电", text: Self.ebike, domain: "public-safety", number: 1)
        try await fixture.awaitCases([proposal])
        let assigned = try await fixture.call(
            "POST", "/v1/assignment/proposals/\(proposal)/assignment", json: ["lead": emergency.uuidString], token: committee)
        let assignment = try #require((assigned.json["assignments"] as? [[String: Any]])?.first)
        // Deadlines count from the day the service assigned it (a run over midnight moves it on).
        let assignedOn = try #require((assignment["assignedOn"] as? String).flatMap(LocalDate.init))
        #expect([fixture.today, fixture.today.adding(days: -1)].contains(assignedOn))
        let assignedDeadline = DeadlineRule.citizenProposal.deadline(from: assignedOn, calendar: calendar)
        #expect(assignment["deadline"] as? String == assignedDeadline.description)

        // Key proposal with its own limit of 15 working days: the deadline is recomputed from the day of assignment.
        let noLeader = try await fixture.call("POST", "/v1/assignment/proposals/\(proposal)/key", json: [:], token: committee)
        #expect(noLeader.status == 422 && noLeader.errorField == "supervisingLeader")
        let badLimit = try await fixture.call(
            "POST", "/v1/assignment/proposals/\(proposal)/key",
            json: ["supervisingLeader": "张副主席", "limit": ["amount": 0, "unit": "working-days"]], token: committee)
        #expect(badLimit.status == 422 && badLimit.errorField == "limit")
        let key = try await fixture.call(
            "POST", "/v1/assignment/proposals/\(proposal)/key",
            json: ["supervisingLeader": "张副主席", "limit": ["amount": 15, "unit": "working-days"]], token: committee)
        #expect(key.status == 200 && key.json["isKey"] as? Bool == true && key.json["supervisingLeader"] as? String == "张副主席")
        let keyDeadline = calendar.adding(workingDays: 15, to: assignedOn)
        #expect((key.json["assignments"] as? [[String: Any]])?.first?["deadline"] as? String == keyDeadline.description)

        // The committee moves a deadline; never into the past.
        let id = try #require(assignment["id"] as? String)
        let past = try await fixture.call(
            "POST", "/v1/assignment/assignments/\(id)/deadline", json: ["deadline": fixture.today.description, "reason": "x"], token: committee)
        #expect(past.status == 422 && past.errorField == "deadline")
        let moved = try await fixture.call(
            "POST", "/v1/assignment/assignments/\(id)/deadline",
            json: ["deadline": fixture.today.adding(days: 40).description, "reason": "涉及多部门协调"], token: committee)
        #expect(moved.status == 200 && moved.json["deadline"] as? String == fixture.today.adding(days: 40).description)

        let events = try await fixture.assignmentEvents(atLeast: 4)
        let changes = try events.filter { $0.type == AssignmentDeadlineChanged.eventType }.map {
            try $0.decodePayload(as: AssignmentDeadlineChanged.self)
        }
        #expect(changes.map(\.deadline) == [keyDeadline, fixture.today.adding(days: 40)])
        #expect(changes.first?.previous == assignedDeadline)
        #expect(events.filter { $0.type == ProposalMarkedKey.eventType }.count == 1)
        try await fixture.stop()
    }

    @Test func aConfidentSuggestionIsAssignedAutomaticallyOnceEvenIfTheFilingArrivesTwice() async throws {
        let fixture = try await AssignmentFixture(settings: #"{"autoAssignment":{"enabled":true,"minimumScore":6,"minimumMargin":3}}"#)
        let emergency = try await fixture.unit("emergency", "区应急管理局", domains: ["public-safety"], keywords: ["消防", "火灾", "电动自行车"])
        _ = try await fixture.unit("culture", "区文化广电旅游体育局", domains: ["culture"], keywords: ["图书馆"])
        let (confident, envelope) = try await fixture.file(title: "电动自行车充电", text: Self.ebike, domain: "public-safety", number: 1)
        try await fixture.publish([envelope], key: confident.uuidString)
        let (vague, _) = try await fixture.file(title: "社区活动", text: "建议多组织社区活动，丰富居民生活。", domain: nil, number: 2)
        try await fixture.awaitCases([confident, vague])
        #expect(try await fixture.string("SELECT state FROM assignment_cases WHERE proposal_id = \(confident)") == "assigned")
        #expect(
            try await fixture.string("SELECT state FROM assignment_cases WHERE proposal_id = \(vague)") == "awaiting-assignment",
            "a weak suggestion waits in the queue")
        let events = try await fixture.assignmentEvents(atLeast: 1)
        #expect(events.map(\.type) == [ProposalAssigned.eventType], "one assignment, though the filing arrived twice")
        let event = try events[0].decodePayload(as: ProposalAssigned.self)
        #expect(event.automatic && event.units.map(\.unitID) == [emergency])
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM assignments") == 1)
        try await fixture.stop()
    }

    @Test func preAssignmentsBecomeFinalWhenConfirmedOrWhenTheWindowPasses() async throws {
        let fixture = try await AssignmentFixture(settings: #"{"preAssignmentWorkingDays":2}"#)
        let committee = try fixture.token()
        let emergency = try await fixture.unit("emergency", "区应急管理局")
        let street = try await fixture.unit("nanhuaxi", "南华西街道办事处")
        let (first, _) = try await fixture.file(title: "电动自行车充电", text: Self.ebike, domain: "public-safety", number: 1)
        let (second, _) = try await fixture.file(title: "长者饭堂排队", text: "长者饭堂午餐时段排队超过半小时。", domain: "elderly-care", number: 2)
        try await fixture.awaitCases([first, second])

        let proposed = try await fixture.call(
            "POST", "/v1/assignment/proposals/\(first)/assignment",
            json: ["lead": emergency.uuidString, "coUnits": [street.uuidString]], token: committee)
        #expect(proposed.json["state"] as? String == "pre-assigned")
        let rows = (proposed.json["assignments"] as? [[String: Any]]) ?? []
        #expect(rows.allSatisfy { $0["status"] as? String == "proposed" && $0["deadline"] == nil && $0["confirmBy"] != nil })
        let leadID = try #require(rows.first?["id"] as? String)
        let coID = try #require(rows.last?["id"] as? String)
        let emergencyToken = try fixture.token(.handlingUnit, unit: emergency)
        let streetToken = try fixture.token(.handlingUnit, unit: street)
        let confirmed = try await fixture.call("POST", "/v1/assignment/my/assignments/\(leadID)/confirmation", token: emergencyToken)
        #expect(
            confirmed.status == 200 && (confirmed.json["assignment"] as? [String: Any])?["status"] as? String == "proposed",
            "the co-unit has not confirmed yet")
        #expect(try await fixture.call("POST", "/v1/assignment/my/assignments/\(leadID)/confirmation", token: emergencyToken).status == 409)
        let final = try await fixture.call("POST", "/v1/assignment/my/assignments/\(coID)/confirmation", token: streetToken)
        #expect((final.json["assignment"] as? [String: Any])?["status"] as? String == "active")
        #expect(
            (final.json["assignment"] as? [String: Any])?["deadline"] as? String
                == DeadlineRule.citizenProposal.deadline(from: fixture.today, calendar: .none).description)

        // The second is not confirmed; once its window has passed, the sweeper makes it final.
        _ = try await fixture.call("POST", "/v1/assignment/proposals/\(second)/assignment", json: ["lead": emergency.uuidString], token: committee)
        try await fixture.store.execute(
            "UPDATE assignments SET confirm_by = current_date - 1 WHERE proposal_id = \(second)", scope: .district(fixture.haizhu))
        let swept = try await eventually(timeout: .seconds(20)) {
            try await fixture.string("SELECT state FROM assignment_cases WHERE proposal_id = \(second)") == "assigned"
        }
        #expect(swept)
        let events = try await fixture.assignmentEvents(atLeast: 4)
        #expect(events.filter { $0.type == ProposalPreAssigned.eventType }.count == 2)
        let finals = try events.filter { $0.type == ProposalAssigned.eventType }.map { try $0.decodePayload(as: ProposalAssigned.self) }
        #expect(Set(finals.map(\.proposalID)) == [first, second] && finals.count == 2 && finals.allSatisfy(\.confirmedPreAssignment))
        try await fixture.stop()
    }

    /// Two instances share the consumer group: every filing is assigned exactly once, and a
    /// proposal like one another instance assigned is suggested the same unit for that reason.
    @Test func twoInstancesAssignEveryFilingOnceAndLearnFromEachOther() async throws {
        let fixture = try await AssignmentFixture(instances: 2, settings: #"{"autoAssignment":{"enabled":true,"minimumScore":3,"minimumMargin":1}}"#)
        let emergency = try await fixture.unit("emergency", "区应急管理局", domains: ["public-safety"], keywords: ["消防"])
        let civil = try await fixture.unit("civil-affairs", "区民政局", domains: ["elderly-care"], keywords: ["长者饭堂", "养老"])
        var filed: [UUID] = []
        for number in 1...30 {
            let (id, _) =
                number.isMultiple(of: 2)
                ? try await fixture.file(title: "长者饭堂\(number)", text: "社区长者饭堂午餐排队时间长，第\(number)号建议增加供餐窗口。", domain: "elderly-care", number: number)
                : try await fixture.file(title: "消防通道\(number)", text: "小区消防通道被占用，第\(number)号建议加强消防巡查。", domain: "public-safety", number: number)
            filed.append(id)
        }
        try await fixture.awaitCases(filed)
        #expect(try await fixture.store.integer("SELECT count(*)::int FROM assignment_cases WHERE state = 'assigned'") == 30)
        let events = try await fixture.assignmentEvents(atLeast: 30)
        let assigned = try events.filter { $0.type == ProposalAssigned.eventType }.map { try $0.decodePayload(as: ProposalAssigned.self) }
        #expect(assigned.count == 30 && Set(assigned.map(\.proposalID)) == Set(filed), "each filing assigned once")
        #expect(
            assigned.filter { $0.units.first?.unitID == civil }.count == 15 && assigned.filter { $0.units.first?.unitID == emergency }.count == 15)

        // A new canteen proposal without a domain: the similar past proposals point to civil affairs,
        // whichever instance assigned them.
        let (late, _) = try await fixture.file(title: "长者饭堂", text: "社区长者饭堂午餐排队时间长，建议增加供餐窗口。", domain: nil, number: 31)
        try await fixture.awaitCases([late])
        for instance in 0..<2 {
            let opened = try await fixture.call("GET", "/v1/assignment/proposals/\(late)?fresh=true", token: fixture.token(), instance: instance)
            let lead = (opened.json["suggestion"] as? [String: Any]).flatMap { ($0["lead"] as? [[String: Any]])?.first }
            #expect(lead?["code"] as? String == "civil-affairs")
            #expect(((lead?["reasons"] as? [[String: Any]]) ?? []).contains { $0["kind"] as? String == "similar-proposal" }, "instance \(instance)")
        }
        try await fixture.stop()
    }

    @Test func aFilingOfAProposalNotInTheStoreGoesToTheDeadLetterTopic() async throws {
        let fixture = try await AssignmentFixture()
        let ghost = try EventEnvelope(
            ProposalFiled(
                proposalID: UUID(), caseNumber: CaseNumber(rawValue: "HZ-14-2026-0099"), session: 14, year: 2026, fastTrack: true,
                domain: nil, committee: nil, clueIDs: []),
            district: fixture.haizhu, occurredAt: Date())
        try await fixture.publish([ghost], key: "k")
        let (good, _) = try await fixture.file(title: "长者饭堂排队", text: "长者饭堂午餐时段排队超过半小时。", domain: "elderly-care", number: 1)
        try await fixture.awaitCases([good])
        let letters = try await readTopic(
            fixture.kafka.topicName(TopicCatalogue.triageEvents.deadLetterName), kafka: fixture.kafka, atLeast: 1, settle: .milliseconds(500))
        #expect(letters.count == 1)
        #expect(letters.first?.header(DeadLetter.reasonHeader)?.contains("is not filed in the store") == true)
        try await fixture.stop()
    }
}
