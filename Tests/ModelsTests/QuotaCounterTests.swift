import Foundation
import Testing

@testable import Models

private func date(_ text: String) -> LocalDate { LocalDate(text)! }

/// Quotas counted against the register (002 §八.2): studios by the month, members by the year to
/// date, by the entry a clue was credited to rather than by the text a form carried.
@Suite struct QuotaCounterTests {
    static let register = [
        RegisterEntry(code: "s-nhx", kind: .studio, name: "南华西街委员工作室", street: "南华西街"),
        RegisterEntry(code: "s-bj", kind: .studio, name: "滨江街委员工作室", street: "滨江街"),
        RegisterEntry(code: "s-cg", kind: .studio, name: "昌岗街委员工作室", street: "昌岗街"),
        RegisterEntry(code: "s-old", kind: .studio, name: "旧工作室", active: false),
        RegisterEntry(code: "m-li", kind: .member, name: "李明", studio: "s-bj"),
        RegisterEntry(code: "m-wang", kind: .member, name: "王芳", studio: "s-nhx"),
        RegisterEntry(code: "m-chen", kind: .member, name: "陈静"),
    ]

    static let credits = [
        // 南华西街: one on the last day of October, one on the first of November.
        ClueCredit(code: "s-nhx", studio: "s-nhx", receivedOn: date("2026-10-31")),
        ClueCredit(code: "s-nhx", studio: "s-nhx", receivedOn: date("2026-11-01")),
        // 滨江街: two of its own in November, and one its member 李明 took in for it.
        ClueCredit(code: "s-bj", studio: "s-bj", receivedOn: date("2026-11-03")),
        ClueCredit(code: "s-bj", studio: "s-bj", receivedOn: date("2026-11-15")),
        ClueCredit(code: "m-li", studio: "s-bj", receivedOn: date("2026-11-30")),
        // 李明: one in the previous year, January (before he joined 滨江街's studio), December.
        ClueCredit(code: "m-li", receivedOn: date("2025-12-31")),
        ClueCredit(code: "m-li", receivedOn: date("2026-01-15")),
        ClueCredit(code: "m-li", studio: "s-bj", receivedOn: date("2026-12-01")),
        // 王芳: one in June, taken in when she was with 昌岗街's studio (she moved since).
        ClueCredit(code: "m-wang", studio: "s-cg", receivedOn: date("2026-06-01")),
        // Credited to entries that owe nothing now: a closed studio, a code no longer registered.
        ClueCredit(code: "s-old", studio: "s-old", receivedOn: date("2026-11-20")),
        ClueCredit(code: "gone", receivedOn: date("2026-11-20")),
    ]

    @Test func studiosCountByMonthWithTheirMembersAndMembersByYearToDate() {
        let november = QuotaCounter.standings(credits: Self.credits, register: Self.register, month: (2026, 11), rule: QuotaRule())
        #expect(
            november == [
                QuotaStanding(code: "s-cg", name: "昌岗街委员工作室", kind: .studio, period: "2026-11", count: 0, required: 2, shortfall: 2),
                QuotaStanding(code: "m-chen", name: "陈静", kind: .member, period: "2026", count: 0, required: 2, shortfall: 2),
                QuotaStanding(code: "s-nhx", name: "南华西街委员工作室", kind: .studio, period: "2026-11", count: 1, required: 2, shortfall: 1),
                QuotaStanding(code: "m-wang", name: "王芳", kind: .member, period: "2026", count: 1, required: 2, shortfall: 1),
                // 李明: 01-15 and 11-30; not 2025-12-31, not 12-01 (after November).
                QuotaStanding(code: "m-li", name: "李明", kind: .member, period: "2026", count: 2, required: 2, shortfall: 0),
                // Two of its own and 李明's for it.
                QuotaStanding(code: "s-bj", name: "滨江街委员工作室", kind: .studio, period: "2026-11", count: 3, required: 2, shortfall: 0),
            ], "the closed studio and the unregistered code owe nothing and are not listed")

        let june = QuotaCounter.standings(credits: Self.credits, register: Self.register, month: (2026, 6), rule: QuotaRule())
        // 王芳's June clue stays with the studio she collected it for, not the one she is in now.
        #expect(june.first { $0.code == "s-cg" }?.count == 1)
        #expect(june.first { $0.code == "s-nhx" }?.count == 0)

        let october = QuotaCounter.standings(credits: Self.credits, register: Self.register, month: (2026, 10), rule: QuotaRule())
        #expect(october.first { $0.code == "s-nhx" }?.count == 1, "10-31 counts in October, 11-01 in November")
        #expect(october.first { $0.code == "s-nhx" }?.period == "2026-10")
        #expect(
            QuotaCounter.standings(credits: Self.credits, register: Self.register, month: (2026, 12), rule: QuotaRule())
                .first { $0.code == "m-li" }?.count == 3)
        #expect(
            QuotaCounter.standings(credits: Self.credits, register: Self.register, month: (2026, 1), rule: QuotaRule())
                .first { $0.code == "m-li" }?.count == 1)
    }

    @Test func everyActiveEntryIsListedOnceAndAnEmptyRegisterOwesNothing() {
        let standings = QuotaCounter.standings(credits: [], register: Self.register, month: (2026, 11), rule: QuotaRule())
        #expect(standings.map(\.code).sorted() == ["m-chen", "m-li", "m-wang", "s-bj", "s-cg", "s-nhx"])
        #expect(standings.allSatisfy { $0.count == 0 && $0.shortfall == 2 })
        #expect(QuotaCounter.standings(credits: Self.credits, register: [], month: (2026, 11), rule: QuotaRule()).isEmpty)
    }

    @Test func behindListsOnlyThoseShortUnderTheDistrictsRule() {
        let behind = QuotaCounter.behind(credits: Self.credits, register: Self.register, month: (2026, 11), rule: QuotaRule())
        #expect(behind.map(\.code) == ["s-cg", "m-chen", "s-nhx", "m-wang"])
        #expect(behind.map(\.shortfall) == [2, 2, 1, 1])
        let other = QuotaCounter.behind(
            credits: Self.credits, register: Self.register, month: (2026, 11),
            rule: QuotaRule(studioCluesPerMonth: 3, memberCluesPerYear: 1))
        #expect(other.map(\.code) == ["s-cg", "s-nhx", "m-chen"])
        #expect(other.map(\.shortfall) == [3, 2, 1])
    }
}
