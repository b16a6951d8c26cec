import Foundation

/// Calendar days counted from 1970-01-01 (the unit every AshraiCore rule uses for a day),
/// converted to and from the proleptic Gregorian year, month and day.
public enum CivilDay {
    /// The day number of `year-month-day`.
    public static func day(year: Int, month: Int, day: Int) -> Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The year, month and day of a day number.
    public static func components(_ days: Int) -> (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days in a month (February 29 in leap years).
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The last day of the month that `days` falls in.
    public static func endOfMonth(_ days: Int) -> Int {
        let (year, month, _) = components(days)
        return day(year: year, month: month, day: daysIn(month: month, year: year))
    }
}

/// How the days to pay are counted: from the invoice's date (`net`), or from the end of the
/// month it was issued in (`end_of_month`, Hebrew שוטף — "שוטף + 60" is how Israeli
/// businesses write their terms).
public enum TermsBasis: String, Sendable, CaseIterable, Codable {
    case net
    case end_of_month

    /// The due day of an invoice issued on `issueDay` with `netDays` to pay: the issue day + N,
    /// or the last day of the issue month + N (שוטף + 0 is the month's last day).
    public func dueDay(issueDay: Int, netDays: Int) -> Int {
        switch self {
        case .net: return issueDay + netDays
        case .end_of_month: return CivilDay.endOfMonth(issueDay) + netDays
        }
    }

    /// The terms as a customer reads them: "net 30" / "end of month + 60" in English,
    /// "נטו 30" / "שוטף + 60" in Hebrew.
    public func describe(netDays: Int, language: String) -> String {
        switch (self, language) {
        case (.net, "he"): return "נטו \(netDays)"
        case (.end_of_month, "he"): return "שוטף + \(netDays)"
        case (.net, _): return "net \(netDays)"
        case (.end_of_month, _): return "end of month + \(netDays)"
        }
    }
}

/// The business's clock: "today" is the calendar day on the business's wall clock, not in
/// UTC (from midnight to 02:00 or 03:00 in Israel, UTC still shows yesterday). Every rule
/// that depends on today asks this one clock.
public struct BusinessClock: Sendable {
    /// The business's time zone (`business.timezone`, default Asia/Jerusalem).
    public let timeZone: TimeZone
    /// The instant now (the system clock; tests pass a fixed one).
    public let now: @Sendable () -> Date

    /// A clock in `timeZone`, reading `now`.
    public init(timeZone: TimeZone, now: @escaping @Sendable () -> Date = { Date() }) {
        self.timeZone = timeZone
        self.now = now
    }

    /// The default zone.
    public static let defaultTimeZoneIdentifier = "Asia/Jerusalem"

    /// The local calendar day (days since 1970-01-01) at `instant`.
    public func day(at instant: Date) -> Int {
        let local = Int((instant.timeIntervalSince1970).rounded(.down)) + timeZone.secondsFromGMT(for: instant)
        return local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
    }

    /// The local minute of the day (0…1439) at `instant`.
    public func minuteOfDay(at instant: Date) -> Int {
        let local = Int((instant.timeIntervalSince1970).rounded(.down)) + timeZone.secondsFromGMT(for: instant)
        return ((local % 86_400 + 86_400) % 86_400) / 60
    }

    /// Today, as a day number.
    public var today: Int { day(at: now()) }

    /// Seconds from `instant` to the next local `minuteOfDay`, counted on the wall clock (a
    /// switch to or from daylight saving time in between makes it up to an hour off, so a
    /// caller that must be on time wakes again well before: see `DunningScheduler`).
    public func secondsUntil(minuteOfDay target: Int, from instant: Date) -> Int {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down))
        let local = seconds + timeZone.secondsFromGMT(for: instant)
        let secondOfDay = (local % 86_400 + 86_400) % 86_400
        let until = target * 60 - secondOfDay
        return until > 0 ? until : until + 86_400
    }
}

/// Legal identifiers of customers. In Israel a company number (ח.פ.), an authorised dealer
/// number (עוסק מורשה) and an identity number (ת.ז.) share one form: 9 digits (shorter ones
/// padded with zeros on the left) whose last digit is a check digit — the digits weighted
/// 1, 2, 1, 2, …, each product's digits added, the total a multiple of 10.
public enum LegalID {
    /// Why a number is not valid; `message` says which check failed.
    public struct Problem: Error, Equatable, Sendable {
        public var message: String
    }

    /// The stored form for `country`: for IL the 9 digits, checked; elsewhere the trimmed text.
    public static func normalized(_ text: String, country: String) throws(Problem) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard country.uppercased() == "IL" else { return trimmed }
        return try israeli(trimmed)
    }

    /// An Israeli number: separators (space, `-`, `.`, `/`) dropped, 1–9 digits, padded to 9,
    /// check digit verified.
    public static func israeli(_ text: String) throws(Problem) -> String {
        var digits: [Int] = []
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9": digits.append(Int(scalar.value) - 48)
            case " ", "-", ".", "/", "\u{2010}", "\u{2011}", "\u{2013}": continue
            default:
                throw Problem(message: "legal_id may hold only digits (and spaces or hyphens); found \"\(Character(scalar))\"")
            }
            guard digits.count <= 9 else { break }
        }
        guard !digits.isEmpty else { throw Problem(message: "legal_id has no digits") }
        guard digits.count <= 9 else {
            throw Problem(message: "legal_id has more than 9 digits; a company number (ח.פ.), dealer number or identity number has 9")
        }
        let padded = [Int](repeating: 0, count: 9 - digits.count) + digits
        guard padded.contains(where: { $0 != 0 }) else { throw Problem(message: "legal_id cannot be all zeros") }
        let total = checksum(padded)
        guard total % 10 == 0 else {
            let expected = (padded[8] + (10 - total % 10)) % 10
            throw Problem(message: "legal_id fails the check digit: the last digit should be \(expected), not \(padded[8]) (digits weighted 1, 2, 1, 2, …; the sum must be a multiple of 10)")
        }
        return padded.map(String.init).joined()
    }

    /// The weighted digit sum (weights 1, 2, 1, 2, …; a product over 9 counts its digits' sum).
    static func checksum(_ digits: [Int]) -> Int {
        var total = 0
        for (index, digit) in digits.enumerated() {
            let product = digit * (index % 2 == 0 ? 1 : 2)
            total += product > 9 ? product - 9 : product
        }
        return total
    }
}
