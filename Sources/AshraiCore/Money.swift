import Foundation

/// An ISO 4217 currency and how many minor units (agorot, cents) it has.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    /// The three-letter code, upper-case.
    public let code: String
    /// Digits after the decimal point (2 for ILS, USD, EUR; 0 for JPY; 3 for KWD).
    public private(set) var minorUnits: Int

    /// Creates a currency from a three-letter code; minor units from ISO 4217 where they are
    /// not 2. Returns nil unless the code is three ASCII letters.
    public init?(code: String) {
        let upper = code.uppercased()
        guard upper.utf8.count == 3, upper.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            return nil
        }
        self.code = upper
        self.minorUnits = Currency.exceptions[upper] ?? 2
    }

    /// Currencies whose minor unit is not 2 (ISO 4217).
    private static let exceptions: [String: Int] = [
        "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0,
        "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0,
        "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    ]

    /// The same code with another number of decimals (for rates parsed like amounts).
    public func withMinorUnits(_ digits: Int) -> Currency {
        var copy = self
        copy.minorUnits = digits
        return copy
    }

    /// Israeli new shekel, the default.
    public static let ils = Currency(code: "ILS")!

    /// The code.
    public var description: String { code }
}

/// An exact amount of money in one currency. Never `Double`.
///
/// On the wire money is a decimal string (`"1250.00"`); `Money.parse` accepts exactly that
/// shape and nothing looser (no exponent, no thousands separators, no more decimals than the
/// currency has), and `text` prints it back with all minor digits.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    /// The amount, with at most `currency.minorUnits` decimals.
    public let amount: Decimal
    /// The currency.
    public let currency: Currency

    /// Why a wire string is not money.
    public enum ParseError: Error, Equatable, Sendable {
        /// Not of the form `-?digits(.digits)?`.
        case notADecimal
        /// More decimals than the currency's minor unit.
        case tooManyDecimals(allowed: Int)
        /// More than 18 integer digits.
        case tooLarge
    }

    /// Wraps an amount, rounding half-even to the currency's minor unit.
    public init(_ amount: Decimal, _ currency: Currency = .ils) {
        self.amount = Money.round(amount, scale: currency.minorUnits)
        self.currency = currency
    }

    /// Parses a wire string strictly.
    public static func parse(_ text: String, currency: Currency = .ils) throws(ParseError) -> Money {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let integer = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !integer.isEmpty else { throw .notADecimal }
        var rest = bytes.dropFirst(integer.count)
        var fractionCount = 0
        if let first = rest.first {
            guard first == UInt8(ascii: "."), rest.count > 1 else { throw .notADecimal }
            rest = rest.dropFirst()
            guard rest.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { throw .notADecimal }
            fractionCount = rest.count
        }
        guard fractionCount <= currency.minorUnits else { throw .tooManyDecimals(allowed: currency.minorUnits) }
        guard integer.drop(while: { $0 == UInt8(ascii: "0") }).count <= 18 else { throw .tooLarge }
        // Exact already (the decimals fit the minor unit), so no rounding: digits → mantissa.
        var mantissa: UInt64 = 0
        var digits = 0
        for byte in bytes where byte != UInt8(ascii: ".") {
            if mantissa == 0 && byte == UInt8(ascii: "0") { continue }
            digits += 1
            mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
        }
        if digits > 19 {   // more than UInt64 holds exactly: the slow, general parser
            guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { throw .notADecimal }
            return Money(value, currency)
        }
        let negative = text.utf8.first == UInt8(ascii: "-") && mantissa != 0
        return Money(exactly: Decimal(sign: negative ? .minus : .plus, exponent: -fractionCount, significand: Decimal(mantissa)), currency)
    }

    private init(exactly amount: Decimal, _ currency: Currency) {
        self.amount = amount
        self.currency = currency
    }

    /// Rounds half-even (banker's rounding) to `scale` decimals.
    public static func round(_ value: Decimal, scale: Int) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, scale, .bankers)
        return result
    }

    /// The amount with exactly `minorUnits` decimals: `"1250.00"`, `"-0.50"`, `"7"` for JPY.
    public var text: String {
        let plain = amount.description   // locale-independent, no exponent at these magnitudes
        let negative = plain.hasPrefix("-")
        let digits = negative ? String(plain.dropFirst()) : plain
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        fraction += String(repeating: "0", count: max(0, currency.minorUnits - fraction.count))
        let body = currency.minorUnits == 0 ? String(parts[0]) : "\(parts[0]).\(fraction)"
        return (negative && amount != 0 ? "-" : "") + body
    }

    /// `1250.00 ILS`.
    public var description: String { "\(text) \(currency.code)" }

    /// Zero in a currency.
    public static func zero(_ currency: Currency = .ils) -> Money { Money(0, currency) }

    /// Sum; the currencies must match.
    public static func + (lhs: Money, rhs: Money) -> Money {
        precondition(lhs.currency == rhs.currency, "adding \(lhs.currency) to \(rhs.currency)")
        return Money(lhs.amount + rhs.amount, lhs.currency)
    }

    /// Difference; the currencies must match.
    public static func - (lhs: Money, rhs: Money) -> Money {
        precondition(lhs.currency == rhs.currency, "subtracting \(rhs.currency) from \(lhs.currency)")
        return Money(lhs.amount - rhs.amount, lhs.currency)
    }

    /// Whether the amount is below zero.
    public var isNegative: Bool { amount < 0 }
}
