import ArgumentParser
import BenchSupport
import Foundation
import Models

/// The year-end evaluation of handling units (考核) as the supervision service computes it, in
/// memory on one core: a district-year's assignment facts are evaluated (rates, weighted
/// scores, ranks), exported as CSV and shortlisted for commendation. The issue asks ≤ 10 s for a
/// district-year of 50,000 assignments.
struct EvaluationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluation",
        abstract: "Time to evaluate a district-year of assignments (scores and ranks, CSV, commendations), and whether input order matters.")

    @Option(help: "Assignments in the district-year, as lead unit or co-unit.") var assignments = 50_000
    @Option(help: "Handling units they are spread over.") var units = 500
    @Option(help: "Timed evaluations of the same facts.") var rounds = 5
    @Option(help: "Seed of the generated year.") var seed: UInt64 = 42

    /// The year evaluated; its facts are gathered on its last day.
    static let year = 2026

    func validate() throws {
        guard assignments > 0, units > 0, rounds > 0 else { throw ValidationError("--assignments, --units and --rounds must be positive") }
    }

    func run() throws {
        print(machineLine())
        let (first, last) = (LocalDate(year: Self.year, month: 1, day: 1)!, LocalDate(year: Self.year, month: 12, day: 31)!)
        let period = first...last
        let generateStart = ContinuousClock.now
        let districtYear = DistrictYear(assignments: assignments, units: units, period: period, seed: seed)
        print(districtYear.summary + String(format: "; generated in %.1f s", seconds(since: generateStart)))

        let weights = EvaluationWeights()
        var timings: [Timing] = []
        var lastOutcome: Outcome?
        for round in 1...rounds {
            let (result, timing) = Self.evaluate(districtYear.facts, period: period, weights: weights)
            timings.append(timing)
            lastOutcome = result
            print(
                String(
                    format: "round %d: %.3f s (evaluate %.3f s, CSV %.3f s, commendations %.3f s)",
                    round, timing.total, timing.evaluate, timing.csv, timing.commendations))
        }
        guard let outcome = lastOutcome else { return }

        let totals = timings.map(\.total).sorted()
        let (best, worst) = (totals[0], totals[totals.count - 1])
        let middle = totals.count / 2
        let median = totals.count % 2 == 1 ? totals[middle] : (totals[middle - 1] + totals[middle]) / 2
        print(
            "evaluation of a district-year (\(districtYear.facts.count) assignments, \(outcome.evaluations.count) units evaluated, \(period.lowerBound)…\(period.upperBound)): "
                + String(
                    format: "best %.3f s, median %.3f s, worst %.3f s over %d rounds; %.0f assignments/s at the median",
                    best, median, worst, rounds, Double(districtYear.facts.count) / max(median, 1e-9)))
        print(
            "CSV: \(outcome.csv.utf8.count) bytes, \(outcome.evaluations.count + 1) rows, fingerprint \(fingerprint(outcome.csv)) (FNV-1a 64; equal on every run with the same options)"
        )
        print(
            "commendations: \(outcome.commendations.advancedUnits.count) advanced units, \(outcome.commendations.excellentProposals.count) excellent proposals (\(outcome.commendations.excellentProposals.filter(\.isKey).count) of them key proposals)"
        )
        for evaluation in outcome.evaluations.prefix(3) {
            print(
                "  #\(evaluation.rank) \(evaluation.unitName): score \(String(format: "%.2f", evaluation.score)); \(evaluation.assignments) assignments (\(evaluation.leadAssignments) as lead), on time \(rate(evaluation.onTimeReplyRate)), three meetings \(rate(evaluation.threeMeetingRate)), co-unit opinions \(rate(evaluation.coUnitOpinionRate)), satisfied \(rate(evaluation.satisfactionRate)), \(evaluation.rehandlings) re-handlings, \(evaluation.extensions) extensions"
            )
        }
        if let lowest = outcome.evaluations.last {
            print("  lowest: #\(lowest.rank) \(lowest.unitName): score \(String(format: "%.2f", lowest.score))")
        }

        // The same facts in another order must give the same evaluations, CSV and shortlist.
        var shuffler = SplitMix64(seed: seed &+ 7)
        let (shuffled, _) = Self.evaluate(districtYear.facts.shuffled(using: &shuffler), period: period, weights: weights)
        print("reproducible: the facts shuffled give \(shuffled == outcome ? "equal" : "NOT equal") evaluations, CSV and commendations")
        print(
            "target ≤ 10 s: \(worst <= 10 ? "met" : "NOT met") (slowest of \(rounds) rounds \(String(format: "%.3f", worst)) s, median \(String(format: "%.3f", median)) s)"
        )
    }

    /// What one evaluation produces: compared whole for the reproducibility check.
    struct Outcome: Equatable {
        var evaluations: [UnitEvaluation]
        var csv: String
        var commendations: Commendations
    }

    struct Timing {
        var evaluate: Double
        var csv: Double
        var commendations: Double
        var total: Double { evaluate + csv + commendations }
    }

    /// Everything the service does for a year-end evaluation, each part timed.
    static func evaluate(
        _ facts: [AssignmentRecordFacts], period: ClosedRange<LocalDate>, weights: EvaluationWeights
    ) -> (Outcome, Timing) {
        let start = ContinuousClock.now
        let evaluations = UnitEvaluator.evaluate(facts, period: period, weights: weights)
        let evaluated = ContinuousClock.now
        let csv = UnitEvaluator.csv(evaluations)
        let exported = ContinuousClock.now
        let commendations = UnitEvaluator.commendations(evaluations, facts: facts, period: period)
        let finished = ContinuousClock.now
        return (
            Outcome(evaluations: evaluations, csv: csv, commendations: commendations),
            Timing(evaluate: seconds(evaluated - start), csv: seconds(exported - evaluated), commendations: seconds(finished - exported))
        )
    }

    /// A rate as a percentage, or a dash where there was nothing to measure.
    func rate(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.1f %%", value * 100)
    }

    /// FNV-1a over the text's bytes, so two runs' CSV can be compared by eye.
    func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }
}

/// A district-year of assignments as the supervision service gathers them at the year's end:
/// citizens' proposals assigned on days through the year, each to a lead unit (replying within
/// a month, now and then extended) and sometimes co-units (giving their opinion within 15 days).
/// Units differ in diligence, so replies are late, meetings missed, opinions overdue and
/// proposers dissatisfied (and units re-handling) more often for some than for others; what
/// falls after the year's last day has not happened yet.
struct DistrictYear {
    struct Unit {
        var id: UUID
        var name: String
        /// 0.45 to 0.95: how likely the unit is to do each thing well.
        var diligence: Double
    }

    private(set) var facts: [AssignmentRecordFacts] = []
    private(set) var units: [Unit] = []
    private(set) var proposals = 0

    init(assignments: Int, units unitCount: Int, period: ClosedRange<LocalDate>, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        units = (0..<unitCount).map { index in
            let number = String(index + 1)
            let name = "承办单位" + String(repeating: "0", count: max(0, 3 - number.count)) + number
            return Unit(id: random.uuid(), name: name, diligence: 0.45 + 0.5 * random.unit())
        }
        let asOf = period.upperBound
        let days = period.lowerBound.days(until: period.upperBound) + 1
        facts.reserveCapacity(assignments)
        while facts.count < assignments {
            proposals += 1
            let proposalID = random.uuid()
            let caseNumber = CaseNumber(prefix: "BN", session: 1, year: period.lowerBound.year, sequence: proposals).rawValue
            let assignedOn = period.lowerBound.adding(days: random.below(days))
            let deadline = DeadlineRule.citizenProposal.deadline(from: assignedOn, calendar: .none)
            let isKey = random.chance(0.05)
            let lead = pickUnit(&random)
            let leadFact = Self.leadPart(
                proposalID: proposalID, caseNumber: caseNumber, unit: units[lead], assignedOn: assignedOn, deadline: deadline,
                isKey: isKey, asOf: asOf, random: &random)
            facts.append(leadFact)

            // About 0.43 co-units per proposal, so that three assignments in ten are co-handling.
            let draw = random.unit()
            let coUnitCount = min(draw < 0.65 ? 0 : draw < 0.92 ? 1 : 2, unitCount - 1)
            var taken: Set<Int> = [lead]
            for _ in 0..<coUnitCount where facts.count < assignments {
                var coUnit = pickUnit(&random)
                while taken.contains(coUnit) { coUnit = random.below(unitCount) }
                taken.insert(coUnit)
                facts.append(
                    Self.coPart(
                        proposalID: proposalID, caseNumber: caseNumber, unit: units[coUnit], assignedOn: assignedOn, deadline: deadline,
                        isKey: isKey, lead: leadFact, asOf: asOf, random: &random))
            }
        }
    }

    /// The days a co-unit has for its opinion, as the district's default settings give them.
    private static let opinionDays = SupervisionSettings().coUnitOpinionDays

    /// A unit, some far busier than others (as a city's transport or housing bureau is).
    private func pickUnit(_ random: inout SplitMix64) -> Int {
        min(units.count - 1, Int(Double(units.count) * pow(random.unit(), 1.5)))
    }

    private static func leadPart(
        proposalID: UUID, caseNumber: String, unit: Unit, assignedOn: LocalDate, deadline original: LocalDate, isKey: Bool,
        asOf: LocalDate, random: inout SplitMix64
    ) -> AssignmentRecordFacts {
        let diligence = unit.diligence
        // Extensions (延期): rarer for diligent units, each 15 to 30 days to a working day.
        var deadline = original
        var extensions = 0
        if random.chance(0.12 * (1.3 - diligence)) {
            extensions = random.chance(0.15) ? 2 : 1
            for _ in 0..<extensions {
                deadline = HolidayCalendar.none.nextWorkingDay(onOrAfter: deadline.adding(days: 15 + random.below(16)))
            }
        }
        // The reply: by the deadline, or up to 25 days late; not yet where that is after the year.
        let replyDay =
            random.chance(0.62 + 0.36 * diligence)
            ? assignedOn.adding(days: 1 + random.below(max(assignedOn.days(until: deadline), 1)))
            : deadline.adding(days: 1 + random.below(25))
        let repliedOn = replyDay <= asOf ? replyDay : nil

        var meetings: Set<MeetingStage> = []
        if random.chance(diligence + 0.05) { meetings.insert(.before) }
        if random.chance(diligence) { meetings.insert(.during) }
        if repliedOn != nil, random.chance(diligence - 0.05) { meetings.insert(.after) }

        var category: ReplyCategory?
        var satisfaction: Satisfaction?
        var rehandlings = 0
        if let repliedOn {
            let draw = random.unit()
            let replied: ReplyCategory = draw < 0.35 + 0.3 * diligence ? .solvedOrAdopted : draw < 0.88 ? .inProgressOrPlanned : .keptForReference
            category = replied
            // The proposer evaluates within 30 days, most of them.
            if repliedOn.adding(days: 3 + random.below(28)) <= asOf, random.chance(0.9) {
                let judged = evaluation(diligence: diligence, category: replied, random: &random)
                satisfaction = judged.satisfaction
                rehandlings = judged.rehandlings
            }
        }
        return AssignmentRecordFacts(
            assignmentID: random.uuid(), proposalID: proposalID, caseNumber: caseNumber, unitID: unit.id, unitName: unit.name,
            role: .lead, assignedOn: assignedOn, deadline: deadline, repliedOn: repliedOn, meetings: meetings,
            satisfaction: satisfaction, rehandlings: rehandlings, extensions: extensions, replyCategory: category, isKey: isKey)
    }

    private static func coPart(
        proposalID: UUID, caseNumber: String, unit: Unit, assignedOn: LocalDate, deadline: LocalDate, isKey: Bool,
        lead: AssignmentRecordFacts, asOf: LocalDate, random: inout SplitMix64
    ) -> AssignmentRecordFacts {
        let diligence = unit.diligence
        let due = HandlingRules.opinionDue(assignedOn: assignedOn, deadline: deadline, days: opinionDays)
        let givenDay =
            random.chance(0.7 + 0.28 * diligence)
            ? assignedOn.adding(days: random.below(max(assignedOn.days(until: due), 0) + 1))
            : due.adding(days: 1 + random.below(12))
        var meetings: Set<MeetingStage> = []
        if random.chance(0.3) { meetings.insert(.before) }
        var satisfaction: Satisfaction?
        var rehandlings = 0
        // The proposer evaluates co-units' handling too, mostly when evaluating the lead's.
        if lead.satisfaction != nil, random.chance(0.8) {
            let judged = evaluation(diligence: diligence, category: nil, random: &random)
            satisfaction = judged.satisfaction
            rehandlings = judged.rehandlings
        }
        return AssignmentRecordFacts(
            assignmentID: random.uuid(), proposalID: proposalID, caseNumber: caseNumber, unitID: unit.id, unitName: unit.name,
            role: .coHandling, assignedOn: assignedOn, deadline: deadline, opinionGivenOn: givenDay <= asOf ? givenDay : nil,
            opinionDueOn: due, meetings: meetings, satisfaction: satisfaction, rehandlings: rehandlings, isKey: isKey)
    }

    /// The proposer's latest evaluation: a dissatisfied proposer often has the unit handle it
    /// again (重新办理), and the second handling is more often found satisfying.
    private static func evaluation(
        diligence: Double, category: ReplyCategory?, random: inout SplitMix64
    ) -> (satisfaction: Satisfaction, rehandlings: Int) {
        // A kept-for-reference reply (C) satisfies fewer proposers.
        let goodwill = 0.4 + 0.5 * diligence - (category == .keptForReference ? 0.2 : 0)
        var satisfaction = judgement(goodwill: goodwill, random: &random)
        var rehandlings = 0
        while satisfaction == .dissatisfied, rehandlings < 2, random.chance(0.6) {
            rehandlings += 1
            satisfaction = judgement(goodwill: min(goodwill + 0.2, 0.95), random: &random)
        }
        return (satisfaction, rehandlings)
    }

    /// Satisfied with probability `goodwill`; of the others, three in four basically satisfied.
    private static func judgement(goodwill: Double, random: inout SplitMix64) -> Satisfaction {
        let value = random.unit()
        if value < goodwill { return .satisfied }
        return value < goodwill + 0.75 * (1 - goodwill) ? .basicallySatisfied : .dissatisfied
    }

    /// What the year holds, in one line.
    var summary: String {
        let lead = facts.filter { $0.role == .lead }
        let replied = lead.filter { $0.repliedOn != nil }
        let late = replied.filter { ($0.repliedOn ?? $0.deadline) > $0.deadline }.count
        let complete = replied.filter { $0.meetings.count == MeetingStage.allCases.count }.count
        let co = facts.filter { $0.role == .coHandling }
        let opinions = co.filter { $0.opinionGivenOn != nil }
        let lateOpinions = opinions.filter { fact in fact.opinionGivenOn.map { $0 > (fact.opinionDueOn ?? fact.deadline) } ?? false }.count
        let evaluated = facts.filter { $0.satisfaction != nil }
        let dissatisfied = evaluated.filter { $0.satisfaction == .dissatisfied }.count
        let rehandled = facts.filter { $0.rehandlings > 0 }.count
        let extended = lead.filter { $0.extensions > 0 }.count
        return String(
            format:
                "district-year %d: %d assignments (%.1f %% lead, %.1f %% co-handling) of %d proposals over %d units; lead replies %d (%.1f %% late), all three meetings %.1f %%; co-unit opinions %d (%.1f %% late); evaluated %d (%.1f %% dissatisfied), re-handled %d, extended %d",
            EvaluationBenchmark.year, facts.count, percent(lead.count, of: facts.count), percent(co.count, of: facts.count), proposals,
            units.count, replied.count, percent(late, of: replied.count), percent(complete, of: replied.count), opinions.count,
            percent(lateOpinions, of: opinions.count), evaluated.count, percent(dissatisfied, of: evaluated.count), rehandled, extended)
    }
}
