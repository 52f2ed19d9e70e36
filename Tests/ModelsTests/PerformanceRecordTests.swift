import Foundation
import Testing

@testable import Models

private func date(_ text: String) -> LocalDate { LocalDate(text)! }

/// A member's performance record (履职档案, 002 §八.5) counted from the store's facts.
@Suite struct PerformanceRecordTests {
    static let member = RegisterEntry(code: "m-chen", kind: .member, name: "陈委员", sector: "经济界", specialCommittee: "经济委", studio: "s-sy")
    static let year = date("2026-01-01")...date("2026-12-31")

    static let facts = PerformanceFacts(
        clues: [
            // Received in the year: waiting, closed, sent to a body, a topic unclaimed, a topic claimed, one filed.
            .init(receivedOn: date("2026-01-05")),
            .init(receivedOn: date("2026-02-10"), route: .close),
            .init(receivedOn: date("2026-03-01"), route: .forwardToDistrictBody),
            .init(receivedOn: date("2026-04-01"), route: .referenceTopic),
            .init(receivedOn: date("2026-05-01"), route: .referenceTopic, topicClaimed: true),
            .init(receivedOn: date("2026-12-31"), route: .referenceTopic, topicClaimed: true, filed: true),
            // The previous year's: outside the period, whatever became of it.
            .init(receivedOn: date("2025-12-31"), route: .referenceTopic, topicClaimed: true, filed: true),
        ],
        topicClaims: [date("2026-05-02"), date("2027-01-01")],
        drafts: [
            .init(draftedOn: date("2025-12-20"), filedOn: date("2026-01-10")),
            .init(draftedOn: date("2026-05-03"), filedOn: date("2026-06-01")),
            .init(draftedOn: date("2026-11-01")),
            .init(draftedOn: date("2026-12-30"), filedOn: date("2027-01-04")),
        ],
        meetings: [date("2026-06-10"), date("2026-07-01"), date("2027-02-01")],
        evaluations: [
            .init(on: date("2026-08-01"), result: .satisfied), .init(on: date("2026-08-01"), result: .basicallySatisfied),
            .init(on: date("2026-09-01"), result: .dissatisfied), .init(on: date("2025-09-01"), result: .satisfied),
        ])

    @Test func theRecordCountsTheYearsWorkAndWhatBecameOfTheClues() {
        let record = PerformanceRecords.record(of: Self.member, facts: Self.facts, period: Self.year)
        #expect(record.cluesCollected == 6)
        #expect(record.cluesRouted == 4, "given a route other than closing")
        #expect(record.cluesAsTopics == 3)
        #expect(record.cluesClaimed == 2)
        #expect(record.cluesFiled == 1)
        #expect(record.topicsClaimed == 1)
        #expect(record.proposalsDrafted == 3, "drafted in the year, whether filed or not")
        #expect(record.proposalsFiled == 2, "filed in the year: last year's draft filed in January counts, December's filed in 2027 not")
        #expect(record.meetingsAttended == 2)
        #expect((record.satisfied, record.basicallySatisfied, record.dissatisfied, record.evaluations) == (1, 1, 1, 3))
        #expect(record.sector == "经济界" && record.active)
    }

    @Test func theSameFactsInAnyOrderGiveTheSameRecord() {
        var shuffled = Self.facts
        shuffled.clues.reverse()
        shuffled.drafts.reverse()
        shuffled.evaluations.reverse()
        #expect(
            PerformanceRecords.record(of: Self.member, facts: shuffled, period: Self.year)
                == PerformanceRecords.record(of: Self.member, facts: Self.facts, period: Self.year))
        let empty = PerformanceRecords.record(of: Self.member, facts: PerformanceFacts(), period: Self.year)
        #expect(empty.cluesCollected == 0 && empty.evaluations == 0)
    }

    @Test func aDisabledMembersRecordStaysAndTheCSVSaysSo() {
        var left = Self.member
        left.active = false
        let record = PerformanceRecords.record(of: left, facts: Self.facts, period: date("2026-05-01")...date("2026-05-31"))
        #expect(record.cluesCollected == 1 && record.topicsClaimed == 1 && record.proposalsDrafted == 1)
        let csv = PerformanceRecords.csv([record])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0].hasPrefix("编号,姓名/名称,类型,界别,专委会,状态,起,止,收集线索"))
        #expect(lines[1] == "m-chen,陈委员,委员,经济界,经济委,停用,2026-05-01,2026-05-31,1,1,1,1,0,1,1,0,0,0,0,0")
    }
}
