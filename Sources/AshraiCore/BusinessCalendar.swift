import Foundation
// CivilDay is the calendar arithmetic PostgresDate shares; re-exported so AshraiCore users see it.
@_exported import CivilCalendar

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

/// The days a client may name: 1900-01-01 through 2199-12-31. Every date and instant param
/// is held to it, so nothing a client sends can store a day PostgreSQL or a reader cannot
/// take back (a year 10000 `next_review_on` once broke every customer list).
public enum DateWindow {
    /// 1900-01-01.
    public static let first = CivilDay.day(year: 1900, month: 1, day: 1)
    /// 2199-12-31.
    public static let last = CivilDay.day(year: 2199, month: 12, day: 31)
    /// Whether `day` is inside the window.
    public static func contains(_ day: Int) -> Bool { (first...last).contains(day) }
    /// For messages.
    public static let text = "1900-01-01 and 2199-12-31"
}

/// Strict RFC 3339 instants: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. A day that does not
/// exist (30 February), an hour past 23, a leap second or an offset past ±23:59 is refused —
/// never rolled over into another instant as a lenient formatter would.
public enum RFC3339 {
    /// The instant, or nil when `text` is not a valid RFC 3339 date-time.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 40 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let year = number(0, 4), b[4] == UInt8(ascii: "-"), let month = number(5, 2), b[7] == UInt8(ascii: "-"),
              let day = number(8, 2), [UInt8(ascii: "T"), UInt8(ascii: "t")].contains(b[10]),
              let hour = number(11, 2), b[13] == UInt8(ascii: ":"), let minute = number(14, 2), b[16] == UInt8(ascii: ":"),
              let second = number(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDay.daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59 else { return nil }
        var index = 19
        var fraction = 0.0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57, index - start < 9 {
                fraction += Double(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < b.count else { return nil }
        var offset = 0
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = number(index + 1, 2), index + 3 < b.count, b[index + 3] == UInt8(ascii: ":"),
                  let om = number(index + 4, 2), oh <= 23, om <= 59 else { return nil }
            offset = (oh * 3600 + om * 60) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        let days = CivilDay.day(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
