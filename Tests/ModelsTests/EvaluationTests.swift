import Foundation
import Models
import Testing

private func date(_ text: String) -> LocalDate { LocalDate(text)! }

private func uuid(_ number: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", number))! }

private struct Office: Sendable {
    let id: UUID
    let name: String
}

private let housing = Office(id: uuid(1), name: "住房建设局")
private let transport = Office(id: uuid(2), name: "交通运输局")
private let health = Office(id: uuid(3), name: "卫生健康局")

private let allMeetings = Set(MeetingStage.allCases)
private let year2026 = date("2026-01-01")...date("2026-12-31")
private let standardWeights = EvaluationWeights()

/// Assignment `number` (id 200 + number) of proposal `proposal` (id 100 + proposal).
private func fact(
    _ number: Int, proposal: Int, caseNumber: String, _ unit: Office, _ role: Assignment.Role,
    assigned: String, deadline: String, replied: String? = nil, opinionDue: String? = nil, opinionGiven: String? = nil,
    meetings: Set<MeetingStage> = [], satisfaction: Satisfaction? = nil, rehandlings: Int = 0, extensions: Int = 0,
    category: ReplyCategory? = nil, isKey: Bool = false, followUp: FollowUpResult? = nil
) -> AssignmentRecordFacts {
    AssignmentRecordFacts(
        assignmentID: uuid(200 + number), proposalID: uuid(100 + proposal), caseNumber: caseNumber,
        unitID: unit.id, unitName: unit.name, role: role, assignedOn: date(assigned), deadline: date(deadline),
        repliedOn: replied.map(date), opinionGivenOn: opinionGiven.map(date), opinionDueOn: opinionDue.map(date),
        meetings: meetings, satisfaction: satisfaction, rehandlings: rehandlings, extensions: extensions,
        replyCategory: category, isKey: isKey, followUp: followUp)
}

/// Ten assignments of seven proposals to three units, nine of them made in 2026.
private let facts: [AssignmentRecordFacts] = [
    // P1 (key): housing leads, replies 03-30 by 04-02 after all three meetings, satisfied, A.
    fact(
        1, proposal: 1, caseNumber: "HZ-14-2026-0001", housing, .lead, assigned: "2026-03-02", deadline: "2026-04-02",
        replied: "2026-03-30", meetings: allMeetings, satisfaction: .satisfied, category: .solvedOrAdopted, isKey: true),
    // ... health is co-unit: opinion 03-13, due 03-16 (on time), satisfied.
    fact(
        2, proposal: 1, caseNumber: "HZ-14-2026-0001", health, .coHandling, assigned: "2026-03-02", deadline: "2026-04-02",
        opinionDue: "2026-03-16", opinionGiven: "2026-03-13", satisfaction: .satisfied, isKey: true),
    // P2: housing leads; one extension moved the deadline from 06-08 to 07-06, yet it replies 07-10
    // (late), with no meeting during handling; basically satisfied, B.
    fact(
        3, proposal: 2, caseNumber: "HZ-14-2026-0002", housing, .lead, assigned: "2026-05-06", deadline: "2026-07-06",
        replied: "2026-07-10", meetings: [.before, .after], satisfaction: .basicallySatisfied, extensions: 1,
        category: .inProgressOrPlanned),
    // ... health is co-unit: opinion 05-25, due 05-20 (late), not evaluated.
    fact(
        4, proposal: 2, caseNumber: "HZ-14-2026-0002", health, .coHandling, assigned: "2026-05-06", deadline: "2026-07-06",
        opinionDue: "2026-05-20", opinionGiven: "2026-05-25"),
    // P3: transport leads, replies 06-29 by 07-01 after all three meetings; re-handled once, now
    // basically satisfied, A.
    fact(
        5, proposal: 3, caseNumber: "HZ-14-2026-0003", transport, .lead, assigned: "2026-06-01", deadline: "2026-07-01",
        replied: "2026-06-29", meetings: allMeetings, satisfaction: .basicallySatisfied, rehandlings: 1,
        category: .solvedOrAdopted),
    // P4: health leads, replies on the deadline day 10-09 (on time) after only the first meeting; dissatisfied, C.
    fact(
        6, proposal: 4, caseNumber: "HZ-14-2026-0004", health, .lead, assigned: "2026-09-01", deadline: "2026-10-09",
        replied: "2026-10-09", meetings: [.before], satisfaction: .dissatisfied, category: .keptForReference),
    // P5: transport leads, deadline 12-30, no reply (overdue by the year's end).
    fact(
        7, proposal: 5, caseNumber: "HZ-14-2026-0005", transport, .lead, assigned: "2026-11-30", deadline: "2026-12-30",
        meetings: [.before]),
    // ... housing is co-unit: opinion due 12-14, never given.
    fact(
        8, proposal: 5, caseNumber: "HZ-14-2026-0005", housing, .coHandling, assigned: "2026-11-30", deadline: "2026-12-30",
        opinionDue: "2026-12-14"),
    // P6, assigned in 2025: health leads, replies 2025-12-30 after the deadline 2025-12-22; satisfied, B.
    fact(
        9, proposal: 6, caseNumber: "HZ-14-2025-0031", health, .lead, assigned: "2025-11-20", deadline: "2025-12-22",
        replied: "2025-12-30", meetings: allMeetings, satisfaction: .satisfied, category: .inProgressOrPlanned),
    // P7: health leads, deadline 2027-01-11, no reply yet (not due in 2026).
    fact(
        10, proposal: 7, caseNumber: "HZ-14-2026-0006", health, .lead, assigned: "2026-12-10", deadline: "2027-01-11",
        meetings: [.before]),
]

/// Every figure of an evaluation, so that one comparison shows all differences.
private struct Figures: Equatable {
    var assignments, leadAssignments, repliesDue, onTimeReplies: Int
    var onTimeReplyRate: Double?
    var repliedLeadAssignments, threeMeetingsComplete: Int
    var threeMeetingRate: Double?
    var coUnitAssignments, opinionsDue, opinionsOnTime: Int
    var coUnitOpinionRate: Double?
    var evaluatedAssignments, satisfiedAssignments: Int
    var satisfactionRate: Double?
    var rehandlings, extensions: Int
    var score: Double
    var rank: Int
}

extension Figures {
    init(_ evaluation: UnitEvaluation) {
        self.init(
            assignments: evaluation.assignments, leadAssignments: evaluation.leadAssignments,
            repliesDue: evaluation.repliesDue, onTimeReplies: evaluation.onTimeReplies,
            onTimeReplyRate: evaluation.onTimeReplyRate, repliedLeadAssignments: evaluation.repliedLeadAssignments,
            threeMeetingsComplete: evaluation.threeMeetingsComplete, threeMeetingRate: evaluation.threeMeetingRate,
            coUnitAssignments: evaluation.coUnitAssignments, opinionsDue: evaluation.opinionsDue,
            opinionsOnTime: evaluation.opinionsOnTime, coUnitOpinionRate: evaluation.coUnitOpinionRate,
            evaluatedAssignments: evaluation.evaluatedAssignments, satisfiedAssignments: evaluation.satisfiedAssignments,
            satisfactionRate: evaluation.satisfactionRate, rehandlings: evaluation.rehandlings,
            extensions: evaluation.extensions, score: evaluation.score, rank: evaluation.rank)
    }
}

private func byUnit(_ evaluations: [UnitEvaluation]) -> [UUID: UnitEvaluation] {
    Dictionary(evaluations.map { ($0.unitID, $0) }, uniquingKeysWith: { first, _ in first })
}

/// SplitMix64, so that "shuffled" is the same shuffle on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct EvaluationTests {
    // MARK: The year, by hand

    /// Default weights: on-time 30, meetings 20, co-unit opinions 10, satisfaction 40; 2 points
    /// off per re-handling, 1 per extension. Assignment 9 (2025) is outside the period.
    @Test func evaluatesTheYearByHand() throws {
        let result = UnitEvaluator.evaluate(facts, period: year2026, weights: standardWeights)
        #expect(result.map(\.unitName) == ["交通运输局", "住房建设局", "卫生健康局"])
        #expect(result.map(\.score) == [81.33, 64, 55])
        #expect(result.map(\.rank) == [1, 2, 3])
        let units = byUnit(result)

        // Transport: assignments 5 and 7, both lead.
        // Replies due: 5 (replied) and 7 (deadline 12-30 is within the year) = 2; on time: 5 → 1/2.
        // Meetings: of the replied lead assignments (5), 5 had all three → 1/1.
        // Co-unit opinions: none → nil, its weight 10 left out.
        // Satisfaction: 5 basically satisfied, 7 not evaluated → 1/1.
        // Score: (0.5 × 30 + 1 × 20 + 1 × 40) = 75 of the remaining 90 → 75 × 100 / 90 = 83.333…,
        // less 2 for one re-handling = 81.333… → 81.33.
        let transportEvaluation = try #require(units[transport.id])
        #expect(
            Figures(transportEvaluation)
                == Figures(
                    assignments: 2, leadAssignments: 2, repliesDue: 2, onTimeReplies: 1, onTimeReplyRate: 0.5,
                    repliedLeadAssignments: 1, threeMeetingsComplete: 1, threeMeetingRate: 1,
                    coUnitAssignments: 0, opinionsDue: 0, opinionsOnTime: 0, coUnitOpinionRate: nil,
                    evaluatedAssignments: 1, satisfiedAssignments: 1, satisfactionRate: 1,
                    rehandlings: 1, extensions: 0, score: 81.33, rank: 1))

        // Housing: assignments 1 and 3 (lead), 8 (co-unit).
        // Replies due: 1 and 3 (both replied) = 2; on time: 1 (03-30 ≤ 04-02), not 3 (07-10 > 07-06) → 1/2.
        // Meetings: replied lead assignments 1 and 3; only 1 had all three (3 missed "during") → 1/2.
        // Co-unit opinions: 8 was due 12-14, within the year, and never given → 0/1.
        // Satisfaction: 1 satisfied, 3 basically satisfied, 8 not evaluated → 2/2.
        // Score: 0.5 × 30 + 0.5 × 20 + 0 × 10 + 1 × 40 = 65, less 1 for one extension = 64.
        let housingEvaluation = try #require(units[housing.id])
        #expect(
            Figures(housingEvaluation)
                == Figures(
                    assignments: 3, leadAssignments: 2, repliesDue: 2, onTimeReplies: 1, onTimeReplyRate: 0.5,
                    repliedLeadAssignments: 2, threeMeetingsComplete: 1, threeMeetingRate: 0.5,
                    coUnitAssignments: 1, opinionsDue: 1, opinionsOnTime: 0, coUnitOpinionRate: 0,
                    evaluatedAssignments: 2, satisfiedAssignments: 2, satisfactionRate: 1,
                    rehandlings: 0, extensions: 1, score: 64, rank: 2))

        // Health: assignments 2 and 4 (co-unit), 6 and 10 (lead); 9 was assigned in 2025.
        // Replies due: 6 (replied); 10's deadline 2027-01-11 is after the year and it is unreplied → 1;
        // on time: 6, replied on its deadline day → 1/1.
        // Meetings: replied lead assignment 6 had only "before" → 0/1.
        // Co-unit opinions: 2 (03-13 ≤ 03-16) on time, 4 (05-25 > 05-20) late → 1/2.
        // Satisfaction: 2 satisfied, 6 dissatisfied, 4 and 10 not evaluated → 1/2.
        // Score: 1 × 30 + 0 × 20 + 0.5 × 10 + 0.5 × 40 = 30 + 0 + 5 + 20 = 55.
        let healthEvaluation = try #require(units[health.id])
        #expect(
            Figures(healthEvaluation)
                == Figures(
                    assignments: 4, leadAssignments: 2, repliesDue: 1, onTimeReplies: 1, onTimeReplyRate: 1,
                    repliedLeadAssignments: 1, threeMeetingsComplete: 0, threeMeetingRate: 0,
                    coUnitAssignments: 2, opinionsDue: 2, opinionsOnTime: 1, coUnitOpinionRate: 0.5,
                    evaluatedAssignments: 2, satisfiedAssignments: 1, satisfactionRate: 0.5,
                    rehandlings: 0, extensions: 0, score: 55, rank: 3))
    }

    // MARK: Periods

    @Test func aLongerPeriodTakesInLastYearsAssignment() throws {
        let result = UnitEvaluator.evaluate(facts, period: date("2025-01-01")...date("2026-12-31"), weights: standardWeights)
        #expect(result.map(\.unitName) == ["交通运输局", "住房建设局", "卫生健康局"])
        // Transport and housing have nothing in 2025: unchanged.
        #expect(result.map(\.score) == [81.33, 64, 56.67])
        // Health gains assignment 9 (replied late, all three meetings, satisfied):
        // replies due 6 and 9 = 2, on time 6 only → 1/2; meetings: 9 complete, 6 not → 1/2;
        // co-unit opinions unchanged 1/2; satisfaction 2 and 9 satisfied, 6 not → 2/3.
        // Score: 0.5 × 30 + 0.5 × 20 + 0.5 × 10 + 2/3 × 40 = 15 + 10 + 5 + 26.667 = 56.667 → 56.67.
        let healthEvaluation = try #require(byUnit(result)[health.id])
        #expect(
            Figures(healthEvaluation)
                == Figures(
                    assignments: 5, leadAssignments: 3, repliesDue: 2, onTimeReplies: 1, onTimeReplyRate: 0.5,
                    repliedLeadAssignments: 2, threeMeetingsComplete: 1, threeMeetingRate: 0.5,
                    coUnitAssignments: 2, opinionsDue: 2, opinionsOnTime: 1, coUnitOpinionRate: 0.5,
                    evaluatedAssignments: 3, satisfiedAssignments: 2, satisfactionRate: 2.0 / 3.0,
                    rehandlings: 0, extensions: 0, score: 56.67, rank: 3))
    }

    /// January to June: assignments 1 to 5 only.
    @Test func theFirstHalfYearCountsOnlyItsAssignments() throws {
        let result = UnitEvaluator.evaluate(facts, period: date("2026-01-01")...date("2026-06-30"), weights: standardWeights)
        #expect(result.map(\.unitName) == ["交通运输局", "卫生健康局", "住房建设局"])
        #expect(result.map(\.score) == [98, 90, 71.22])
        #expect(result.map(\.rank) == [1, 2, 3])
        let units = byUnit(result)

        // Transport: assignment 5 only: every rate 1, co-unit nil → 90 of 90 → 100, less 2 = 98.
        let transportEvaluation = try #require(units[transport.id])
        #expect(
            Figures(transportEvaluation)
                == Figures(
                    assignments: 1, leadAssignments: 1, repliesDue: 1, onTimeReplies: 1, onTimeReplyRate: 1,
                    repliedLeadAssignments: 1, threeMeetingsComplete: 1, threeMeetingRate: 1,
                    coUnitAssignments: 0, opinionsDue: 0, opinionsOnTime: 0, coUnitOpinionRate: nil,
                    evaluatedAssignments: 1, satisfiedAssignments: 1, satisfactionRate: 1,
                    rehandlings: 1, extensions: 0, score: 98, rank: 1))

        // Health: co-unit work only (2 on time, 4 late) → opinions 1/2; satisfaction 2 satisfied,
        // 4 unevaluated → 1/1; no lead work, so on-time and meetings are nil and only 10 + 40 = 50
        // weigh: (0.5 × 10 + 1 × 40) × 100 / 50 = 45 × 2 = 90.
        let healthEvaluation = try #require(units[health.id])
        #expect(
            Figures(healthEvaluation)
                == Figures(
                    assignments: 2, leadAssignments: 0, repliesDue: 0, onTimeReplies: 0, onTimeReplyRate: nil,
                    repliedLeadAssignments: 0, threeMeetingsComplete: 0, threeMeetingRate: nil,
                    coUnitAssignments: 2, opinionsDue: 2, opinionsOnTime: 1, coUnitOpinionRate: 0.5,
                    evaluatedAssignments: 1, satisfiedAssignments: 1, satisfactionRate: 1,
                    rehandlings: 0, extensions: 0, score: 90, rank: 2))

        // Housing: assignments 1 and 3. Assignment 3's deadline 07-06 is after the period, but it is
        // replied, so it is due (and late) → 1/2; meetings 1/2; no co-unit work (8 is in November);
        // satisfaction 2/2. (0.5 × 30 + 0.5 × 20 + 1 × 40) × 100 / 90 = 65 × 100 / 90 = 72.222…,
        // less 1 for the extension = 71.222… → 71.22.
        let housingEvaluation = try #require(units[housing.id])
        #expect(
            Figures(housingEvaluation)
                == Figures(
                    assignments: 2, leadAssignments: 2, repliesDue: 2, onTimeReplies: 1, onTimeReplyRate: 0.5,
                    repliedLeadAssignments: 2, threeMeetingsComplete: 1, threeMeetingRate: 0.5,
                    coUnitAssignments: 0, opinionsDue: 0, opinionsOnTime: 0, coUnitOpinionRate: nil,
                    evaluatedAssignments: 2, satisfiedAssignments: 2, satisfactionRate: 1,
                    rehandlings: 0, extensions: 1, score: 71.22, rank: 3))
    }

    /// Up to 12-13: assignment 8's opinion (due 12-14) and 7's reply (due 12-30) are not due yet.
    @Test func whatIsNotDueByThePeriodsEndIsNotCounted() throws {
        let units = byUnit(UnitEvaluator.evaluate(facts, period: date("2026-01-01")...date("2026-12-13"), weights: standardWeights))
        let housingFigures = try Figures(#require(units[housing.id]))
        #expect(housingFigures.coUnitAssignments == 1)
        #expect(housingFigures.opinionsDue == 0)
        #expect(housingFigures.coUnitOpinionRate == nil)
        // 65 × 100 / 90 − 1 = 71.22, as in the first half year.
        #expect(housingFigures.score == 71.22)
        let transportFigures = try Figures(#require(units[transport.id]))
        #expect(transportFigures.leadAssignments == 2)
        #expect(transportFigures.repliesDue == 1)
        #expect(transportFigures.onTimeReplyRate == 1)
        #expect(transportFigures.score == 98)
        // Health now includes assignment 10 (12-10), not due: the same figures as for the year.
        #expect(units[health.id]?.assignments == 4)
        #expect(units[health.id]?.score == 55)
    }

    @Test func nothingAssignedInThePeriodGivesNoEvaluations() {
        #expect(UnitEvaluator.evaluate(facts, period: date("2027-01-01")...date("2027-12-31"), weights: standardWeights).isEmpty)
        #expect(UnitEvaluator.evaluate([], period: year2026, weights: standardWeights).isEmpty)
    }

    // MARK: Reproducibility

    @Test func theSameFactsInAnyOrderGiveTheSameEvaluations() throws {
        let expected = UnitEvaluator.evaluate(facts, period: year2026, weights: standardWeights)
        let expectedJSON = try UnitEvaluator.json(expected)
        var generator = SeededGenerator(state: 2026)
        var orders = [Array(facts.reversed())]
        for _ in 0..<20 { orders.append(facts.shuffled(using: &generator)) }
        for order in orders {
            let result = UnitEvaluator.evaluate(order, period: year2026, weights: standardWeights)
            #expect(result == expected)
            #expect(try UnitEvaluator.json(result) == expectedJSON)
            #expect(UnitEvaluator.csv(result) == UnitEvaluator.csv(expected))
        }
    }

    @Test func aRenamedUnitIsShownByItsLatestName() {
        let civil = Office(id: uuid(4), name: "民政局")
        let renamed = Office(id: uuid(4), name: "区民政局")
        let two = [
            fact(51, proposal: 51, caseNumber: "HZ-14-2026-0051", civil, .lead, assigned: "2026-02-02", deadline: "2026-03-02"),
            fact(52, proposal: 52, caseNumber: "HZ-14-2026-0052", renamed, .lead, assigned: "2026-03-02", deadline: "2026-04-02"),
        ]
        for order in [two, Array(two.reversed())] {
            let result = UnitEvaluator.evaluate(order, period: year2026, weights: standardWeights)
            #expect(result.map(\.unitName) == ["区民政局"])
            #expect(result.map(\.assignments) == [2])
        }
    }

    // MARK: Missing rates, ties, floors

    @Test func missingRatesAreLeftOutAndTheOtherWeightsScaledUp() throws {
        let civil = Office(id: uuid(4), name: "民政局")
        let education = Office(id: uuid(5), name: "教育局")
        let finance = Office(id: uuid(6), name: "财政局")
        let urban = Office(id: uuid(7), name: "城管局")
        let units = [
            // Civil affairs, lead work only: on time 1, meetings 0 (no "after"), satisfied 1, no
            // co-unit rate → (30 + 0 + 40) × 100 / 90 = 77.777… → 77.78. (Counted as 0 the missing
            // rate would give 70, as full marks 80.)
            fact(
                61, proposal: 61, caseNumber: "HZ-14-2026-0061", civil, .lead, assigned: "2026-04-01", deadline: "2026-05-06",
                replied: "2026-04-28", meetings: [.before, .during], satisfaction: .satisfied, category: .solvedOrAdopted),
            // Education, co-unit work only: opinion late (04-20 > 04-15) → 0, satisfied → 1;
            // (0 × 10 + 1 × 40) × 100 / 50 = 80.
            fact(
                62, proposal: 61, caseNumber: "HZ-14-2026-0061", education, .coHandling, assigned: "2026-04-01",
                deadline: "2026-05-06", opinionDue: "2026-04-15", opinionGiven: "2026-04-20", satisfaction: .satisfied),
            // Finance: one lead assignment, not yet due, not evaluated: nothing to measure → 0.
            fact(63, proposal: 63, caseNumber: "HZ-14-2026-0063", finance, .lead, assigned: "2026-12-20", deadline: "2027-01-20"),
            // Urban management: every rate 0, and 3 × 2 + 2 × 1 = 8 points of penalties: floored at 0.
            fact(
                64, proposal: 64, caseNumber: "HZ-14-2026-0064", urban, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-03-20", satisfaction: .dissatisfied, rehandlings: 3, extensions: 2, category: .keptForReference),
        ]
        let result = UnitEvaluator.evaluate(units, period: year2026, weights: standardWeights)
        // 城 (U+57CE) sorts before 财 (U+8D22); both share rank 3.
        #expect(result.map(\.unitName) == ["教育局", "民政局", "城管局", "财政局"])
        #expect(result.map(\.score) == [80, 77.78, 0, 0])
        #expect(result.map(\.rank) == [1, 2, 3, 3])
        let byID = byUnit(result)
        let civilEvaluation = try #require(byID[civil.id])
        #expect(civilEvaluation.onTimeReplyRate == 1)
        #expect(civilEvaluation.threeMeetingRate == 0)
        #expect(civilEvaluation.coUnitOpinionRate == nil)
        #expect(civilEvaluation.satisfactionRate == 1)
        let financeEvaluation = try #require(byID[finance.id])
        #expect(financeEvaluation.repliesDue == 0)
        #expect(financeEvaluation.onTimeReplyRate == nil)
        #expect(financeEvaluation.threeMeetingRate == nil)
        #expect(financeEvaluation.coUnitOpinionRate == nil)
        #expect(financeEvaluation.satisfactionRate == nil)
        #expect(byID[urban.id]?.rehandlings == 3)
        #expect(byID[urban.id]?.extensions == 2)
    }

    @Test func followUpReviewsThatFoundThePromiseUnkeptCostPoints() throws {
        let civil = Office(id: uuid(8), name: "民政局")
        // Three B replies, on time, all meetings, satisfied: 100 before the follow-ups.
        func promise(_ number: Int, _ result: FollowUpResult?) -> AssignmentRecordFacts {
            fact(
                80 + number, proposal: 80 + number, caseNumber: String(format: "HZ-14-2026-%04d", 80 + number), civil, .lead,
                assigned: "2026-03-02", deadline: "2026-04-02", replied: "2026-03-30", meetings: allMeetings, satisfaction: .satisfied,
                category: .inProgressOrPlanned, followUp: result)
        }
        // Not done: 2 points; partly: 1; done and not yet reviewed: none → 97.
        let units = [promise(1, .notDone), promise(2, .partly), promise(3, .done), promise(4, nil)]
        let evaluation = try #require(UnitEvaluator.evaluate(units, period: year2026, weights: standardWeights).first)
        #expect(evaluation.score == 97)
        #expect(evaluation.followUpsRecorded == 3)
        #expect([evaluation.followUpsDone, evaluation.followUpsPartly, evaluation.followUpsNotDone] == [Int](repeating: 1, count: 3))
        var lenient = standardWeights
        lenient.unkeptPromisePenalty = 0
        #expect(UnitEvaluator.evaluate(units, period: year2026, weights: lenient).first?.score == 100)
        let rows = UnitEvaluator.csv([evaluation]).components(separatedBy: "\r\n")
        #expect(rows[1] == "民政局,4,4,100.0,100.0,,100.0,0,0,1,1,97.00,1")
    }

    @Test func equalScoresShareARankAndSortByName() {
        // Weights 25 each, no penalties:
        // transport (0.5 × 25 + 1 × 25 + 1 × 25) × 100 / 75 = 62.5 × 100 / 75 = 83.333… → 83.33;
        // housing 0.5 × 25 + 0.5 × 25 + 0 × 25 + 1 × 25 = 50; health 1 × 25 + 0 + 0.5 × 25 + 0.5 × 25 = 50.
        let weights = EvaluationWeights(
            onTimeReply: 25, threeMeetings: 25, coUnitOpinions: 25, satisfaction: 25, rehandlingPenalty: 0, extensionPenalty: 0)
        #expect(weights.problems.isEmpty)
        let result = UnitEvaluator.evaluate(facts, period: year2026, weights: weights)
        // 住 (U+4F4F) sorts before 卫 (U+536B).
        #expect(result.map(\.unitName) == ["交通运输局", "住房建设局", "卫生健康局"])
        #expect(result.map(\.score) == [83.33, 50, 50])
        #expect(result.map(\.rank) == [1, 2, 2])
    }

    // MARK: Weights

    @Test func weightsProblemsNameTheirFields() {
        #expect(EvaluationWeights().problems.isEmpty)
        // −10 + 20 + 10 + 40 = 60: a negative weight, a negative penalty and the wrong total.
        let negative = EvaluationWeights(onTimeReply: -10, rehandlingPenalty: -1)
        #expect(negative.problems.map { $0.field } == ["onTimeReply", "rehandlingPenalty", "weights"])
        // 100.0005 is within the tolerance of 0.001; 100.002 is not.
        #expect(EvaluationWeights(onTimeReply: 30.0005).problems.isEmpty)
        #expect(EvaluationWeights(onTimeReply: 30.002).problems.map { $0.field } == ["weights"])
        #expect(EvaluationWeights(satisfaction: 50).problems.map { $0.field } == ["weights"])
        // Not a number: one problem, no total to speak of.
        #expect(EvaluationWeights(threeMeetings: .nan).problems.map { $0.field } == ["threeMeetings"])
        #expect(EvaluationWeights(extensionPenalty: .infinity).problems.map { $0.field } == ["extensionPenalty"])
    }

    @Test func weightsDecodeWithDefaultsForMissingKeys() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode(EvaluationWeights.self, from: Data("{}".utf8)) == EvaluationWeights())
        let partial = try decoder.decode(EvaluationWeights.self, from: Data(#"{"onTimeReply":20,"satisfaction":50}"#.utf8))
        #expect(
            partial
                == EvaluationWeights(
                    onTimeReply: 20, threeMeetings: 20, coUnitOpinions: 10, satisfaction: 50,
                    rehandlingPenalty: 2, extensionPenalty: 1))
        #expect(partial.problems.isEmpty)  // 20 + 20 + 10 + 50 = 100
        let custom = EvaluationWeights(
            onTimeReply: 35, threeMeetings: 15, coUnitOpinions: 10, satisfaction: 40,
            rehandlingPenalty: 3, extensionPenalty: 0.5)
        #expect(try decoder.decode(EvaluationWeights.self, from: JSONEncoder().encode(custom)) == custom)
        #expect(throws: DecodingError.self) {
            _ = try decoder.decode(EvaluationWeights.self, from: Data(#"{"onTimeReply":"thirty"}"#.utf8))
        }
    }

    // MARK: Export

    @Test func csvExactText() {
        let comma = Office(id: uuid(11), name: "城管局,执法局")
        let formula = Office(id: uuid(12), name: #"=HYPERLINK("http://x")"#)
        let thirds = Office(id: uuid(13), name: "卫生健康局")
        let small = [
            // Comma unit: on time, all meetings, satisfied; no co-unit work → 90 of 90 = 100.
            fact(
                71, proposal: 71, caseNumber: "HZ-14-2026-0071", comma, .lead, assigned: "2026-03-02", deadline: "2026-04-02",
                replied: "2026-03-20", meetings: allMeetings, satisfaction: .satisfied, category: .solvedOrAdopted),
            // Formula unit: lead reply late (04-03 > 04-02) → 0; meetings before and during only → 0;
            // extended once.
            fact(
                72, proposal: 72, caseNumber: "HZ-14-2026-0072", formula, .lead, assigned: "2026-03-02", deadline: "2026-04-02",
                replied: "2026-04-03", meetings: [.before, .during], satisfaction: .basicallySatisfied, extensions: 1,
                category: .inProgressOrPlanned),
            // ... and co-unit opinion on its due day → 1; satisfaction 1/1.
            // 0 × 30 + 0 × 20 + 1 × 10 + 1 × 40 = 50, less 1 = 49.
            fact(
                73, proposal: 71, caseNumber: "HZ-14-2026-0071", formula, .coHandling, assigned: "2026-03-02",
                deadline: "2026-04-02", opinionDue: "2026-03-16", opinionGiven: "2026-03-16"),
            // Thirds unit: three replies, two on time (04-30, 05-06 ≤ 05-06) and one late (05-07) → 2/3
            // = 66.7 %; all meetings → 100 %; satisfied, satisfied, dissatisfied → 2/3.
            // (2/3 × 30 + 1 × 20 + 2/3 × 40) × 100 / 90 = 66.667 × 100 / 90 = 74.074… → 74.07.
            fact(
                74, proposal: 74, caseNumber: "HZ-14-2026-0074", thirds, .lead, assigned: "2026-04-01", deadline: "2026-05-06",
                replied: "2026-04-30", meetings: allMeetings, satisfaction: .satisfied),
            fact(
                75, proposal: 75, caseNumber: "HZ-14-2026-0075", thirds, .lead, assigned: "2026-04-01", deadline: "2026-05-06",
                replied: "2026-05-06", meetings: allMeetings, satisfaction: .satisfied),
            fact(
                76, proposal: 76, caseNumber: "HZ-14-2026-0076", thirds, .lead, assigned: "2026-04-01", deadline: "2026-05-06",
                replied: "2026-05-07", meetings: allMeetings, satisfaction: .dissatisfied),
        ]
        let result = UnitEvaluator.evaluate(small, period: year2026, weights: standardWeights)
        let expected = [
            "单位,交办件数,主办件数,按时答复率,三见面率,会办意见率,满意率,重新办理次数,延期次数,回头看未落实,回头看部分落实,得分,名次",
            #""城管局,执法局",1,1,100.0,100.0,,100.0,0,0,0,0,100.00,1"#,
            "卫生健康局,3,3,66.7,100.0,,66.7,0,0,0,0,74.07,2",
            #""'=HYPERLINK(""http://x"")",2,1,0.0,0.0,100.0,100.0,0,1,0,0,49.00,3"#,
        ].map { $0 + "\r\n" }.joined()
        #expect(UnitEvaluator.csv(result) == expected)
        #expect(UnitEvaluator.csv([]) == "单位,交办件数,主办件数,按时答复率,三见面率,会办意见率,满意率,重新办理次数,延期次数,回头看未落实,回头看部分落实,得分,名次\r\n")
    }

    @Test func csvFieldsAreQuotedAndDefused() {
        #expect(UnitEvaluator.csvField("住房建设局") == "住房建设局")
        #expect(UnitEvaluator.csvField("") == "")
        #expect(UnitEvaluator.csvField("a,b") == #""a,b""#)
        #expect(UnitEvaluator.csvField(#"说"好""#) == #""说""好""""#)
        #expect(UnitEvaluator.csvField("第一行\n第二行") == "\"第一行\n第二行\"")
        #expect(UnitEvaluator.csvField("a\r\nb") == "\"a\r\nb\"")
        #expect(UnitEvaluator.csvField("a\rb") == "\"a\rb\"")
        #expect(UnitEvaluator.csvField("=1+1") == "'=1+1")
        #expect(UnitEvaluator.csvField("+8620") == "'+8620")
        #expect(UnitEvaluator.csvField("-1") == "'-1")
        #expect(UnitEvaluator.csvField("@SUM(A1)") == "'@SUM(A1)")
        #expect(UnitEvaluator.csvField("\tx") == "'\tx")
        #expect(UnitEvaluator.csvField("=1,2") == #""'=1,2""#)
        #expect(UnitEvaluator.csvField("a=b") == "a=b")  // only a leading sign matters
    }

    @Test func jsonRoundTripsWithSortedKeys() throws {
        let result = UnitEvaluator.evaluate(facts, period: year2026, weights: standardWeights)
        let data = try UnitEvaluator.json(result)
        #expect(try JSONDecoder().decode([UnitEvaluation].self, from: data) == result)
        // Transport comes first; its co-unit opinion rate is nil and left out.
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"[{"assignments":2,"coUnitAssignments":0,"evaluatedAssignments":1,"#), "\(text.prefix(120))")
    }

    @Test func factsCodeWithTheMeetingsInStageOrder() throws {
        let original = facts[0]
        let encoded = try JSONEncoder().encode(original)
        #expect(try JSONDecoder().decode(AssignmentRecordFacts.self, from: encoded) == original)
        #expect(String(decoding: encoded, as: UTF8.self).contains(#""meetings":["before","during","after"]"#))
        var partial = original
        partial.meetings = [.after, .before]
        let partialJSON = String(decoding: try JSONEncoder().encode(partial), as: UTF8.self)
        #expect(partialJSON.contains(#""meetings":["before","after"]"#))
    }

    // MARK: Commendations

    @Test func advancedUnitsNeedEnoughAssignmentsAndAHighScore() {
        let year = UnitEvaluator.evaluate(facts, period: year2026, weights: standardWeights)
        // 81.33, 64 and 55: none reaches 90.
        #expect(UnitEvaluator.commendations(year, facts: facts, period: year2026).advancedUnits.isEmpty)
        // Housing (3 assignments, 64) passes a lower bar; transport has only 2 assignments.
        #expect(UnitEvaluator.commendations(year, facts: [], minimumScore: 60).advancedUnits.map(\.unitName) == ["住房建设局"])

        // First half: transport 98 (1 assignment), health 90 (2), housing 71.22 (2).
        let half = UnitEvaluator.evaluate(facts, period: date("2026-01-01")...date("2026-06-30"), weights: standardWeights)
        #expect(UnitEvaluator.commendations(half, facts: []).advancedUnits.isEmpty)
        // A score of exactly 90 is enough.
        #expect(
            UnitEvaluator.commendations(half, facts: [], minimumAssignments: 1).advancedUnits.map(\.unitName)
                == ["交通运输局", "卫生健康局"])
        #expect(
            UnitEvaluator.commendations(half, facts: [], advancedUnits: 1, minimumAssignments: 1).advancedUnits.map(\.unitName)
                == ["交通运输局"])
        #expect(
            UnitEvaluator.commendations(half, facts: [], minimumAssignments: 2).advancedUnits.map(\.unitName)
                == ["卫生健康局"])
        #expect(UnitEvaluator.commendations(half, facts: [], advancedUnits: 0, minimumAssignments: 1).advancedUnits.isEmpty)
        // The order of the evaluations given does not matter.
        #expect(
            UnitEvaluator.commendations(Array(half.reversed()), facts: [], minimumAssignments: 1).advancedUnits.map(\.unitName)
                == ["交通运输局", "卫生健康局"])
    }

    @Test func excellentProposalsOfTheYear() {
        let year = UnitEvaluator.evaluate(facts, period: year2026, weights: standardWeights)
        // Only P1: on time, A, both units satisfied, no re-handling. P3 is A and on time but was
        // re-handled and only basically satisfied; P2 is late, P4 is C, P5 and P7 are unreplied.
        let expected = [
            ExcellentProposal(
                proposalID: uuid(101), caseNumber: "HZ-14-2026-0001", leadUnitName: "住房建设局",
                replyCategory: .solvedOrAdopted, satisfaction: .satisfied, isKey: true)
        ]
        #expect(UnitEvaluator.commendations(year, facts: facts, period: year2026).excellentProposals == expected)
    }

    @Test func excellentProposalsPutKeyProposalsFirstThenCaseNumbers() {
        let candidates = [
            // Q1: housing, on time, A, satisfied.
            fact(
                31, proposal: 31, caseNumber: "HZ-14-2026-0010", housing, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-02-27", satisfaction: .satisfied, category: .solvedOrAdopted),
            // Q2: transport, on time, A, satisfied; its co-unit on time and satisfied too.
            fact(
                32, proposal: 32, caseNumber: "HZ-14-2026-0012", transport, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-02-27", satisfaction: .satisfied, category: .solvedOrAdopted),
            fact(
                33, proposal: 32, caseNumber: "HZ-14-2026-0012", health, .coHandling, assigned: "2026-02-02",
                deadline: "2026-03-02", opinionDue: "2026-02-16", opinionGiven: "2026-02-13", satisfaction: .satisfied),
            // Q3 (key): health, replied on the deadline day, A, satisfied.
            fact(
                34, proposal: 33, caseNumber: "HZ-14-2026-0020", health, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-03-02", satisfaction: .satisfied, category: .solvedOrAdopted, isKey: true),
            // Q4 (key): the co-unit is only basically satisfied → out.
            fact(
                35, proposal: 34, caseNumber: "HZ-14-2026-0008", housing, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-02-27", satisfaction: .satisfied, category: .solvedOrAdopted, isKey: true),
            fact(
                36, proposal: 34, caseNumber: "HZ-14-2026-0008", transport, .coHandling, assigned: "2026-02-02",
                deadline: "2026-03-02", opinionGiven: "2026-02-10", satisfaction: .basicallySatisfied, isKey: true),
            // Q5: the co-unit is not evaluated → out.
            fact(
                37, proposal: 35, caseNumber: "HZ-14-2026-0009", housing, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-02-27", satisfaction: .satisfied, category: .solvedOrAdopted),
            fact(
                38, proposal: 35, caseNumber: "HZ-14-2026-0009", transport, .coHandling, assigned: "2026-02-02",
                deadline: "2026-03-02", opinionGiven: "2026-02-10"),
            // Q6: replied a day late → out.
            fact(
                39, proposal: 36, caseNumber: "HZ-14-2026-0011", housing, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-03-03", satisfaction: .satisfied, category: .solvedOrAdopted),
            // Q7: category B → out.
            fact(
                40, proposal: 37, caseNumber: "HZ-14-2026-0013", housing, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-02-27", satisfaction: .satisfied, category: .inProgressOrPlanned),
            // Q8: satisfied only after a re-handling → out.
            fact(
                41, proposal: 38, caseNumber: "HZ-14-2026-0014", transport, .lead, assigned: "2026-02-02", deadline: "2026-03-02",
                replied: "2026-02-27", satisfaction: .satisfied, rehandlings: 1, category: .solvedOrAdopted),
            // Q9: excellent, but assigned in 2025.
            fact(
                42, proposal: 39, caseNumber: "HZ-14-2025-0040", health, .lead, assigned: "2025-12-01", deadline: "2025-12-31",
                replied: "2025-12-29", satisfaction: .satisfied, category: .solvedOrAdopted),
            // Q10: a co-unit's part without a lead assignment → not a candidate.
            fact(
                43, proposal: 40, caseNumber: "HZ-14-2026-0015", health, .coHandling, assigned: "2026-02-02",
                deadline: "2026-03-02", opinionGiven: "2026-02-10", satisfaction: .satisfied),
            // Q11: not replied yet → out.
            fact(
                44, proposal: 41, caseNumber: "HZ-14-2026-0016", housing, .lead, assigned: "2026-02-02", deadline: "2026-12-02",
                satisfaction: .satisfied, category: .solvedOrAdopted),
        ]
        let q1 = ExcellentProposal(
            proposalID: uuid(131), caseNumber: "HZ-14-2026-0010", leadUnitName: "住房建设局",
            replyCategory: .solvedOrAdopted, satisfaction: .satisfied, isKey: false)
        let q2 = ExcellentProposal(
            proposalID: uuid(132), caseNumber: "HZ-14-2026-0012", leadUnitName: "交通运输局",
            replyCategory: .solvedOrAdopted, satisfaction: .satisfied, isKey: false)
        let q3 = ExcellentProposal(
            proposalID: uuid(133), caseNumber: "HZ-14-2026-0020", leadUnitName: "卫生健康局",
            replyCategory: .solvedOrAdopted, satisfaction: .satisfied, isKey: true)
        let q9 = ExcellentProposal(
            proposalID: uuid(139), caseNumber: "HZ-14-2025-0040", leadUnitName: "卫生健康局",
            replyCategory: .solvedOrAdopted, satisfaction: .satisfied, isKey: false)

        var generator = SeededGenerator(state: 7)
        for order in [candidates, Array(candidates.reversed()), candidates.shuffled(using: &generator)] {
            #expect(UnitEvaluator.commendations([], facts: order, period: year2026).excellentProposals == [q3, q1, q2])
            // Without a period every fact counts: the 2025 case number sorts before the 2026 ones.
            #expect(UnitEvaluator.commendations([], facts: order).excellentProposals == [q3, q9, q1, q2])
        }
    }

    @Test func quotaRuleDecodesWithDefaults() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode(QuotaRule.self, from: Data("{}".utf8)) == QuotaRule())
        #expect(
            try decoder.decode(QuotaRule.self, from: Data(#"{"memberCluesPerYear":4}"#.utf8))
                == QuotaRule(studioCluesPerMonth: 2, memberCluesPerYear: 4))
        #expect(QuotaRule().problems.isEmpty)
        #expect(QuotaRule(studioCluesPerMonth: -1).problems.map { $0.field } == ["studioCluesPerMonth"])
    }
}
