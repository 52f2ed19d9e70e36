import Foundation
import Models
import Similarity
import Testing

@testable import AssignmentService

/// A small directory of Haizhu's handling units, enough to rank against.
enum Directory {
    static let transport = UnitProfile(id: uuid(1), code: "transport", name: "区交通运输局", domains: ["transport"], keywords: ["地铁", "公交", "交通拥堵"])
    static let education = UnitProfile(id: uuid(2), code: "education", name: "区教育局", domains: ["education"], keywords: ["学校", "校门"])
    static let nanhuaxi = UnitProfile(id: uuid(3), code: "nanhuaxi", name: "南华西街道办事处", domains: [], keywords: ["南华西"])
    static let housing = UnitProfile(id: uuid(4), code: "housing", name: "区住房和城乡建设局", domains: ["urban-renewal"], keywords: ["加装电梯", "老旧小区"])
    static let emergency = UnitProfile(id: uuid(5), code: "emergency", name: "区应急管理局", domains: ["public-safety"], keywords: ["消防", "火灾", "电动自行车"])
    static let closed = UnitProfile(id: uuid(6), code: "closed", name: "已撤销的单位", domains: ["public-safety"], keywords: ["火灾"], isActive: false)
    static let all = [transport, education, nanhuaxi, housing, emergency, closed]

    static func uuid(_ number: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", number))! }
}

@Suite struct SuggestionTests {
    let suggester = UnitSuggester(units: Directory.all)
    let hasher = MinHasher()

    let ebike = "南华西街老旧小区电动自行车楼道充电存在火灾隐患，建议建设集中充电桩，加强消防巡查。"

    @Test func theUnitOwningTheDomainWithKeywordHitsLeads() {
        let suggestion = suggester.suggest(text: ebike, domain: "public-safety", similar: [])
        #expect(suggestion.lead.map(\.code) == ["emergency", "housing", "nanhuaxi"])
        let emergency = suggestion.lead[0]
        #expect(emergency.score == 3 + 3 * 1.5, "domain plus three keywords")
        #expect(emergency.reasons.map(\.kind) == [.domain, .keyword, .keyword, .keyword])
        #expect(emergency.reasons.contains { $0.detail == "keyword 电动自行车" })
        #expect(suggestion.lead[1].reasons.map(\.detail) == ["keyword 老旧小区"])
        #expect(!suggestion.lead.contains { $0.code == "closed" }, "an inactive unit is never suggested")
    }

    @Test func coUnitsScoreAtLeastHalfOfTheLead() {
        // Transport: the domain and three keywords (7.5); education: two keywords (3), under half.
        let text = "南华西街学校门口交通拥堵，放学时公交车无法通行，地铁站出口人流混乱，学校和校门口需要疏导。"
        let suggestion = suggester.suggest(text: text, domain: "transport", similar: [])
        #expect(suggestion.lead.first?.code == "transport")
        #expect(suggestion.lead.first?.score == 3 + 3 * 1.5)
        #expect(suggestion.coUnits.isEmpty)
        let withEducationDomain = UnitSuggester(units: [
            Directory.transport,
            UnitProfile(
                id: Directory.education.id, code: "education", name: "区教育局", domains: ["education", "transport"], keywords: ["学校", "校门"]),
        ])
        let shared = withEducationDomain.suggest(text: text, domain: "transport", similar: [])
        #expect(shared.coUnits.map(\.code) == ["education"], "3 + 2 × 1.5 = 6 ≥ 7.5 / 2")
    }

    @Test func aKeywordCountsOnceHoweverOftenItAppears() {
        let suggestion = suggester.suggest(text: "地铁地铁地铁，地铁站太挤", domain: nil, similar: [])
        #expect(suggestion.lead.map(\.code) == ["transport"])
        #expect(suggestion.lead[0].score == 1.5)
    }

    @Test func unitsThatHandledSimilarPastProposalsGainByTheSimilarity() {
        var past = PastProposals()
        let earlier = "老旧小区加装电梯协调难，低层住户意见不一，建议建立街道协调机制，公开补贴标准。"
        past.record(
            .init(
                proposalID: Directory.uuid(100), caseNumber: "HZ-14-2025-0007", signature: hasher.signature(ofText: earlier),
                handledBy: [Directory.housing.id, Directory.nanhuaxi.id]))
        past.record(
            .init(
                proposalID: Directory.uuid(101), caseNumber: "HZ-14-2025-0008", signature: hasher.signature(ofText: "学校门口交通拥堵"),
                handledBy: [Directory.transport.id]))
        let text = "老旧小区加装电梯协调难，低层住户意见不一致，建议街道建立协调机制并公开补贴标准。"
        let similar = past.nearest(to: hasher.signature(ofText: text), limit: 10, minimumSimilarity: 0.2)
        #expect(similar.map(\.0.caseNumber) == ["HZ-14-2025-0007"], "the unrelated proposal is not similar")
        let similarity = similar[0].1
        #expect(similarity > 0.3 && similarity < 1)
        let suggestion = suggester.suggest(text: text, domain: "urban-renewal", similar: similar)
        #expect(suggestion.lead.first?.code == "housing")
        let reasons = suggestion.lead[0].reasons
        #expect(reasons.contains { $0.kind == .similarProposal && $0.detail.hasPrefix("led HZ-14-2025-0007") })
        let nanhuaxi = suggestion.lead.first { $0.code == "nanhuaxi" }
        #expect(nanhuaxi?.reasons.map(\.kind) == [.similarProposal], "a co-unit of the similar proposal gains less")
        #expect(abs((nanhuaxi?.score ?? 0) - 2 * similarity) < 0.01)
        #expect(suggestion.similarProposals.map(\.caseNumber) == ["HZ-14-2025-0007"])
    }

    @Test func aReassignedProposalTeachesItsNewUnits() {
        var past = PastProposals()
        let text = "地铁站出口没有无障碍电梯，轮椅使用者出行不便，建议加装无障碍电梯。"
        let signature = hasher.signature(ofText: text)
        past.record(.init(proposalID: Directory.uuid(200), caseNumber: "HZ-14-2025-0010", signature: signature, handledBy: [Directory.housing.id]))
        past.record(.init(proposalID: Directory.uuid(200), caseNumber: "HZ-14-2025-0010", signature: signature, handledBy: [Directory.transport.id]))
        #expect(past.count == 1)
        let nearest = past.nearest(to: signature, limit: 5, minimumSimilarity: 0.2)
        #expect(nearest.map(\.0.handledBy) == [[Directory.transport.id]])
        #expect(past.nearest(to: signature, limit: 5, minimumSimilarity: 0.2, excluding: Directory.uuid(200)).isEmpty)
    }

    @Test func theStoredJSONDecodesToTheSameSuggestion() throws {
        let odd = UnitProfile(id: Directory.uuid(7), code: "odd", name: "名称带\"引号\"和\\反斜杠\n与换行\u{01}", domains: ["public-safety"], keywords: ["火灾"])
        var past = PastProposals()
        past.record(
            .init(
                proposalID: Directory.uuid(300), caseNumber: "HZ-14-2025-\"9\"", signature: hasher.signature(ofText: ebike),
                handledBy: [odd.id, Directory.emergency.id]))
        let similar = past.nearest(to: hasher.signature(ofText: ebike), limit: 10, minimumSimilarity: 0.2)
        let suggestion = UnitSuggester(units: Directory.all + [odd]).suggest(text: ebike, domain: "public-safety", similar: similar)
        #expect(!suggestion.similarProposals.isEmpty && !suggestion.coUnits.isEmpty, "every part of the form is written")
        let decoded = try JSONDecoder().decode(Suggestion.self, from: Data(suggestion.json.utf8))
        #expect(decoded == suggestion)
        #expect(try JSONDecoder().decode(Suggestion.self, from: Data(Suggestion.empty.json.utf8)) == .empty)
    }

    @Test func autoAssignmentNeedsAScoreAndAMargin() {
        let rule = AssignmentSettings.AutoAssignment(enabled: true, minimumScore: 6, minimumMargin: 3)
        #expect(rule.isConfident(top: 7.5, runnerUp: 1.5))
        #expect(!rule.isConfident(top: 7.5, runnerUp: 5), "too close to the runner-up")
        #expect(!rule.isConfident(top: 5.9, runnerUp: nil), "too weak")
        #expect(rule.isConfident(top: 6, runnerUp: nil))
        #expect(!AssignmentSettings.AutoAssignment(enabled: false).isConfident(top: 100, runnerUp: nil), "off unless the district enables it")
    }
}

@Suite struct AssignmentRuleTests {
    let today = LocalDate("2025-09-26")!
    let directory: [UUID: AssignmentRules.Unit] = [
        Directory.transport.id: .init(id: Directory.transport.id, name: "区交通运输局", isActive: true),
        Directory.education.id: .init(id: Directory.education.id, name: "区教育局", isActive: true),
        Directory.closed.id: .init(id: Directory.closed.id, name: "已撤销的单位", isActive: false),
    ]

    func refusal(lead: UUID, coUnits: [UUID] = [], deadline: String? = nil) -> RuleRefusal? {
        do throws(RuleRefusal) {
            try AssignmentRules.check(lead: lead, coUnits: coUnits, deadline: deadline.flatMap(LocalDate.init), today: today, directory: directory)
            return nil
        } catch {
            return error
        }
    }

    @Test func aValidAssignmentPasses() {
        #expect(refusal(lead: Directory.transport.id, coUnits: [Directory.education.id], deadline: "2025-10-27") == nil)
    }

    @Test func badUnitsAndDeadlinesAreRefusedNamingTheField() {
        #expect(refusal(lead: Directory.uuid(99))?.field == "lead")
        #expect(refusal(lead: Directory.closed.id)?.reason == "已撤销的单位 is inactive")
        #expect(refusal(lead: Directory.transport.id, coUnits: [Directory.transport.id])?.reason == "区交通运输局 is already the lead unit")
        #expect(refusal(lead: Directory.transport.id, coUnits: [Directory.education.id, Directory.education.id])?.field == "coUnits[1]")
        #expect(refusal(lead: Directory.transport.id, coUnits: [Directory.closed.id])?.field == "coUnits[0]")
        #expect(refusal(lead: Directory.transport.id, deadline: "2025-09-26")?.field == "deadline", "today is not a deadline")
        #expect(refusal(lead: Directory.transport.id, deadline: "2025-09-01")?.field == "deadline")
    }

    @Test func aContestIsAllowedUpToTheLastDayOfTheWindow() {
        func contest(_ status: AssignmentStatus, lastDay: String, on day: String) -> String? {
            do throws(RuleRefusal) {
                try AssignmentRules.checkContest(status: status, lastDay: LocalDate(lastDay), today: LocalDate(day)!)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(contest(.active, lastDay: "2025-10-10", on: "2025-10-10") == nil, "the last day itself is in the window")
        #expect(contest(.active, lastDay: "2025-10-10", on: "2025-10-11") == "the contest window closed on 2025-10-10")
        #expect(contest(.proposed, lastDay: "2025-10-10", on: "2025-10-09") == nil, "a proposed assignment may be contested too")
        #expect(contest(.contested, lastDay: "2025-10-10", on: "2025-10-09") == "the assignment is already contested")
        #expect(contest(.superseded, lastDay: "2025-10-10", on: "2025-10-09") == "the assignment was replaced by a reassignment")
    }

    @Test func settingsKeepDefaultsForMissingKeysAndNameBadFields() throws {
        let partial = try JSONDecoder().decode(AssignmentSettings.self, from: Data(#"{"contestWindow":{"workingDays":3}}"#.utf8))
        #expect(partial.contestWindow.workingDays == 3)
        #expect(partial.citizenProposalLimit == .citizenProposal)
        #expect(partial.reassignmentDeadline == .restart)
        #expect(partial.autoAssignment.enabled == false)
        #expect(partial.problems.isEmpty)
        var bad = AssignmentSettings()
        bad.citizenProposalLimit = DeadlineRule(amount: 0, unit: .months)
        bad.preAssignmentWorkingDays = 0
        bad.timeZone = "Mars/Olympus"
        #expect(bad.problems.map(\.field) == ["citizenProposalLimit", "preAssignmentWorkingDays", "timeZone"])
    }

    @Test func theLimitIsTheProposalsOwnThenTheKeyProposalsThenItsKinds() {
        var settings = AssignmentSettings()
        #expect(settings.limit(kind: .citizen, isKey: false, own: nil) == DeadlineRule(amount: 1, unit: .months))
        #expect(settings.limit(kind: .ordinary, isKey: true, own: nil) == DeadlineRule(amount: 3, unit: .months), "no key limit configured")
        settings.keyProposalLimit = DeadlineRule(amount: 20, unit: .workingDays)
        #expect(settings.limit(kind: .ordinary, isKey: true, own: nil) == DeadlineRule(amount: 20, unit: .workingDays))
        #expect(
            settings.limit(kind: .ordinary, isKey: true, own: DeadlineRule(amount: 15, unit: .calendarDays))
                == DeadlineRule(amount: 15, unit: .calendarDays))
    }
}
