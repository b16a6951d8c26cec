import AshraiCore
import Foundation
import Testing

@Suite("terms basis, the business clock, legal identifiers")
struct BusinessCalendarTests {
    static func day(_ iso: String) -> Int {
        let parts = iso.split(separator: "-").map { Int($0)! }
        return CivilDay.day(year: parts[0], month: parts[1], day: parts[2])
    }

    static func iso(_ day: Int) -> String {
        let (y, m, d) = CivilDay.components(day)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    static func due(_ issue: String, _ basis: TermsBasis, _ days: Int) -> String {
        iso(basis.dueDay(issueDay: day(issue), netDays: days))
    }

    @Test("civil days round-trip over four centuries, leap days included")
    func civilRoundTrip() {
        #expect(Self.day("1970-01-01") == 0)
        #expect(Self.iso(Self.day("2000-02-29")) == "2000-02-29")
        for value in stride(from: Self.day("1900-01-01"), through: Self.day("2300-12-31"), by: 37) {
            let (y, m, d) = CivilDay.components(value)
            #expect(CivilDay.day(year: y, month: m, day: d) == value)
        }
        #expect(CivilDay.daysIn(month: 2, year: 1900) == 28)
        #expect(CivilDay.daysIn(month: 2, year: 2000) == 29)
        #expect(CivilDay.daysIn(month: 2, year: 2028) == 29)
    }

    @Test("net + N counts from the issue date")
    func net() {
        #expect(Self.due("2026-01-15", .net, 30) == "2026-02-14")
        #expect(Self.due("2026-01-31", .net, 30) == "2026-03-02")
        #expect(Self.due("2026-12-20", .net, 30) == "2027-01-19")
        #expect(Self.due("2026-05-10", .net, 0) == "2026-05-10")
    }

    @Test("שוטף + N counts from the last day of the issue month")
    func endOfMonth() {
        // Any day of January → 31 Jan + 30 = 2 March (a common year).
        #expect(Self.due("2026-01-01", .end_of_month, 30) == "2026-03-02")
        #expect(Self.due("2026-01-31", .end_of_month, 30) == "2026-03-02")
        // February in a common year ends on the 28th, in a leap year on the 29th.
        #expect(Self.due("2026-02-10", .end_of_month, 30) == "2026-03-30")
        #expect(Self.due("2028-02-10", .end_of_month, 30) == "2028-03-30")
        #expect(Self.due("2028-02-29", .end_of_month, 0) == "2028-02-29")
        #expect(Self.due("2026-02-01", .end_of_month, 0) == "2026-02-28")
        #expect(Self.due("2100-02-15", .end_of_month, 0) == "2100-02-28")   // not a leap year
        #expect(Self.due("2000-02-15", .end_of_month, 0) == "2000-02-29")   // a leap year
        // December into January (and the next year).
        #expect(Self.due("2026-12-05", .end_of_month, 60) == "2027-03-01")
        #expect(Self.due("2026-12-31", .end_of_month, 1) == "2027-01-01")
        // N = 0 is the last day of the month.
        #expect(Self.due("2026-04-01", .end_of_month, 0) == "2026-04-30")
        #expect(Self.due("2026-04-30", .end_of_month, 0) == "2026-04-30")
        // 30-day months.
        #expect(Self.due("2026-11-29", .end_of_month, 90) == "2027-02-28")
    }

    @Test("terms print in the customer's language")
    func describe() {
        #expect(TermsBasis.end_of_month.describe(netDays: 60, language: "he") == "שוטף + 60")
        #expect(TermsBasis.end_of_month.describe(netDays: 60, language: "en") == "end of month + 60")
        #expect(TermsBasis.net.describe(netDays: 30, language: "en") == "net 30")
        #expect(TermsBasis.net.describe(netDays: 30, language: "he") == "נטו 30")
    }

    static func instant(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    static let israel = BusinessClock(timeZone: TimeZone(identifier: "Asia/Jerusalem")!)

    @Test("00:30 in Israel is already tomorrow while UTC still shows yesterday")
    func israelMidnight() {
        // Winter (UTC+2): 00:30 local on 1 Dec = 22:30 UTC on 30 Nov.
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-11-30T22:30:00Z"))) == "2026-12-01")
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-11-30T21:59:59Z"))) == "2026-11-30")
        #expect(Self.israel.minuteOfDay(at: Self.instant("2026-11-30T22:30:00Z")) == 30)
        // Summer (UTC+3): 00:30 local on 1 Jul = 21:30 UTC on 30 Jun.
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-06-30T21:30:00Z"))) == "2026-07-01")
        // A UTC clock would still say the day before.
        let utc = BusinessClock(timeZone: TimeZone(identifier: "UTC")!)
        #expect(Self.iso(utc.day(at: Self.instant("2026-11-30T22:30:00Z"))) == "2026-11-30")
    }

    @Test("across the switch to and from daylight saving time (27 Mar and 25 Oct 2026)")
    func daylightSaving() {
        // Into summer time: clocks jump 02:00 → 03:00 on Friday 27 March 2026.
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-03-26T22:30:00Z"))) == "2026-03-27")   // 00:30 IST
        #expect(Self.israel.minuteOfDay(at: Self.instant("2026-03-26T22:30:00Z")) == 30)
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-03-27T21:30:00Z"))) == "2026-03-28")   // 00:30 IDT
        #expect(Self.israel.minuteOfDay(at: Self.instant("2026-03-27T21:30:00Z")) == 30)
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-03-27T20:59:59Z"))) == "2026-03-27")   // 23:59:59 IDT
        // Back to winter time: 02:00 → 01:00 on Sunday 25 October 2026.
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-10-24T21:30:00Z"))) == "2026-10-25")   // 00:30 IDT
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-10-25T22:30:00Z"))) == "2026-10-26")   // 00:30 IST
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-10-25T21:59:59Z"))) == "2026-10-25")   // 23:59:59 IST
        // The repeated hour on 25 October is still the 25th.
        #expect(Self.iso(Self.israel.day(at: Self.instant("2026-10-24T23:30:00Z"))) == "2026-10-25")
    }

    @Test("the next run at a local hour: 06:00 Israel time is 04:00 UTC in winter, 03:00 in summer")
    func nextLocalHour() {
        #expect(Self.israel.secondsUntil(minuteOfDay: 360, from: Self.instant("2026-12-01T03:00:00Z")) == 3600)
        #expect(Self.israel.secondsUntil(minuteOfDay: 360, from: Self.instant("2026-07-01T02:00:00Z")) == 3600)
        // Just after: tomorrow.
        #expect(Self.israel.secondsUntil(minuteOfDay: 360, from: Self.instant("2026-12-01T04:00:01Z")) == 86_399)
    }

    @Test("real Israeli company and identity numbers pass and come back as 9 digits")
    func legalIDValid() throws {
        // Company numbers (ח.פ.) of listed companies, and the textbook identity number.
        for (given, stored) in [("520013954", "520013954"), ("52-001807-8", "520018078"), ("520000118", "520000118"),
                                ("520043027", "520043027"), ("123456782", "123456782"), (" 51 000 000 3 ", "510000003")] {
            #expect(try LegalID.israeli(given) == stored)
        }
        // Shorter numbers are padded on the left: 12345674 → 012345674 (check digit holds).
        #expect(try LegalID.israeli("12345674") == "012345674")
        // Outside Israel the text is stored as given (trimmed).
        #expect(try LegalID.normalized(" DE123456789 ", country: "DE") == "DE123456789")
    }

    @Test("one changed digit fails the check digit, and the message says so")
    func legalIDOneDigitChanged() {
        for valid in ["520013954", "520018078", "520000118", "520043027", "123456782"] {
            for position in 0..<9 {
                var digits = Array(valid)
                let original = digits[position].wholeNumberValue!
                digits[position] = Character(String((original + 1) % 10))
                #expect(throws: LegalID.Problem.self) { try LegalID.israeli(String(digits)) }
            }
        }
        do {
            _ = try LegalID.israeli("520013955")
            Issue.record("accepted a wrong check digit")
        } catch {
            #expect(error.message.contains("check digit"))
            #expect(error.message.contains("should be 4"))
        }
    }

    @Test("letters, too many digits and zeros are refused with the reason")
    func legalIDShape() {
        func message(_ text: String) -> String {
            do { _ = try LegalID.israeli(text); return "" } catch { return error.message }
        }
        #expect(message("52001395A").contains("only digits"))
        #expect(message("5200139540").contains("more than 9"))
        #expect(message("000000000").contains("zeros"))
        #expect(message("").contains("no digits"))
    }
}

@Suite("strict instants and the date window")
struct InstantTests {
    @Test("RFC 3339 instants parse exactly, with offsets and fractions")
    func valid() {
        #expect(RFC3339.parse("2026-11-30T22:30:00Z")?.timeIntervalSince1970 == 1_796_077_800)
        #expect(RFC3339.parse("2026-12-01T00:30:00+02:00")?.timeIntervalSince1970 == 1_796_077_800)
        #expect(RFC3339.parse("2026-11-30T17:30:00-05:00")?.timeIntervalSince1970 == 1_796_077_800)
        #expect(RFC3339.parse("2026-11-30T22:30:00.250Z")?.timeIntervalSince1970 == 1_796_077_800.25)
        #expect(RFC3339.parse("2028-02-29T00:00:00Z") != nil)
    }

    @Test("30 February, hour 24, a leap second, offset +99:99, missing zone and junk are refused")
    func invalid() {
        for text in ["2026-02-30T10:00:00Z", "2026-02-29T10:00:00Z", "2026-11-30T24:00:00Z", "2026-11-30T23:59:60Z",
                     "2026-11-30T10:00:00+99:99", "2026-11-30T10:00:00+02:60", "2026-11-30T10:00:00", "2026-11-30 10:00:00Z",
                     "2026-13-01T00:00:00Z", "2026-11-30T10:00:00.Z", "2026-11-30T10:00:00Zjunk", "0000-00-00T00:00:00Z", ""] {
            #expect(RFC3339.parse(text) == nil, "\(text)")
        }
    }

    @Test("the window is 1900-01-01 … 2199-12-31")
    func window() {
        #expect(DateWindow.contains(CivilDay.day(year: 1900, month: 1, day: 1)))
        #expect(DateWindow.contains(CivilDay.day(year: 2199, month: 12, day: 31)))
        #expect(!DateWindow.contains(CivilDay.day(year: 1899, month: 12, day: 31)))
        #expect(!DateWindow.contains(CivilDay.day(year: 2200, month: 1, day: 1)))
        #expect(!DateWindow.contains(CivilDay.day(year: 9999, month: 12, day: 31)))
    }
}

@Suite("usernames and passwords people cannot be fooled by or guess")
struct CredentialRuleTests {
    @Test("usernames: a safe alphabet; look-alikes, invisible and bidi characters are refused")
    func usernames() {
        for good in ["dana", "dana.levi", "d_levi-2", "dana@bakery.example", "Root-Admin"] { #expect(Username.problem(with: good) == nil, "\(good)") }
        for bad in ["admin\u{202E}txt", "ad\u{200B}min", "\u{0430}dmin", "דנה", "dana levi", "", "-dash", ".dot", String(repeating: "a", count: 65)] {
            #expect(Username.problem(with: bad) != nil, "\(bad)")
        }
    }

    @Test("passwords: common ones (with digits around them), runs, sequences, the username and the product's name are refused")
    func passwords() {
        let common: Set<String> = ["password", "letmein", "dragon"]
        for bad in ["password1234", "Password1234!", "1234password!!", "aaaaaaaaaaaa", "abababababab", "abcdefghijkl", "qwertyuiopas",
                    "123456789012", "lkjhgfdsapoi", "dana.levi-is-me", "my ashrai password"] {
            #expect(PasswordPolicy.problem(with: bad, username: "dana.levi", common: common) != nil, "\(bad)")
        }
        for good in ["correct horse battery staple", "dragon fruit on a tuesday", "שלום עולם ומלואו 2026"] {
            #expect(PasswordPolicy.problem(with: good, username: "dana.levi", common: common) == nil, "\(good)")
        }
        #expect(PasswordPolicy.problem(with: "short") != nil)
    }
}
