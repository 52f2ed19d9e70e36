import Foundation
import Messaging
import Models
import ServiceKit
import Storage
import TestSupport
import Testing

/// From a reference topic to a filed proposal: claiming (认领), cultivation (培育), review and
/// filing (审查立案) on the fast track; and the annual clue compilation.
@Suite(.timeLimit(.minutes(3)))
struct TriageCultivationTests {
    @Test func aClaimedTopicBecomesAFiledProposalWithExactlyOneFilingEvent() async throws {
        let fixture = try await TriageFixture()
        let clue = try await fixture.submit(
            title: PilotClues.canteen.title, situation: PilotClues.canteen.situation, suggestions: PilotClues.canteen.suggestions)
        try await fixture.awaitTriaged([clue])
        let clerk = try fixture.token()
        let published = try await fixture.call("POST", "/v1/triage/clues/\(clue)/decision", json: ["route": "reference-topic"], token: clerk)
        let topic = try #require(published.json["topicId"] as? String)

        // One claimant at a time (the district does not allow co-claiming).
        let member = try fixture.token(.member, subject: "member-wang")
        let rival = try fixture.token(.member, subject: "member-li")
        let topics = try await fixture.call("GET", "/v1/reference-topics?status=open", token: member)
        #expect(((topics.json["referenceTopics"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == [topic])
        let claimed = try await fixture.call("POST", "/v1/reference-topics/\(topic)/claims", json: ["name": "王委员"], token: member)
        #expect(claimed.status == 201, "\(claimed.text)")
        let taken = try await fixture.call("POST", "/v1/reference-topics/\(topic)/claims", json: ["name": "李委员"], token: rival)
        #expect(taken.status == 409)
        let twice = try await fixture.call("POST", "/v1/reference-topics/\(topic)/claims", json: ["name": "王委员"], token: member)
        #expect(twice.status == 409)
        #expect(try await fixture.string("SELECT status FROM triage_clues WHERE clue_id = \(clue)") == "claimed")

        // The claimant drafts, edits and submits; the rival cannot draft from the topic.
        let draft: [String: Any] = [
            "title": "关于优化社区长者饭堂供餐服务的提案", "caseSummary": "长者饭堂排队时间长",
            "reasons": "港海社区长者饭堂午餐时段排队超过半小时。", "suggestions": "增加供餐窗口，推行线上预约。",
            "proposers": [["name": "王委员", "kind": "member"]], "topicId": topic,
        ]
        #expect(try await fixture.call("POST", "/v1/proposals", json: draft, token: rival).status == 409)
        let drafted = try await fixture.call("POST", "/v1/proposals", json: draft, token: member)
        #expect(drafted.status == 201, "\(drafted.text)")
        let proposal = try #require(drafted.json["id"] as? String)
        #expect(drafted.json["clueIds"] as? [String] == [clue.uuidString])
        #expect(drafted.json["fastTrack"] as? Bool == true)
        #expect(try await fixture.string("SELECT status FROM triage_clues WHERE clue_id = \(clue)") == "in-proposal")
        let edited = try await fixture.call("PUT", "/v1/proposals/\(proposal)", json: ["title": "关于优化长者饭堂供餐的提案"], token: member)
        #expect(edited.status == 200 && edited.json["title"] as? String == "关于优化长者饭堂供餐的提案")
        #expect(try await fixture.call("PUT", "/v1/proposals/\(proposal)", json: ["title": ""], token: member).errorField == "title")
        #expect(try await fixture.call("PUT", "/v1/proposals/\(proposal)", json: ["title": "改"], token: rival).status == 403)
        let submitted = try await fixture.call("POST", "/v1/proposals/\(proposal)/submit", token: member)
        #expect(submitted.status == 200 && submitted.json["status"] as? String == "submitted")
        #expect(submitted.json["reviewDueAt"] != nil, "the fast track sets a review deadline")
        #expect(try await fixture.call("PUT", "/v1/proposals/\(proposal)", json: ["title": "改"], token: member).status == 409)

        // The committee lists fast-track reviews past their due date; a member sees only their own drafts.
        let committee = try fixture.token(.proposalsCommittee)
        func overdue() async throws -> [String] {
            let listed = try await fixture.call("GET", "/v1/proposals?reviewOverdue=true", token: committee)
            return ((listed.json["proposals"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        }
        #expect(try await overdue().isEmpty, "not due yet")
        try await fixture.store.execute(
            "UPDATE proposals SET review_due_at = now() - interval '1 day' WHERE id = \(UUID(uuidString: proposal)!)",
            scope: .district(haizhu))
        #expect(try await overdue() == [proposal])
        #expect(try await fixture.call("GET", "/v1/proposals?reviewOverdue=maybe", token: committee).errorField == "reviewOverdue")
        #expect(((try await fixture.call("GET", "/v1/proposals", token: rival).json["proposals"] as? [Any]) ?? [1]).isEmpty, "another member's draft")
        #expect(try await fixture.call("GET", "/v1/proposals/\(proposal)", token: rival).status == 404)

        // Filing: a case number per district, session and year, and exactly one event.
        #expect(try await fixture.call("POST", "/v1/proposals/\(proposal)/review", json: ["decision": "file"], token: member).status == 403)
        let noRoute = try await fixture.call(
            "POST", "/v1/proposals/\(proposal)/review", json: ["decision": "not-file", "reason": "不属于提案范围"], token: committee)
        #expect(noRoute.status == 422 && noRoute.errorField == "alternativeRoute")
        // The year is the district's (China time) when it is filed: read on both sides of the call,
        // so a run over New Year accepts either.
        let yearBefore = LocalDate.on(Date(), in: .chinaTime).year
        let filed = try await fixture.call("POST", "/v1/proposals/\(proposal)/review", json: ["decision": "file"], token: committee)
        let yearAfter = LocalDate.on(Date(), in: .chinaTime).year
        #expect(filed.status == 200, "\(filed.text)")
        let caseNumber = try #require(filed.json["caseNumber"] as? String)
        #expect(Set([yearBefore, yearAfter]).map { "HZ-14-\($0)-0001" }.contains(caseNumber), "\(caseNumber)")
        let again = try await fixture.call("POST", "/v1/proposals/\(proposal)/review", json: ["decision": "file"], token: committee)
        #expect(again.status == 409 && again.errorCode == "illegal-state")
        #expect(try await fixture.call("GET", "/v1/proposals/\(proposal)", token: fixture.token(district: "tianhe")).status == 404)

        let events = try await fixture.triageEvents(atLeast: 5)
        let filings = try events.filter { $0.type == ProposalFiled.eventType }.map { try $0.decodePayload(as: ProposalFiled.self) }
        #expect(filings.count == 1)
        #expect(filings.first?.caseNumber.rawValue == caseNumber)
        #expect(filings.first?.clueIDs == [clue])
        #expect(filings.first?.fastTrack == true)
        #expect(events.filter { $0.type == TopicClaimed.eventType }.count == 1)
        #expect(events.filter { $0.type == ProposalDrafted.eventType }.count == 1)
        try await fixture.stop()
    }

    @Test func theAnnualCompilationListsCluesByDomainAndGroupWithoutContactData() async throws {
        let fixture = try await TriageFixture()
        let a = try await fixture.submit(
            title: PilotClues.ebike.title, situation: PilotClues.ebike.situation, suggestions: PilotClues.ebike.suggestions, address: "海珠区南华西街某小区")
        try await fixture.awaitTriaged([a])
        let b = try await fixture.submit(
            title: PilotClues.ebikeParaphrase.title, situation: PilotClues.ebikeParaphrase.situation,
            suggestions: PilotClues.ebikeParaphrase.suggestions)
        let c = try await fixture.submit(
            title: "<script>alert(1)</script>长者饭堂 联系13912345678", situation: PilotClues.canteen.situation, suggestions: PilotClues.canteen.suggestions
        )
        try await fixture.awaitTriaged([b, c])
        let clerk = try fixture.token()
        // The compilation of the year (China time) each clue came in: one year, or two when the
        // run went over New Year.
        var years: [Int] = []
        for clue in [a, b, c] {
            let year = try await fixture.store.integer(
                """
                SELECT extract(year FROM received_at AT TIME ZONE 'Asia/Shanghai')::int FROM clues WHERE id = \(clue)
                """)
            if !years.contains(year) { years.append(year) }
        }
        var csvText = "", htmlText = "", rows = 0
        for year in years {
            let csv = try await fixture.call("GET", "/v1/compilations/\(year)/clues.csv", token: clerk)
            #expect(csv.status == 200)
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
            rows += csv.text.split(whereSeparator: \.isNewline).count - 1
            csvText += csv.text
            let html = try await fixture.call("GET", "/v1/compilations/\(year)/clues.html", token: clerk)
            #expect(html.status == 200)
            #expect(html.text.contains("海珠区 \(year) 年度线索汇编"))
            htmlText += html.text
        }
        #expect(rows == 3, "three clues under the header")
        #expect(csvText.contains(PilotClues.ebike.title) && csvText.contains(PilotClues.ebikeParaphrase.title))
        #expect(!csvText.contains("王小明") && !csvText.contains("13800000000"))
        #expect(htmlText.contains("&lt;script&gt;") && !htmlText.contains("<script>alert"))
        #expect(!htmlText.contains("王小明") && !htmlText.contains("13800000000"))
        #expect(!htmlText.contains("13912345678") && htmlText.contains(Redaction.phoneLabel), "a phone number in a title is masked")
        let year = years.last!

        #expect(try await fixture.call("GET", "/v1/compilations/1800/clues.csv", token: clerk).errorField == "year")
        let elsewhere = try await fixture.call("GET", "/v1/compilations/\(year)/clues.csv", token: fixture.token(district: "tianhe"))
        #expect(elsewhere.text.split(whereSeparator: \.isNewline).count == 1, "another district's compilation has no rows of this one")
        try await fixture.stop()
    }
}
