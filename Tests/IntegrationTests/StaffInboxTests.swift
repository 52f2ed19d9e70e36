import Foundation
import Messaging
import Models
import ServiceKit
import Testing
import TestSupport

/// The staff notices publicity writes from the lifecycle events and each account reads as its
/// inbox (`/v1/inbox`): the right audience, once per event, read marks per person.
@Suite(.timeLimit(.minutes(3)))
struct StaffInboxTests {
    func call(_ fixture: PublicityFixture, _ method: String, _ path: String, json: Any? = nil, as claims: StaffClaims) async throws -> HTTPAnswer {
        try await sendHTTP(method, fixture.base + path, body: try json.map { try JSONSerialization.data(withJSONObject: $0) },
                           contentType: json == nil ? nil : "application/json",
                           headers: ["Authorization": "Bearer \(try fixture.signer.token(for: claims))"])
    }

    func person(_ role: StaffClaims.Role, _ subject: String, unit: UUID? = nil, name: String? = nil, district: String = "haizhu") -> StaffClaims {
        StaffClaims(subject: subject, role: role, district: DistrictCode(rawValue: district)!, unitID: unit,
                    expiresAt: Date().addingTimeInterval(3600), name: name)
    }

    @Test func eachUnitIsToldOfItsOwnPartOnceAndReadMarksArePerPerson() async throws {
        let fixture = try await PublicityFixture()
        let clue = try await fixture.clue("电动自行车楼道充电", text: "存在火灾隐患")
        let proposal = try await fixture.file("规范电动自行车充电", suggestions: "建设集中充电桩", clues: [clue])
        let units = try await fixture.assign(proposal, lead: "区消防救援大队", co: ["南华西街道办事处"])
        // The same assignment event delivered a second time (a redelivery after a crash).
        let again = try EventEnvelope(
            ProposalAssigned(proposalID: proposal.id, caseNumber: proposal.caseNumber, kind: .citizen, round: 1, units: units, isKey: false,
                             supervisingLeader: nil, automatic: false, confirmedPreAssignment: false),
            district: proposal.district, occurredAt: Date())
        for _ in 0..<2 {
            for result in await fixture.producer.send([OutgoingMessage(
                topic: fixture.kafka.topicName(TopicCatalogue.assignmentEvents.name), key: Data(proposal.id.uuidString.utf8), value: try again.encoded())]) {
                _ = try result.get()
            }
        }
        try await fixture.reply(proposal, units[0], text: "已建设充电桩 20 处")
        try await fixture.awaitApplied(6)

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

    @Test func escalationsReachTheLeaderTheProposalNamesByName() async throws {
        let fixture = try await PublicityFixture()
        let clue = try await fixture.clue("长者饭堂排队", text: "排队时间长")
        let proposal = try await fixture.file("改善长者饭堂", suggestions: "增加窗口", clues: [clue])
        let units = try await fixture.assign(proposal, lead: "区民政局")
        try await fixture.publish(
            AssignmentEscalated(assignmentID: units[0].assignmentID, proposalID: proposal.id, unitID: units[0].unitID, deadline: units[0].deadline!,
                                daysOverdue: 31, level: .supervisingLeader, supervisingLeader: "李副主席"),
            district: proposal.district, on: TopicCatalogue.supervisionEvents, key: proposal.id)
        try await fixture.awaitApplied(4)
        let leader = try await call(fixture, "GET", "/v1/inbox", as: person(.supervisingLeader, "leader-li", name: "李副主席"))
        let titles = (leader.json["notices"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
        #expect(titles.count == 1 && titles[0].contains("31 天"), "\(leader.text)")
        let otherLeader = try await call(fixture, "GET", "/v1/inbox", as: person(.supervisingLeader, "leader-wang", name: "王副主席"))
        #expect((otherLeader.json["notices"] as? [Any])?.isEmpty == true)
        try await fixture.stop()
    }
}
