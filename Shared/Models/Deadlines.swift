import Foundation

extension TimeZone {
    /// China Standard Time. Where the time-zone database is missing (slim containers) a fixed UTC+8
    /// is the same thing, as China has kept no daylight saving time since 1991.
    public static let chinaTime = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!

    /// Districts keep China time unless they are configured otherwise.
    public static let districtDefault = chinaTime
}

/// A calendar day in a district's own time zone, without a time: reply limits are counted in
/// whole days as the committee office sees them, so "on time" never depends on the server's zone.
public struct LocalDate: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// The years a date may be written with; arithmetic may step outside them, parsing may not.
    private static let writableYears = 1900...9999

    /// A real Gregorian date in the years 1900 to 9999.
    public init?(year: Int, month: Int, day: Int) {
        guard Self.writableYears.contains(year), (1...12).contains(month),
            (1...Self.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.init(uncheckedYear: year, month: month, day: day)
    }

    private init(uncheckedYear year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Exactly `YYYY-MM-DD` with ASCII digits, as in JSON and query strings.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Self.number(bytes[0..<4]), let month = Self.number(bytes[5..<7]),
            let day = Self.number(bytes[8..<10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// `YYYY-MM-DD`, zero-padded.
    public var description: String {
        Self.padded(year, to: 4) + "-" + Self.padded(month, to: 2) + "-" + Self.padded(day, to: 2)
    }

    private static func padded(_ value: Int, to width: Int) -> String {
        let digits = String(value.magnitude)
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a date as YYYY-MM-DD")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    // MARK: Instants

    /// The day an instant falls on in a district's time zone: 23:30 UTC is already tomorrow in Beijing.
    public static func on(_ instant: Date, in timeZone: TimeZone) -> LocalDate {
        let parts = gregorian(in: timeZone).dateComponents([.year, .month, .day], from: instant)
        return LocalDate(uncheckedYear: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }

    /// The first instant of this day in the time zone (midnight, or the first instant after it
    /// where daylight saving skips midnight).
    public func start(in timeZone: TimeZone) -> Date {
        let calendar = Self.gregorian(in: timeZone)
        // Noon always exists, and the start of its day is where the day really begins.
        let noon = DateComponents(year: year, month: month, day: day, hour: 12)
        guard let instant = calendar.date(from: noon) else {
            return Date(timeIntervalSince1970: TimeInterval(dayNumber * 86_400 - timeZone.secondsFromGMT()))
        }
        return calendar.startOfDay(for: instant)
    }

    private static func gregorian(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    // MARK: Arithmetic

    /// Days since 1970-01-01 (days-from-civil), so that counting days is subtraction.
    public var dayNumber: Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivMod(shiftedYear, 400).quotient
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `dayNumber` days after 1970-01-01 (civil-from-days); negative numbers are earlier.
    public init(dayNumber: Int) {
        let shifted = dayNumber + 719_468
        let era = floorDivMod(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.init(uncheckedYear: year, month: month, day: day)
    }

    public func adding(days: Int) -> LocalDate {
        LocalDate(dayNumber: dayNumber + days)
    }

    /// How many days from this date to `other`; negative when `other` is earlier.
    public func days(until other: LocalDate) -> Int {
        other.dayNumber - dayNumber
    }

    public var weekday: Weekday {
        // Day 0, 1970-01-01, was a Thursday.
        Weekday(rawValue: floorDivMod(dayNumber + 3, 7).remainder + 1)!
    }

    /// The same day `months` later (or earlier), clamped to the end of a shorter month:
    /// 31 January plus one month is the last day of February.
    public func adding(months: Int) -> LocalDate {
        let target = floorDivMod(year * 12 + (month - 1) + months, 12)
        let newYear = target.quotient
        let newMonth = target.remainder + 1
        return LocalDate(
            uncheckedYear: newYear, month: newMonth, day: min(day, Self.daysInMonth(year: newYear, month: newMonth)))
    }

    /// Days in a Gregorian month; 0 for a month outside 1...12.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeapYear(year) ? 29 : 28
        default: 0
        }
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }
}

/// ISO weekday numbering, Monday first, as on Chinese calendars.
public enum Weekday: Int, Sendable, CaseIterable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    public var isWeekend: Bool { self == .saturday || self == .sunday }

    fileprivate var englishName: String {
        switch self {
        case .monday: "Monday"
        case .tuesday: "Tuesday"
        case .wednesday: "Wednesday"
        case .thursday: "Thursday"
        case .friday: "Friday"
        case .saturday: "Saturday"
        case .sunday: "Sunday"
        }
    }
}

/// Division rounding down, so that days before 1970 fall into the right week, month and era.
private func floorDivMod(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
    let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
    return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
}

/// A district's official calendar of public holidays (法定节假日) and adjusted working days
/// (调休上班: a Saturday or Sunday worked to make up for a bridged holiday). The State Council
/// publishes it each year, so staff enter it; weekends and weekdays alone would miss both.
public struct HolidayCalendar: Sendable, Hashable, Codable {
    public struct Day: Codable, Sendable, Hashable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            case holiday
            case workingDay = "working-day"
        }

        public var date: LocalDate
        public var kind: Kind
        /// What the day is for (春节, 国庆节调休), shown where a deadline moved because of it.
        public var name: String

        public init(date: LocalDate, kind: Kind, name: String) {
            self.date = date
            self.kind = kind
            self.name = name
        }
    }

    private let byDate: [LocalDate: Day]

    /// Where a date is given twice the later entry wins; `problems(in:)` reports it first.
    public init(days: [Day]) {
        byDate = Dictionary(days.map { ($0.date, $0) }, uniquingKeysWith: { _, later in later })
    }

    /// Plain weekends: for tests and for districts that have not entered their calendar yet.
    public static let none = HolidayCalendar(days: [])

    /// The entries in date order.
    public var days: [Day] { byDate.values.sorted { $0.date < $1.date } }

    /// The holiday or adjusted working day on a date, if it is one.
    public func day(on date: LocalDate) -> Day? { byDate[date] }

    /// Everything wrong with a calendar as staff entered it, one message per problem, each
    /// starting with the date, so that all of them can be fixed in one go.
    public static func problems(in days: [Day]) -> [String] {
        var problems: [String] = []
        var seen: Set<LocalDate> = []
        var reported: Set<LocalDate> = []
        for entry in days {
            if !seen.insert(entry.date).inserted, reported.insert(entry.date).inserted {
                problems.append("\(entry.date): the date is given more than once")
            }
            if entry.kind == .workingDay, !entry.date.weekday.isWeekend {
                problems.append(
                    "\(entry.date): an adjusted working day must be a Saturday or Sunday, not a \(entry.date.weekday.englishName)")
            }
            if entry.name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problems.append("\(entry.date): the name is empty")
            }
        }
        return problems
    }

    /// How far a scan for working days goes: ten years, so that a calendar without working
    /// days cannot hang a service.
    private static let scanLimit = 3660

    public func isWorkingDay(_ date: LocalDate) -> Bool {
        if let kind = byDate[date]?.kind { return kind == .workingDay }
        return !date.weekday.isWeekend
    }

    /// `date` itself when it is a working day, else the first working day after it
    /// (or the day ten years on, for a calendar without working days).
    public func nextWorkingDay(onOrAfter date: LocalDate) -> LocalDate {
        var candidate = date
        var scanned = 0
        while !isWorkingDay(candidate), scanned < Self.scanLimit {
            candidate = candidate.adding(days: 1)
            scanned += 1
        }
        return candidate
    }

    /// The `count`-th working day after `date`, not counting `date` itself; `date` for 0.
    /// The scan stops ten years on, so absurd counts come back short rather than hang.
    public func adding(workingDays count: Int, to date: LocalDate) -> LocalDate {
        precondition(count >= 0, "a number of working days to add cannot be negative")
        var current = date
        var remaining = count
        var scanned = 0
        while remaining > 0, scanned < Self.scanLimit {
            current = current.adding(days: 1)
            scanned += 1
            if isWorkingDay(current) { remaining -= 1 }
        }
        return current
    }

    /// Working days in (`start`, `end`]: those used up by a unit assigned on `start` by the end of `end`.
    public func workingDays(after start: LocalDate, through end: LocalDate) -> Int {
        guard start < end else { return 0 }
        // Count Monday to Friday arithmetically, then correct for the calendar's entries.
        var count = Self.weekdays(through: end.dayNumber) - Self.weekdays(through: start.dayNumber)
        for entry in byDate.values where start < entry.date && entry.date <= end {
            let isWeekday = !entry.date.weekday.isWeekend
            switch entry.kind {
            case .holiday: if isWeekday { count -= 1 }
            case .workingDay: if !isWeekday { count += 1 }
            }
        }
        return count
    }

    /// Mondays to Fridays among the days up to day number `n`, counted from day 4 (1970-01-05,
    /// a Monday) and continued below it, so that the difference of two counts fits any span.
    private static func weekdays(through n: Int) -> Int {
        let weeks = floorDivMod(n - 3, 7)
        return 5 * weeks.quotient + min(weeks.remainder, 5)
    }

    private enum CodingKeys: String, CodingKey {
        case days
    }

    /// Decoding does not reject problems, so that the API can list them all (422) rather than fail on the first.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let days = try container.decode([Day].self, forKey: .days)
        self.init(days: days)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(days, forKey: .days)
    }
}

/// How long a handling unit has to reply, counted from the day of assignment.
public struct DeadlineRule: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Codable, Sendable, CaseIterable {
        case calendarDays = "calendar-days"
        case workingDays = "working-days"
        case months

        /// About a year: anything longer is a typing mistake, not a reply limit.
        public var maximumAmount: Int {
            switch self {
            case .calendarDays: 366
            case .workingDays: 250
            case .months: 12
            }
        }

        fileprivate var englishName: String {
            switch self {
            case .calendarDays: "calendar days"
            case .workingDays: "working days"
            case .months: "months"
            }
        }
    }

    public var amount: Int
    public var unit: Unit

    public init(amount: Int, unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// 百姓提案: a reply within one month of assignment.
    public static let citizenProposal = DeadlineRule(amount: 1, unit: .months)
    public static let ordinaryProposal = DeadlineRule(amount: 3, unit: .months)

    /// The last day on which a reply is on time; `start`, the day of assignment, is day 0.
    /// A deadline in calendar days or months that falls on a holiday or weekend moves to the
    /// next working day (期限的最后一日是节假日的，以节假日后的第一日为期限届满的日期); one in
    /// working days always ends on a working day. A negative amount counts as 0.
    public func deadline(from start: LocalDate, calendar: HolidayCalendar) -> LocalDate {
        let count = max(amount, 0)
        switch unit {
        case .calendarDays: return calendar.nextWorkingDay(onOrAfter: start.adding(days: count))
        case .months: return calendar.nextWorkingDay(onOrAfter: start.adding(months: count))
        case .workingDays: return calendar.adding(workingDays: count, to: start)
        }
    }

    /// Why the rule cannot be used, or nil when it can.
    public var problem: String? {
        if amount < 1 { return "the amount must be at least 1, not \(amount)" }
        if amount > unit.maximumAmount {
            return "the amount may be at most \(unit.maximumAmount) \(unit.englishName), not \(amount)"
        }
        return nil
    }

    /// For display: 1个月, 30日, 15个工作日.
    public var description: String {
        switch unit {
        case .calendarDays: "\(amount)日"
        case .workingDays: "\(amount)个工作日"
        case .months: "\(amount)个月"
        }
    }
}

/// How long a handling unit may contest an assignment that is not its business, in working
/// days after the day of assignment; after that it must handle the proposal.
public struct ContestWindow: Codable, Sendable, Hashable {
    public var workingDays: Int

    public init(workingDays: Int = 5) {
        self.workingDays = workingDays
    }

    /// The last day a contest is accepted; a negative window counts as 0, the day of assignment only.
    public func lastDay(assignedOn: LocalDate, calendar: HolidayCalendar) -> LocalDate {
        calendar.adding(workingDays: max(workingDays, 0), to: assignedOn)
    }

    /// Whether a contest on `day` is in time; before the assignment there is nothing to contest.
    public func isOpen(on day: LocalDate, assignedOn: LocalDate, calendar: HolidayCalendar) -> Bool {
        assignedOn <= day && day <= lastDay(assignedOn: assignedOn, calendar: calendar)
    }
}
