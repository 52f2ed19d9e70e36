import ArgumentParser
import BenchSupport
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit
import Storage
import SupervisionService

/// One scheduler pass of the supervision service, the service's own `TimerRepository.fireDue`: a
/// district with `open` assignments in handling, each with the reminders and escalation steps
/// the service plans from its deadline (about six timers each), of which exactly `due` are due
/// at the pass. The pass finds them, marks them fired and writes one outbox event each. The
/// issue asks ≤ 5 s for 10,000 due timers among 100,000 open assignments.
///
/// The due timers are due by construction: every planned timer falls at least a day after the
/// passes (deadlines 9 to 68 days ahead, so the first reminder, 7 days before, is 2 days ahead),
/// and each pass gets `due` extra reminders due an hour before its `now`.
struct TimerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timers",
        abstract: "One scheduler pass (TimerRepository.fireDue) finding and firing the due timers among open assignments' timers.")

    @Option(name: .customLong("open"), help: "Open assignments (handling, lead), each with its reminders and escalation steps planned.")
    var openAssignments = 100_000
    @Option(help: "TimerRepository due at each pass; the pass must find and fire exactly these.") var due = 10_000
    @Option(help: "TimerRepository fired per transaction (SUPERVISION_TIMER_BATCH).") var batch = 1_000
    @Option(help: "Passes, each over a fresh set of due timers, a minute after the one before.") var rounds = 3
    @Option(help: "Handling units the assignments are spread over.") var units = 500
    @Option(help: "Assignments (with their timers) per transaction while preloading.") var loadBatch = 5_000
    @Option(help: "Seed of the generated assignments.") var seed: UInt64 = 42

    /// The first pass's `now`: a fixed instant, so every run plans the same timers. 10:00 in
    /// Beijing, after the default fire hour (9:00), on a Monday.
    static let firstPass = LocalDate(year: 2026, month: 3, day: 2)!.start(in: .chinaTime).addingTimeInterval(10 * 3_600)

    func validate() throws {
        guard openAssignments > 0, due > 0, batch > 0, rounds > 0, units > 0, loadBatch > 0 else {
            throw ValidationError("--open, --due, --batch, --rounds, --units and --load-batch must be positive")
        }
        guard due <= openAssignments else { throw ValidationError("--due must not exceed --open: each due timer belongs to an open assignment") }
    }

    func run() async throws {
        do {
            try await measurePasses()
        } catch let error as PSQLError {
            throw ValidationError("PostgreSQL: \(String(String(reflecting: error).prefix(2_000)))")
        }
    }

    /// An open assignment as far as its timers are concerned.
    struct OpenAssignment {
        var id: UUID
        var proposal: UUID
    }

    func measurePasses() async throws {
        var logger = Logger(label: "bench-supervision")
        logger.logLevel = .error
        let databaseConfiguration = try BenchEnvironment.database()
        let progress = ProgressLine()
        print(machineLine())

        let database = Database(configuration: databaseConfiguration, logger: logger)
        let runner = Task { await database.client.run() }
        defer { runner.cancel() }
        try await Migrator().migrate(database, logger: logger)
        let district = DistrictCode(rawValue: "bench")!
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute("INSERT INTO districts (code, name, tracking_prefix) VALUES ('bench', '基准区', 'BN') ON CONFLICT DO NOTHING")
            // Default supervision settings (reminders 7 and 1 days before, four escalation steps), as planned below.
            try await transaction.execute("UPDATE districts SET supervision_settings = '{}' WHERE code = 'bench'")
        }

        // The open assignments and their timers, planned as the service plans them on the day of the first pass.
        let settings = SupervisionSettings()
        let today = LocalDate.on(Self.firstPass, in: settings.zone)
        var random = SplitMix64(seed: seed)
        let unitPool = (0..<units).map { index in (id: random.uuid(), name: "承办单位\(index + 1)") }
        var assignments: [OpenAssignment] = []
        assignments.reserveCapacity(openAssignments)
        var planned = 0
        var earliest = Date.distantFuture
        let loadStart = ContinuousClock.now
        while assignments.count < openAssignments {
            let chunkSize = min(loadBatch, openAssignments - assignments.count)
            var chunk = AssignmentRows()
            var timers = TimerRows()
            for _ in 0..<chunkSize {
                let assignment = OpenAssignment(id: random.uuid(), proposal: random.uuid())
                let unit = unitPool[random.below(unitPool.count)]
                let deadline = today.adding(days: 9 + random.below(60))
                chunk.append(
                    assignment, caseNumber: CaseNumber(prefix: "BN", session: 1, year: 2026, sequence: assignments.count + chunk.count + 1).rawValue,
                    unit: unit.id, unitName: unit.name, assignedOn: today.adding(days: -random.below(20)), deadline: deadline)
                for timer in SupervisionSchedule.timers(deadline: deadline, today: today, settings: settings) {
                    timers.append(kind: timer.kind.rawValue, step: timer.step, day: timer.day, dueAt: timer.dueAt, of: assignment)
                    earliest = min(earliest, timer.dueAt)
                }
            }
            try await database.transaction(.district(district)) { transaction in
                try await insert(chunk, district: district, updatedAt: Self.firstPass, in: transaction)
                try await insert(timers, district: district, in: transaction)
            }
            assignments += chunk.assignments
            planned += timers.count
            progress.report("preloading open assignments and their timers", done: assignments.count, of: openAssignments, since: loadStart)
        }
        let loadSeconds = seconds(since: loadStart)
        print(
            "preloaded: \(assignments.count) open assignments (handling, lead, over \(units) units, deadlines 9 to 68 days after \(today)) "
                + String(
                    format: "and %d planned timers (%.1f each) in %.0f s (%.0f assignments/s, %d per transaction)",
                    planned, Double(planned) / Double(max(assignments.count, 1)), loadSeconds,
                    Double(assignments.count) / max(loadSeconds, 0.001), loadBatch))
        let lastPass = Self.firstPass.addingTimeInterval(Double(rounds - 1) * 60)
        print(
            "planned timers: the earliest is due at \(Self.iso(earliest)), after the last pass at \(Self.iso(lastPass)): \(earliest > lastPass ? "none of them is due at a pass" : "SOME ARE DUE at a pass")"
        )
        // Statistics as a running database would have them, rather than whatever autovacuum got to.
        try await database.transaction(.district(district)) { transaction in
            try await transaction.execute("ANALYZE supervised_assignments, supervision_timers, outbox")
        }

        var figures: [Double] = []
        var verified = true
        for round in 0..<rounds {
            let now = Self.firstPass.addingTimeInterval(Double(round) * 60)
            let day = LocalDate.on(now, in: settings.zone)
            // This pass's due set: a reminder due an hour ago for each of `due` assignments, a
            // different window of them each round.
            var dueSet = TimerRows()
            for offset in 0..<due {
                dueSet.append(
                    kind: TimerKind.reminder.rawValue, step: 7, day: day, dueAt: now.addingTimeInterval(-3_600),
                    of: assignments[(round * due + offset) % assignments.count])
            }
            try await database.transaction(.district(district)) { transaction in
                try await insert(dueSet, district: district, in: transaction)
            }
            // All districts: the pass fires every district's due timers, so count them all.
            let pending = try await count(
                "SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= \(now)",
                scope: .allDistricts, database: database)
            print("pass \(round + 1) at \(Self.iso(now)): \(pending) unfired timers due (\(due) expected)")
            guard pending == due else {
                throw ValidationError(
                    "\(pending) timers are due at \(Self.iso(now)), not \(due): the database holds other due timers; start from an empty one")
            }
            let outboxBefore = try await supervisionEvents(in: district, database: database)

            let start = ContinuousClock.now
            let fired = try await TimerRepository.fireDue(database: database, now: now, batch: batch)
            let elapsed = seconds(since: start)
            figures.append(elapsed)

            let firedNow = try await count(
                "SELECT count(*)::int FROM supervision_timers WHERE district = \(district.rawValue) AND fired_at = \(now)",
                scope: .district(district), database: database)
            let stillDue = try await count(
                "SELECT count(*)::int FROM supervision_timers WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= \(now)",
                scope: .allDistricts, database: database)
            let outboxAdded = try await supervisionEvents(in: district, database: database) - outboxBefore
            let correct = fired.total == due && fired.acted == due && firedNow == due && stillDue == 0 && outboxAdded == due
            verified = verified && correct
            print(
                String(
                    format: "pass %d: fired %d (acted %d, moot %d) in %.3f s: %.0f timers/s, batches of %d; ",
                    round + 1, fired.total, fired.acted, fired.total - fired.acted, elapsed, Double(fired.total) / max(elapsed, 0.000_001), batch)
                    + "target ≤ 5 s: \(elapsed <= 5 ? "met" : "NOT met")")
            print(
                "pass \(round + 1) checked: \(firedNow) timers with fired_at at the pass, \(stillDue) still due, \(outboxAdded) new outbox rows from supervision (\(due) expected each): \(correct ? "correct" : "WRONG")"
            )
        }

        let (best, worst) = (figures.min() ?? 0, figures.max() ?? 0)
        print(
            String(
                format:
                    "scheduler pass over %d open assignments (%d planned timers): best %.3f s, worst %.3f s over %d passes, each firing %d due timers in batches of %d",
                assignments.count, planned, best, worst, rounds, due, batch))
        print("target ≤ 5 s: \(worst <= 5 ? "met" : "NOT met") (slowest pass \(String(format: "%.3f", worst)) s)")
        guard verified else { throw ValidationError("a pass did not fire exactly the due timers or write one outbox event each; see above") }
    }

    // MARK: Rows

    /// Open assignments as one array per column: one bind per column however many rows
    /// (PostgreSQL allows 65,535 binds per statement).
    struct AssignmentRows {
        var assignments: [OpenAssignment] = []
        var caseNumbers: [String] = []
        var units: [UUID] = []
        var unitNames: [String] = []
        var assignedOn: [String] = []
        var deadlines: [String] = []

        var count: Int { assignments.count }

        mutating func append(
            _ assignment: OpenAssignment, caseNumber: String, unit: UUID, unitName: String, assignedOn day: LocalDate, deadline: LocalDate
        ) {
            assignments.append(assignment)
            caseNumbers.append(caseNumber)
            units.append(unit)
            unitNames.append(unitName)
            assignedOn.append(day.description)
            deadlines.append(deadline.description)
        }
    }

    /// TimerRepository as one array per column, as `TimerRepository.plan` writes them.
    struct TimerRows {
        var assignments: [UUID] = []
        var proposals: [UUID] = []
        var kinds: [String] = []
        var steps: [Int] = []
        var days: [String] = []
        var dueAt: [Date] = []

        var count: Int { assignments.count }

        mutating func append(kind: String, step: Int, day: LocalDate, dueAt instant: Date, of assignment: OpenAssignment) {
            assignments.append(assignment.id)
            proposals.append(assignment.proposal)
            kinds.append(kind)
            steps.append(step)
            days.append(day.description)
            dueAt.append(instant)
        }
    }

    func insert(_ rows: AssignmentRows, district: DistrictCode, updatedAt: Date, in transaction: Transaction) async throws {
        // The proposals, assigned, as the shared store has them: the timer pass locks them first.
        try await transaction.execute(
            """
            INSERT INTO proposals (id, district, status, title, case_summary, reasons, suggestions, proposers, drafted_by, case_number)
            SELECT proposal_id, \(district.rawValue), 'assigned', '基准提案', '案由', '理由', '建议', '[]', 'bench', case_number
            FROM unnest(\(rows.assignments.map(\.proposal))::uuid[], \(rows.caseNumbers)::text[]) AS p(proposal_id, case_number)
            """)
        try await transaction.execute(
            """
            INSERT INTO supervised_assignments (assignment_id, district, proposal_id, case_number, unit_id, unit_name, role, round,
                                                assigned_on, deadline, state, updated_at)
            SELECT id, \(district.rawValue), proposal_id, case_number, unit_id, unit_name, 'lead', 1,
                   assigned_on::date, deadline::date, 'handling', \(updatedAt)
            FROM unnest(\(rows.assignments.map(\.id))::uuid[], \(rows.assignments.map(\.proposal))::uuid[], \(rows.caseNumbers)::text[],
                        \(rows.units)::uuid[], \(rows.unitNames)::text[], \(rows.assignedOn)::text[], \(rows.deadlines)::text[])
                 AS a(id, proposal_id, case_number, unit_id, unit_name, assigned_on, deadline)
            """)
    }

    func insert(_ rows: TimerRows, district: DistrictCode, in transaction: Transaction) async throws {
        guard rows.count > 0 else { return }
        try await transaction.execute(
            """
            INSERT INTO supervision_timers (district, assignment_id, proposal_id, kind, step, day, due_at)
            SELECT \(district.rawValue), assignment_id, proposal_id, kind, step, day::date, due_at
            FROM unnest(\(rows.assignments)::uuid[], \(rows.proposals)::uuid[], \(rows.kinds)::text[], \(rows.steps)::int[],
                        \(rows.days)::text[], \(rows.dueAt)::timestamptz[])
                 AS t(assignment_id, proposal_id, kind, step, day, due_at)
            """)
    }

    // MARK: Checks

    /// A `count(*)::int` query's answer.
    func count(_ query: PostgresQuery, scope: DistrictScope, database: Database) async throws -> Int {
        try await database.transaction(scope) { transaction in
            for try await value in try await transaction.query(query).decode(Int.self) { return value }
            return 0
        }
    }

    /// The district's outbox rows from supervision: each acting timer writes one.
    func supervisionEvents(in district: DistrictCode, database: Database) async throws -> Int {
        try await count(
            "SELECT count(*)::int FROM outbox WHERE source = 'supervision' AND district = \(district.rawValue)",
            scope: .district(district), database: database)
    }

    static func iso(_ instant: Date) -> String {
        ISO8601DateFormatter().string(from: instant)
    }
}
