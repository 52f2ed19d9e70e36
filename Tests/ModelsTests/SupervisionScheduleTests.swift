import Foundation
import Testing

@testable import Models

@Suite struct SupervisionScheduleTests {
    let settings = SupervisionSettings()
    let deadline = LocalDate("2026-12-28")!

    func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func remindersBeforeAndEscalationAfterTheDeadlineAtNineInTheMorning() {
        let timers = SupervisionSchedule.timers(deadline: deadline, today: LocalDate("2026-11-26")!, settings: settings)
        #expect(timers.map(\.kind) == [.reminder, .reminder, .escalation, .escalation, .escalation, .escalation])
        #expect(timers.map(\.day.description) == ["2026-12-21", "2026-12-27", "2026-12-29", "2027-01-01", "2027-01-08", "2027-01-18"])
        #expect(timers.map(\.step) == [7, 1, 0, 1, 2, 3], "reminders by days before; escalation by ladder step")
        // 09:00 in Guangzhou is 01:00 UTC.
        #expect(timers[0].dueAt == utc("2026-12-21T01:00:00Z"))
        #expect(timers[2].dueAt == utc("2026-12-29T01:00:00Z"))
    }

    @Test func remindersWhoseDayHasPassedAreNotPlannedButEscalationsAre() {
        let late = SupervisionSchedule.timers(deadline: deadline, today: LocalDate("2026-12-25")!, settings: settings)
        #expect(late.filter { $0.kind == .reminder }.map(\.step) == [1])
        let overdue = SupervisionSchedule.timers(deadline: deadline, today: LocalDate("2027-01-05")!, settings: settings)
        #expect(overdue.filter { $0.kind == .reminder }.isEmpty)
        #expect(overdue.filter { $0.kind == .escalation }.count == 4)
        let onTheDay = SupervisionSchedule.timers(deadline: deadline, today: deadline.adding(days: -1), settings: settings)
        #expect(onTheDay.filter { $0.kind == .reminder }.map(\.day) == [deadline.adding(days: -1)], "the day itself still counts")
    }

    @Test func aFollowUpIsDueOnThePromisedDay() {
        let followUp = SupervisionSchedule.followUp(promised: LocalDate("2027-03-31")!, settings: settings)
        #expect(followUp.kind == .followUp && followUp.day.description == "2027-03-31")
        #expect(followUp.dueAt == utc("2027-03-31T01:00:00Z"))
    }

    @Test func settingsKeepDefaultsForMissingKeysAndNameBadFields() throws {
        let partial = try JSONDecoder().decode(SupervisionSettings.self, from: Data(#"{"reminderDaysBefore":[3]}"#.utf8))
        #expect(partial.reminderDaysBefore == [3] && partial.escalation.count == 4 && partial.fireHour == 9)
        #expect(partial.problems.isEmpty)
        var bad = SupervisionSettings()
        bad.reminderDaysBefore = [7, 7]
        bad.escalation = [EscalationStep(daysOverdue: 5, level: .formalNotice), EscalationStep(daysOverdue: 2, level: .reminder)]
        bad.fireHour = 24
        #expect(bad.problems.map(\.field) == ["reminderDaysBefore", "escalation", "fireHour"])
    }
}

@Suite struct HandlingRuleTests {
    let today = LocalDate("2026-12-01")!

    func reply(
        _ role: Assignment.Role = .lead, state: SupervisedAssignmentState = .handling, coUnits: [HandlingRules.CoUnitOpinion] = [],
        category: ReplyCategory = .solvedOrAdopted, promised: String? = nil
    ) -> RuleRefusal? {
        do throws(RuleRefusal) {
            try HandlingRules.checkReply(
                role: role, state: state, coUnits: coUnits, category: category,
                promised: promised.flatMap(LocalDate.init), today: today)
            return nil
        } catch {
            return error
        }
    }

    @Test func theLeadRepliesOnceEveryCoUnitHasGivenItsOpinionOrItsWindowPassed() {
        #expect(reply() == nil)
        #expect(reply(.coHandling)?.reason.contains("gives its opinion") == true)
        #expect(reply(state: .replied) != nil)
        let waiting = HandlingRules.CoUnitOpinion(unitName: "南华西街道办事处", given: false, due: today)
        #expect(reply(coUnits: [waiting])?.reason == "waiting for the opinion of 南华西街道办事处 (due 2026-12-01)", "the due day itself still waits")
        let lapsed = HandlingRules.CoUnitOpinion(unitName: "南华西街道办事处", given: false, due: today.adding(days: -1))
        let given = HandlingRules.CoUnitOpinion(unitName: "区民政局", given: true, due: today.adding(days: 5))
        #expect(reply(coUnits: [lapsed, given]) == nil)
    }

    @Test func onlyABReplyPromisesADateAfterToday() {
        #expect(reply(category: .inProgressOrPlanned)?.field == "promisedDate")
        #expect(reply(category: .inProgressOrPlanned, promised: "2026-12-01")?.field == "promisedDate")
        #expect(reply(category: .inProgressOrPlanned, promised: "2027-03-31") == nil)
        #expect(reply(category: .keptForReference, promised: "2027-03-31")?.field == "promisedDate")
        #expect(reply(category: .keptForReference) == nil)
    }

    @Test func anExtensionIsAskedForBeforeTheDeadlinePasses() {
        func extend(deadline: String, to requested: String, open: Bool = false, state: SupervisedAssignmentState = .handling) -> String? {
            do throws(RuleRefusal) {
                try HandlingRules.checkExtension(
                    state: state, deadline: LocalDate(deadline)!, requested: LocalDate(requested)!,
                    hasOpenRequest: open, today: today)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(extend(deadline: "2026-12-01", to: "2026-12-31") == nil, "on the deadline day itself")
        #expect(extend(deadline: "2026-11-30", to: "2026-12-31") == "the deadline 2026-11-30 has passed; an extension is asked for before it")
        #expect(extend(deadline: "2026-12-10", to: "2026-12-10") == "2026-12-10 is not after the current deadline 2026-12-10")
        #expect(extend(deadline: "2026-12-10", to: "2026-12-31", open: true) == "an extension request is already waiting for the committee")
        #expect(extend(deadline: "2026-12-10", to: "2026-12-31", state: .replied) != nil)
    }

    @Test func aCoUnitsOpinionIsDueBeforeTheLeadsDeadline() {
        let assigned = LocalDate("2026-12-01")!
        #expect(HandlingRules.opinionDue(assignedOn: assigned, deadline: LocalDate("2027-01-04")!, days: 15).description == "2026-12-16")
        #expect(HandlingRules.opinionDue(assignedOn: assigned, deadline: LocalDate("2026-12-10")!, days: 15).description == "2026-12-09")
        #expect(HandlingRules.opinionDue(assignedOn: assigned, deadline: assigned, days: 15) == assigned)
    }
}

@Suite struct ClosingRuleTests {
    let today = LocalDate("2026-12-01")!

    func lead(_ replied: Bool, _ satisfaction: Satisfaction?, ends: String? = "2026-12-15") -> ClosingRules.LeadPart {
        ClosingRules.LeadPart(unitName: "区民政局", replied: replied, satisfaction: satisfaction, evaluationEnds: ends.flatMap(LocalDate.init))
    }

    @Test func aProposalClosesWhenEveryReplyIsEvaluatedWellOrItsWindowPassed() {
        #expect(ClosingRules.waitingFor([lead(true, .satisfied), lead(true, .basicallySatisfied)], today: today) == nil)
        #expect(ClosingRules.waitingFor([lead(true, .satisfied), lead(false, nil)], today: today) == "the reply of 区民政局")
        #expect(ClosingRules.waitingFor([lead(true, nil)], today: today) == "the proposer's evaluation of 区民政局")
        #expect(ClosingRules.waitingFor([lead(true, nil, ends: "2026-12-01")], today: today) != nil, "the window's last day still waits")
        #expect(ClosingRules.waitingFor([lead(true, nil, ends: "2026-11-30")], today: today) == nil, "the window passed")
        #expect(ClosingRules.waitingFor([lead(true, .dissatisfied)], today: today) == "the re-handling by 区民政局")
        #expect(ClosingRules.waitingFor([], today: today) == "no unit handles it")
    }
}

@Suite struct EvaluationWindowTests {
    @Test func theWindowEndsTheDayAfterItsLastDay() {
        let timer = SupervisionSchedule.evaluationWindowEnd(replied: LocalDate("2026-12-01")!, settings: SupervisionSettings())
        // 30 days to evaluate: the last is 12-31 (as ClosingRules counts), so the timer fires on 01-01.
        #expect(timer.kind == .evaluationWindow && timer.day.description == "2027-01-01")
        let lead = ClosingRules.LeadPart(
            unitName: "区民政局", replied: true, satisfaction: nil, evaluationEnds: LocalDate("2026-12-01")!.adding(days: 30))
        #expect(ClosingRules.waitingFor([lead], today: LocalDate("2026-12-31")!) != nil)
        #expect(ClosingRules.waitingFor([lead], today: timer.day) == nil)
    }
}
