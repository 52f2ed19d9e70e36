import Foundation
import Models
import Testing

private func date(_ text: String) -> LocalDate { LocalDate(text)! }

private func holiday(_ name: String, _ dates: String...) -> [HolidayCalendar.Day] {
    dates.map { HolidayCalendar.Day(date: date($0), kind: .holiday, name: name) }
}

private func workingDay(_ name: String, _ dates: String...) -> [HolidayCalendar.Day] {
    dates.map { HolidayCalendar.Day(date: date($0), kind: .workingDay, name: name) }
}

/// 国务院办公厅关于2025年部分节假日安排的通知, written out day by day.
private let china2025Parts: [[HolidayCalendar.Day]] = [
    holiday("元旦", "2025-01-01"),
    holiday(
        "春节", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
        "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04"),
    workingDay("春节调休", "2025-01-26", "2025-02-08"),
    holiday("清明节", "2025-04-04", "2025-04-05", "2025-04-06"),
    holiday("劳动节", "2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05"),
    workingDay("劳动节调休", "2025-04-27"),
    holiday("端午节", "2025-05-31", "2025-06-01", "2025-06-02"),
    holiday(
        "国庆节、中秋节", "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
        "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08"),
    workingDay("国庆节调休", "2025-09-28", "2025-10-11"),
]
private let china2025Days: [HolidayCalendar.Day] = china2025Parts.flatMap { $0 }
private let china2025 = HolidayCalendar(days: china2025Days)

@Suite struct DeadlineTests {
    // MARK: LocalDate

    @Test func parsesAndFormatsOnlyRealDates() {
        #expect(LocalDate("2024-02-29") == LocalDate(year: 2024, month: 2, day: 29))
        #expect(LocalDate("2024-02-29")?.description == "2024-02-29")
        #expect(LocalDate("2025-02-29") == nil)  // 2025 is not a leap year
        #expect(LocalDate("1900-02-29") == nil)  // divisible by 100 but not by 400
        #expect(LocalDate("2000-02-29") != nil)  // divisible by 400
        let notDates = [
            "2025-1-5", "2025-01-5", "25-01-05", "2025/01/05", "2025-01-05 ", " 2025-01-05", "2025-13-01",
            "2025-00-10", "2025-04-31", "2025-01-00", "1899-12-31", "+025-01-05", "２０２５-01-05", "",
        ]
        for text in notDates {
            #expect(LocalDate(text) == nil, "\(text) is not a date")
        }
        #expect(LocalDate(year: 2025, month: 1, day: 5)?.description == "2025-01-05")
        #expect(LocalDate(year: 1900, month: 1, day: 1)?.description == "1900-01-01")
        #expect(LocalDate(year: 10_000, month: 1, day: 1) == nil)
        #expect(LocalDate(year: 2025, month: 4, day: 31) == nil)
    }

    @Test func codesAsAPlainString() throws {
        let encoded = try JSONEncoder().encode([date("2025-01-26")])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["2025-01-26"]"#)
        #expect(try JSONDecoder().decode([LocalDate].self, from: encoded) == [date("2025-01-26")])
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([LocalDate].self, from: Data(#"["2025-02-29"]"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([LocalDate].self, from: Data(#"["2025-1-5"]"#.utf8))
        }
    }

    @Test func ordersByDay() {
        #expect(date("2024-12-31") < date("2025-01-01"))
        #expect(date("2025-01-31") < date("2025-02-01"))
        #expect(!(date("2025-02-01") < date("2025-02-01")))
        #expect(
            [date("2025-10-01"), date("2025-01-26"), date("2025-02-08")].sorted()
                == [date("2025-01-26"), date("2025-02-08"), date("2025-10-01")])
    }

    @Test func knowsTheDayOfTheWeek() {
        #expect(date("1970-01-01").weekday == .thursday)
        #expect(date("1969-12-29").weekday == .monday)  // three days before a Thursday, before day 0
        #expect(date("1900-01-01").weekday == .monday)
        #expect(date("2025-01-01").weekday == .wednesday)
        #expect(date("2025-10-01").weekday == .wednesday)
        #expect(date("2025-01-26").weekday == .sunday)
        #expect(date("2025-02-08").weekday == .saturday)
        #expect(Weekday.allCases.filter(\.isWeekend) == [.saturday, .sunday])
        #expect(Weekday.monday.rawValue == 1)
        #expect(Weekday.sunday.rawValue == 7)
    }

    @Test func countsDaysAcrossYearEnds() {
        #expect(date("1970-01-01").dayNumber == 0)
        #expect(date("1969-12-31").dayNumber == -1)
        #expect(date("1900-01-01").dayNumber == -25_567)  // Unix time -2_208_988_800 s / 86_400
        #expect(date("2025-01-01").dayNumber == 20_089)  // Unix time 1_735_689_600 s / 86_400
        #expect(LocalDate(dayNumber: 20_089) == date("2025-01-01"))
        #expect(LocalDate(dayNumber: -1) == date("1969-12-31"))
        #expect(date("2024-12-31").adding(days: 1) == date("2025-01-01"))
        #expect(date("2025-01-01").adding(days: -1) == date("2024-12-31"))
        #expect(date("2024-02-28").adding(days: 1) == date("2024-02-29"))
        #expect(date("2025-02-28").adding(days: 1) == date("2025-03-01"))
        #expect(date("2024-12-31").days(until: date("2025-01-01")) == 1)
        #expect(date("2025-01-01").days(until: date("2024-01-01")) == -366)  // 2024 had 29 February
        #expect(date("2025-01-01").days(until: date("2026-01-01")) == 365)
    }

    /// Every day from 1900 to 2100 is one day after the one before, in calendar and weekday.
    @Test func dayNumbersStepThroughEveryDateInOrder() {
        var mismatches: [String] = []
        var previous = date("1900-01-01")
        for number in (previous.dayNumber + 1)...date("2100-12-31").dayNumber {
            let next = LocalDate(dayNumber: number)
            let expected: LocalDate?
            if previous.day < LocalDate.daysInMonth(year: previous.year, month: previous.month) {
                expected = LocalDate(year: previous.year, month: previous.month, day: previous.day + 1)
            } else if previous.month < 12 {
                expected = LocalDate(year: previous.year, month: previous.month + 1, day: 1)
            } else {
                expected = LocalDate(year: previous.year + 1, month: 1, day: 1)
            }
            if next != expected || next.dayNumber != number || next.weekday.rawValue != previous.weekday.rawValue % 7 + 1 {
                mismatches.append("\(number): \(next)")
            }
            previous = next
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(previous == date("2100-12-31"))
    }

    @Test func readsTheDayInTheDistrictsTimeZone() throws {
        let utc = try #require(TimeZone(secondsFromGMT: 0))
        // 2025-01-31T23:30:00Z is 07:30 on 1 February in Beijing.
        let lateEvening = Date(timeIntervalSince1970: 1_738_366_200)
        #expect(LocalDate.on(lateEvening, in: utc) == date("2025-01-31"))
        #expect(LocalDate.on(lateEvening, in: .districtDefault) == date("2025-02-01"))
        #expect(TimeZone.districtDefault.secondsFromGMT(for: lateEvening) == 8 * 3600)
        // Midnight in Beijing is 16:00 UTC the day before: 1_738_368_000 - 8 h.
        #expect(date("2025-02-01").start(in: .districtDefault) == Date(timeIntervalSince1970: 1_738_339_200))
        #expect(date("2025-02-01").start(in: utc) == Date(timeIntervalSince1970: 1_738_368_000))
        #expect(LocalDate.on(date("2025-02-01").start(in: .districtDefault), in: .districtDefault) == date("2025-02-01"))
        // One second before Beijing midnight is still the day before.
        #expect(LocalDate.on(Date(timeIntervalSince1970: 1_738_339_199), in: .districtDefault) == date("2025-01-31"))
    }

    @Test func addingMonthsClampsToTheMonthsEnd() {
        #expect(date("2025-01-31").adding(months: 1) == date("2025-02-28"))
        #expect(date("2024-01-31").adding(months: 1) == date("2024-02-29"))  // leap year
        #expect(date("2025-03-31").adding(months: 1) == date("2025-04-30"))
        #expect(date("2025-11-30").adding(months: 3) == date("2026-02-28"))  // across the year end
        #expect(date("2025-01-31").adding(months: 12) == date("2026-01-31"))
        #expect(date("2024-02-29").adding(months: 12) == date("2025-02-28"))
        #expect(date("2025-01-15").adding(months: 0) == date("2025-01-15"))
        #expect(date("2025-03-31").adding(months: -1) == date("2025-02-28"))
        #expect(date("2025-01-15").adding(months: -1) == date("2024-12-15"))
        #expect(date("2025-01-31").adding(months: -13) == date("2023-12-31"))
    }

    @Test func knowsMonthLengths() {
        #expect(LocalDate.daysInMonth(year: 2024, month: 2) == 29)
        #expect(LocalDate.daysInMonth(year: 2025, month: 2) == 28)
        #expect(LocalDate.daysInMonth(year: 1900, month: 2) == 28)
        #expect(LocalDate.daysInMonth(year: 2000, month: 2) == 29)
        #expect(LocalDate.daysInMonth(year: 2025, month: 4) == 30)
        #expect(LocalDate.daysInMonth(year: 2025, month: 12) == 31)
        #expect(LocalDate.daysInMonth(year: 2025, month: 13) == 0)
    }

    // MARK: HolidayCalendar

    @Test func theOfficialCalendarIsWellFormed() {
        #expect(HolidayCalendar.problems(in: china2025Days).isEmpty)
        // 28 holidays (1 + 8 + 3 + 5 + 3 + 8) and 5 adjusted working days.
        #expect(china2025.days.count == 33)
        #expect(china2025.days.map(\.date) == china2025Days.map(\.date).sorted())
        #expect(HolidayCalendar(days: china2025Days.reversed()) == china2025)
        #expect(china2025.day(on: date("2025-01-26"))?.name == "春节调休")
        #expect(china2025.day(on: date("2025-01-27")) == nil)
    }

    @Test func calendarProblemsNameTheirDates() {
        let days = [
            HolidayCalendar.Day(date: date("2025-01-01"), kind: .holiday, name: "元旦"),
            HolidayCalendar.Day(date: date("2025-01-01"), kind: .holiday, name: "元旦"),
            HolidayCalendar.Day(date: date("2025-01-01"), kind: .holiday, name: "元旦"),
            // 2025-01-27 is a Monday, which is a working day anyway.
            HolidayCalendar.Day(date: date("2025-01-27"), kind: .workingDay, name: "春节调休"),
            HolidayCalendar.Day(date: date("2025-02-08"), kind: .workingDay, name: " "),
            // A holiday on a weekend is normal (2025-10-04 is a Saturday).
            HolidayCalendar.Day(date: date("2025-10-04"), kind: .holiday, name: "国庆节"),
        ]
        let problems = HolidayCalendar.problems(in: days)
        #expect(problems.count == 3, "\(problems)")  // a date given three times is one problem
        #expect(problems.first?.hasPrefix("2025-01-01: ") == true)
        #expect(problems.dropFirst().first?.hasPrefix("2025-01-27: ") == true)
        #expect(problems.last?.hasPrefix("2025-02-08: ") == true)
    }

    @Test func calendarCodesAsSortedDays() throws {
        let encoded = try JSONEncoder().encode(china2025)
        #expect(try JSONDecoder().decode(HolidayCalendar.self, from: encoded) == china2025)
        let json = #"{"days":[{"date":"2025-02-08","kind":"working-day","name":"春节调休"},{"date":"2025-01-28","kind":"holiday","name":"春节"}]}"#
        let decoded = try JSONDecoder().decode(HolidayCalendar.self, from: Data(json.utf8))
        #expect(decoded.days.map(\.date) == [date("2025-01-28"), date("2025-02-08")])
        #expect(decoded.days.map(\.kind) == [.holiday, .workingDay])
    }

    @Test func workingDaysAroundTheSpringFestival() {
        #expect(china2025.isWorkingDay(date("2025-01-24")))  // Friday
        #expect(!china2025.isWorkingDay(date("2025-01-25")))  // Saturday
        #expect(china2025.isWorkingDay(date("2025-01-26")))  // Sunday, adjusted working day
        #expect(china2025.isWorkingDay(date("2025-01-27")))  // Monday
        for text in ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-03", "2025-02-04"] {
            #expect(!china2025.isWorkingDay(date(text)), "\(text) is in the Spring Festival holiday")
        }
        #expect(china2025.isWorkingDay(date("2025-02-05")))  // Wednesday, the first day back
        #expect(china2025.isWorkingDay(date("2025-02-08")))  // Saturday, adjusted working day
        #expect(!china2025.isWorkingDay(date("2025-02-09")))  // Sunday
        // Without a calendar only weekends are off.
        #expect(!HolidayCalendar.none.isWorkingDay(date("2025-01-26")))
        #expect(HolidayCalendar.none.isWorkingDay(date("2025-01-28")))
    }

    @Test func workingDaysAroundNationalDay() {
        #expect(!china2025.isWorkingDay(date("2025-09-27")))  // Saturday
        #expect(china2025.isWorkingDay(date("2025-09-28")))  // Sunday, adjusted working day
        #expect(china2025.isWorkingDay(date("2025-09-30")))  // Tuesday
        for day in 1...8 {
            #expect(!china2025.isWorkingDay(date("2025-10-0\(day)")), "10-0\(day) is in the National Day holiday")
        }
        #expect(china2025.isWorkingDay(date("2025-10-09")))  // Thursday
        #expect(china2025.isWorkingDay(date("2025-10-11")))  // Saturday, adjusted working day
        #expect(!china2025.isWorkingDay(date("2025-10-12")))  // Sunday
    }

    @Test func findsTheNextWorkingDay() {
        #expect(china2025.nextWorkingDay(onOrAfter: date("2025-01-28")) == date("2025-02-05"))
        #expect(china2025.nextWorkingDay(onOrAfter: date("2025-01-25")) == date("2025-01-26"))  // Sat → adjusted Sun
        #expect(china2025.nextWorkingDay(onOrAfter: date("2025-02-05")) == date("2025-02-05"))
        #expect(china2025.nextWorkingDay(onOrAfter: date("2025-10-01")) == date("2025-10-09"))
    }

    @Test func addsWorkingDaysAcrossTheSpringFestival() {
        // After Friday 01-24: Sun 01-26 is worked (1), Mon 01-27 (2), 01-28..02-04 are the holiday,
        // Wed 02-05 (3), Thu 02-06 (4), Fri 02-07 (5).
        #expect(china2025.adding(workingDays: 5, to: date("2025-01-24")) == date("2025-02-07"))
        #expect(china2025.adding(workingDays: 1, to: date("2025-01-24")) == date("2025-01-26"))
        #expect(china2025.adding(workingDays: 3, to: date("2025-01-24")) == date("2025-02-05"))
        // Without the calendar the five are Mon 01-27 to Fri 01-31.
        #expect(HolidayCalendar.none.adding(workingDays: 5, to: date("2025-01-24")) == date("2025-01-31"))
        // Zero leaves the date alone, even a holiday.
        #expect(china2025.adding(workingDays: 0, to: date("2025-01-28")) == date("2025-01-28"))
        // New Year's Day, Wednesday 01-01, is off: the first working day after 2024-12-31 is Thursday 01-02.
        #expect(china2025.adding(workingDays: 1, to: date("2024-12-31")) == date("2025-01-02"))
    }

    @Test func addsWorkingDaysAcrossNationalDay() {
        // After Friday 09-26: Sun 09-28 is worked (1), Mon 09-29 (2), Tue 09-30 (3),
        // 10-01..10-08 are the holiday, Thu 10-09 (4), Fri 10-10 (5).
        #expect(china2025.adding(workingDays: 5, to: date("2025-09-26")) == date("2025-10-10"))
        // After Friday 10-10: Saturday 10-11 is worked (1), Sunday 10-12 is not, Monday 10-13 (2).
        #expect(china2025.adding(workingDays: 1, to: date("2025-10-10")) == date("2025-10-11"))
        #expect(china2025.adding(workingDays: 2, to: date("2025-10-10")) == date("2025-10-13"))
    }

    @Test func countsWorkingDaysInASpan() {
        // The same spans as above, counted the other way.
        #expect(china2025.workingDays(after: date("2025-01-24"), through: date("2025-02-07")) == 5)
        #expect(china2025.workingDays(after: date("2025-09-26"), through: date("2025-10-10")) == 5)
        // 01-27 is the last working day before the holiday: nothing in (01-27, 02-04].
        #expect(china2025.workingDays(after: date("2025-01-27"), through: date("2025-02-04")) == 0)
        #expect(china2025.workingDays(after: date("2025-01-24"), through: date("2025-01-24")) == 0)
        #expect(china2025.workingDays(after: date("2025-02-07"), through: date("2025-01-24")) == 0)
        // 2025: 261 weekdays, 18 of them holidays (1 + 6 + 1 + 3 + 1 + 6), 5 weekend days worked.
        #expect(china2025.workingDays(after: date("2024-12-31"), through: date("2025-12-31")) == 248)
        // Before 1970 too: Mon 12-29, Tue, Wed, Thu 01-01, Fri 01-02, Mon 01-05.
        #expect(HolidayCalendar.none.workingDays(after: date("1969-12-26"), through: date("1970-01-05")) == 6)
        // December 1969 began on a Monday: 23 weekdays, less the Monday not counted.
        #expect(HolidayCalendar.none.workingDays(after: date("1969-12-01"), through: date("1969-12-31")) == 22)
    }

    /// Counting spans and adding working days agree with checking day by day, around all of 2025.
    @Test func countingAgreesWithCheckingDayByDay() {
        var mismatches: [String] = []
        var start = date("2024-12-01")
        while start <= date("2026-01-31") {
            var expected = 0
            var end = start
            for _ in 0..<40 {
                end = end.adding(days: 1)
                if china2025.isWorkingDay(end) { expected += 1 }
                if china2025.workingDays(after: start, through: end) != expected {
                    mismatches.append("(\(start), \(end)]")
                }
            }
            for count in 1...20 {
                let reached = china2025.adding(workingDays: count, to: start)
                if china2025.workingDays(after: start, through: reached) != count || !china2025.isWorkingDay(reached) {
                    mismatches.append("\(start) + \(count) working days = \(reached)")
                }
            }
            start = start.adding(days: 1)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    // MARK: DeadlineRule

    @Test func oneMonthRollsPastTheSpringFestival() {
        // 2025-01-03 + 1 month = Monday 02-03, in the holiday (01-28..02-04) → Wednesday 02-05.
        #expect(DeadlineRule.citizenProposal.deadline(from: date("2025-01-03"), calendar: china2025) == date("2025-02-05"))
        // Without the calendar 02-03 is an ordinary Monday.
        #expect(DeadlineRule.citizenProposal.deadline(from: date("2025-01-03"), calendar: .none) == date("2025-02-03"))
    }

    @Test func oneMonthRollsPastNationalDay() {
        // 2025-09-01 + 1 month = 10-01, in the holiday (10-01..10-08) → Thursday 10-09.
        #expect(DeadlineRule.citizenProposal.deadline(from: date("2025-09-01"), calendar: china2025) == date("2025-10-09"))
        // 2025-07-08 + 3 months = Wednesday 10-08, the holiday's last day → 10-09.
        #expect(DeadlineRule.ordinaryProposal.deadline(from: date("2025-07-08"), calendar: china2025) == date("2025-10-09"))
    }

    @Test func oneMonthFromAMonthsEnd() {
        // 2025-01-31 + 1 month clamps to 02-28, a Friday and a working day.
        #expect(DeadlineRule.citizenProposal.deadline(from: date("2025-01-31"), calendar: china2025) == date("2025-02-28"))
    }

    @Test func calendarDaysRollPastAWeekend() {
        let thirtyDays = DeadlineRule(amount: 30, unit: .calendarDays)
        // Thursday 2025-02-13 + 30 days = Saturday 03-15 → Monday 03-17.
        #expect(thirtyDays.deadline(from: date("2025-02-13"), calendar: china2025) == date("2025-03-17"))
        // Monday 2025-03-03 + 10 days = Thursday 03-13, already a working day.
        #expect(
            DeadlineRule(amount: 10, unit: .calendarDays).deadline(from: date("2025-03-03"), calendar: china2025)
                == date("2025-03-13"))
    }

    @Test func workingDaysAcrossNationalDay() {
        // After Friday 09-26: 09-28 (1), 09-29 (2), 09-30 (3), 10-09 (4), 10-10 (5), Sat 10-11 (6),
        // 10-13..10-17 (7-11), 10-20 (12), 10-21 (13), 10-22 (14), Thursday 10-23 (15).
        let fifteen = DeadlineRule(amount: 15, unit: .workingDays)
        #expect(fifteen.deadline(from: date("2025-09-26"), calendar: china2025) == date("2025-10-23"))
    }

    @Test func rulesOutsideTheirRangeHaveAProblem() {
        #expect(DeadlineRule.citizenProposal.problem == nil)
        #expect(DeadlineRule.ordinaryProposal.problem == nil)
        #expect(DeadlineRule(amount: 0, unit: .months).problem != nil)
        #expect(DeadlineRule(amount: -1, unit: .calendarDays).problem != nil)
        #expect(DeadlineRule(amount: 12, unit: .months).problem == nil)
        #expect(DeadlineRule(amount: 13, unit: .months).problem != nil)
        #expect(DeadlineRule(amount: 366, unit: .calendarDays).problem == nil)
        #expect(DeadlineRule(amount: 367, unit: .calendarDays).problem != nil)
        #expect(DeadlineRule(amount: 250, unit: .workingDays).problem == nil)
        #expect(DeadlineRule(amount: 251, unit: .workingDays).problem != nil)
    }

    @Test func rulesDescribeThemselvesInChinese() throws {
        #expect(DeadlineRule.citizenProposal.description == "1个月")
        #expect(DeadlineRule.ordinaryProposal.description == "3个月")
        #expect(DeadlineRule(amount: 30, unit: .calendarDays).description == "30日")
        #expect(DeadlineRule(amount: 15, unit: .workingDays).description == "15个工作日")
        let rule = DeadlineRule(amount: 15, unit: .workingDays)
        #expect(try JSONDecoder().decode(DeadlineRule.self, from: JSONEncoder().encode(rule)) == rule)
        #expect(DeadlineRule.Unit.workingDays.rawValue == "working-days")
    }

    // MARK: ContestWindow

    @Test func contestWindowEndsAfterFiveWorkingDays() {
        let window = ContestWindow()
        #expect(window.workingDays == 5)
        // Assigned Friday 09-26: 09-28, 09-29, 09-30, 10-09, 10-10 → last day 10-10.
        let assigned = date("2025-09-26")
        #expect(window.lastDay(assignedOn: assigned, calendar: china2025) == date("2025-10-10"))
        #expect(window.isOpen(on: assigned, assignedOn: assigned, calendar: china2025))
        #expect(window.isOpen(on: date("2025-10-03"), assignedOn: assigned, calendar: china2025))
        #expect(window.isOpen(on: date("2025-10-10"), assignedOn: assigned, calendar: china2025))
        // 10-11 is an adjusted working Saturday, but it comes after the last day.
        #expect(!window.isOpen(on: date("2025-10-11"), assignedOn: assigned, calendar: china2025))
        #expect(!window.isOpen(on: date("2025-09-25"), assignedOn: assigned, calendar: china2025))
    }

    @Test func aZeroDayContestWindowIsOnlyTheDayOfAssignment() {
        let window = ContestWindow(workingDays: 0)
        let assigned = date("2025-09-26")
        #expect(window.lastDay(assignedOn: assigned, calendar: china2025) == assigned)
        #expect(window.isOpen(on: assigned, assignedOn: assigned, calendar: china2025))
        #expect(!window.isOpen(on: date("2025-09-27"), assignedOn: assigned, calendar: china2025))
    }
}
