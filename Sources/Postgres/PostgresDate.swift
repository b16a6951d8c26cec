import CivilCalendar
import Foundation

/// A calendar day as PostgreSQL's `date` holds it: no time, no zone.
public struct PostgresDate: Hashable, Comparable, Sendable, CustomStringConvertible, PostgresCodable {
    /// The year (1…9999 here).
    public let year: Int
    /// The month, 1…12.
    public let month: Int
    /// The day of the month, 1…31.
    public let day: Int

    /// Creates a date, or nil if the day does not exist (Feb 30, month 13, …).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= PostgresDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` exactly (no time, no zone, no BC).
    public init?(iso text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The day `days` after 1970-01-01 (negative before).
    public init(daysSinceEpoch days: Int) {
        (year, month, day) = CivilDay.components(days)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int { CivilDay.day(year: year, month: month, day: day) }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: PostgresDate, rhs: PostgresDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Days in a month (February 29 in leap years).
    public static func daysIn(month: Int, year: Int) -> Int { CivilDay.daysIn(month: month, year: year) }

    public func postgresBind() throws -> PostgresBindValue { .text(description, .date) }

    public init(postgresText text: String, type: PostgresDataType) throws {
        guard let date = PostgresDate(iso: text) else {
            throw PostgresDecodingFailure("not a YYYY-MM-DD date (infinity and BC dates are not supported)")
        }
        self = date
    }
}

// MARK: - Instants (timestamptz), always UTC on our sessions

extension Date: PostgresCodable {
    public func postgresBind() throws -> PostgresBindValue {
        .text(PostgresTimestamp.text(of: self), .timestamptz)
    }

    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try PostgresTimestamp.date(from: text)
    }
}

/// Text conversion for `timestamptz` with the session's `DateStyle=ISO` and `TimeZone=UTC`.
public enum PostgresTimestamp {
    /// `2026-11-29 10:15:00.123456+00`
    public static func text(of date: Date) -> String {
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var days = totalMicros / 86_400_000_000
        var micros = totalMicros % 86_400_000_000
        if micros < 0 { micros += 86_400_000_000; days -= 1 }
        let day = PostgresDate(daysSinceEpoch: Int(days))
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(day) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(fraction, 6))+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]` (an offset other than +00 is honoured).
    public static func date(from text: String) throws -> Date {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, let day = PostgresDate(iso: String(decoding: bytes[0..<10], as: UTF8.self)),
              bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T") else {
            throw PostgresDecodingFailure("not an ISO timestamp")
        }
        var index = 11
        func digits(_ count: Int) throws -> Int64 {
            guard index + count <= bytes.count else { throw PostgresDecodingFailure("not an ISO timestamp") }
            var value: Int64 = 0
            for _ in 0..<count {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    throw PostgresDecodingFailure("not an ISO timestamp")
                }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                index += 1
            }
            return value
        }
        func expect(_ char: Character) throws {
            guard index < bytes.count, bytes[index] == char.asciiValue! else {
                throw PostgresDecodingFailure("not an ISO timestamp")
            }
            index += 1
        }
        let hour = try digits(2); try expect(":")
        let minute = try digits(2); try expect(":")
        let second = try digits(2)
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale: Int64 = 100_000
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                micros += Int64(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else {
                throw PostgresDecodingFailure("not an ISO timestamp")
            }
            index += 1
            var offset = try digits(2) * 3600
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1; offset += try digits(2) * 60 }
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1; offset += try digits(2) }
            offsetSeconds = sign * offset
        }
        guard index == bytes.count else { throw PostgresDecodingFailure("not an ISO timestamp") }
        let seconds = Int64(day.daysSinceEpoch) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

extension PostgresDate: Codable {
    /// Decodes `YYYY-MM-DD` (a row decodes it from the column's text directly).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = PostgresDate(iso: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a date: YYYY-MM-DD")
        }
        self = date
    }

    /// Encodes `YYYY-MM-DD`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
