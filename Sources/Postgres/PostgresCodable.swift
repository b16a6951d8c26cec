import Foundation

/// A value bound to a `$n` parameter: NULL, text format, or binary format, with its type OID.
public enum PostgresBindValue: Sendable {
    /// SQL NULL of the given type.
    case null(PostgresDataType)
    /// PostgreSQL's text representation; must not contain a NUL byte.
    case text(String, PostgresDataType)
    /// Binary format bytes (used for `bytea`).
    case binary([UInt8], PostgresDataType)
    /// A value that could not be encoded; executing the query throws this error.
    case invalid(PostgresError)
}

/// A Swift value that can be sent as a query parameter.
public protocol PostgresEncodable: Sendable {
    /// The value as a bind. Throw `PostgresError` (`.invalidParameter`) for unsendable values.
    func postgresBind() throws -> PostgresBindValue
}

/// Why a column value could not be decoded; wrapped into a `PostgresError` naming the column.
public struct PostgresDecodingFailure: Error, Sendable {
    /// What was wrong, without the value itself.
    public var reason: String
    /// Creates a failure.
    public init(_ reason: String) { self.reason = reason }
}

/// A Swift type that can be decoded from a column in text format.
public protocol PostgresDecodable {
    /// Decodes a non-NULL value from its text representation.
    init(postgresText text: String, type: PostgresDataType) throws
    /// The value for SQL NULL; throws unless the type is optional.
    static func postgresNull() throws -> Self
}

extension PostgresDecodable {
    /// Non-optional types refuse NULL.
    public static func postgresNull() throws -> Self {
        throw PostgresDecodingFailure("unexpected NULL for non-optional \(Self.self)")
    }
}

/// Both directions.
public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

// MARK: - Optional

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public func postgresBind() throws -> PostgresBindValue {
        switch self {
        case .none: return .null(.unspecified)
        case .some(let value): return try value.postgresBind()
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = .some(try Wrapped(postgresText: text, type: type))
    }
    public static func postgresNull() throws -> Wrapped? { nil }
}

// MARK: - Text

extension String: PostgresCodable {
    public func postgresBind() throws -> PostgresBindValue {
        if self.utf8.contains(0) {
            throw PostgresError(
                code: .invalidParameter,
                message: "text parameter contains a NUL byte, which PostgreSQL text cannot store")
        }
        return .text(self, .unspecified)
    }
    public init(postgresText text: String, type: PostgresDataType) throws { self = text }
}

extension Substring: PostgresEncodable {
    public func postgresBind() throws -> PostgresBindValue { try String(self).postgresBind() }
}

// MARK: - Integers

/// Integers travel as decimal text; the declared type is the column type they usually meet.
protocol PostgresInteger: FixedWidthInteger, PostgresCodable {
    static var postgresType: PostgresDataType { get }
}

extension PostgresInteger {
    public func postgresBind() throws -> PostgresBindValue { .text(String(self), Self.postgresType) }
    public init(postgresText text: String, type: PostgresDataType) throws {
        guard let value = Self(text) else { throw PostgresDecodingFailure("not a \(Self.bitWidth)-bit integer") }
        self = value
    }
}

extension Int: PostgresInteger { static var postgresType: PostgresDataType { .int8 } }
extension Int64: PostgresInteger { static var postgresType: PostgresDataType { .int8 } }
extension Int32: PostgresInteger { static var postgresType: PostgresDataType { .int4 } }

// MARK: - Bool

extension Bool: PostgresCodable {
    public func postgresBind() throws -> PostgresBindValue { .text(self ? "t" : "f", .bool) }
    public init(postgresText text: String, type: PostgresDataType) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure("not a boolean")
        }
    }
}

// MARK: - Decimal (numeric), exact

extension Decimal: PostgresCodable {
    public func postgresBind() throws -> PostgresBindValue {
        guard !isNaN else { throw PostgresError(code: .invalidParameter, message: "NaN is not a valid amount") }
        return .text(PostgresNumeric.text(of: self), .numeric)
    }
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try PostgresNumeric.decimal(from: text)
    }
}

/// Exact conversion between `numeric` text and `Decimal`; no `Double` on the way.
public enum PostgresNumeric {
    /// The plain decimal text of a value (`-1234.50`), never exponent notation.
    public static func text(of value: Decimal) -> String {
        // Decimal's description is locale-independent and plain for the magnitudes money has.
        value.description
    }

    /// Parses `numeric` text: an optional sign, digits, an optional fraction. At most 38
    /// significant digits (Decimal's exact range); `NaN` and infinities are refused.
    public static func decimal(from text: String) throws -> Decimal {
        if let value = fastDecimal(text.utf8) { return value }
        var digits = 0
        var sawPoint = false
        for (offset, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                guard offset == 0 else { throw PostgresDecodingFailure("not a decimal number") }
            case UInt8(ascii: "."):
                guard !sawPoint else { throw PostgresDecodingFailure("not a decimal number") }
                sawPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
            default:
                throw PostgresDecodingFailure("not a finite decimal number")
            }
        }
        guard digits > 0 else { throw PostgresDecodingFailure("not a decimal number") }
        let significant = text.drop(while: { $0 == "-" || $0 == "+" || $0 == "0" || $0 == "." })
            .filter(\.isNumber).count
        guard significant <= 38 else {
            throw PostgresDecodingFailure("numeric has more than 38 significant digits")
        }
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw PostgresDecodingFailure("not a decimal number")
        }
        return value
    }

    /// The common case without Foundation's string parser (about 1 µs a value, the largest
    /// cost of decoding a batch's terms): `-?digits(.digits)?` with at most 19 significant
    /// digits, built as mantissa × 10^−scale. Anything else returns nil for the general path.
    static func fastDecimal(_ bytes: String.UTF8View) -> Decimal? {
        var mantissa: UInt64 = 0
        var significant = 0
        var scale = 0
        var sawPoint = false
        var sawDigit = false
        var negative = false
        for (offset, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                sawDigit = true
                if sawPoint { scale += 1 }
                if mantissa == 0 && byte == UInt8(ascii: "0") { continue }
                significant += 1
                guard significant <= 19 else { return nil }
                mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            case UInt8(ascii: "."):
                guard !sawPoint else { return nil }
                sawPoint = true
            case UInt8(ascii: "-") where offset == 0:
                negative = true
            default:
                return nil
            }
        }
        guard sawDigit else { return nil }
        return Decimal(sign: negative && mantissa != 0 ? .minus : .plus, exponent: -scale, significand: Decimal(mantissa))
    }
}

// MARK: - Bytes

extension Array: PostgresEncodable where Element == UInt8 {
    public func postgresBind() throws -> PostgresBindValue { .binary(self, .bytea) }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public init(postgresText text: String, type: PostgresDataType) throws {
        // bytea_output = hex: "\x0a1b…"
        guard text.hasPrefix("\\x") else { throw PostgresDecodingFailure("bytea not in hex format") }
        let hex = Array(text.utf8.dropFirst(2))
        guard hex.count % 2 == 0 else { throw PostgresDecodingFailure("odd-length bytea hex") }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: throw PostgresDecodingFailure("invalid bytea hex digit")
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            bytes.append(try nibble(hex[index]) << 4 | nibble(hex[index + 1]))
            index += 2
        }
        self = bytes
    }
}

// MARK: - JSON

/// A value stored as `jsonb`, encoded and decoded with Foundation's JSON coders.
public struct PostgresJSON<Value: Codable & Sendable>: PostgresCodable, Sendable {
    /// The wrapped value.
    public var value: Value
    /// Wraps a value.
    public init(_ value: Value) { self.value = value }

    public func postgresBind() throws -> PostgresBindValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw PostgresError(code: .invalidParameter, message: "value cannot be encoded as JSON")
        }
        return try String(decoding: data, as: UTF8.self).postgresBind().retyped(.jsonb)
    }

    public init(postgresText text: String, type: PostgresDataType) throws {
        do { value = try JSONDecoder().decode(Value.self, from: Data(text.utf8)) } catch {
            throw PostgresDecodingFailure("JSON does not match \(Value.self)")
        }
    }
}

extension PostgresBindValue {
    /// The same value declared as another type.
    func retyped(_ type: PostgresDataType) -> PostgresBindValue {
        switch self {
        case .null: return .null(type)
        case .text(let text, _): return .text(text, type)
        case .binary(let bytes, _): return .binary(bytes, type)
        case .invalid: return self
        }
    }
}

// MARK: - Arrays (for set-based writes through unnest)

/// A PostgreSQL array literal of text elements, every element quoted (`{"a","b\"c",NULL}`),
/// bound as one text parameter and cast in SQL (`$1::numeric[]`). Elements with NUL are refused.
public struct PostgresArray: PostgresEncodable {
    /// The elements' text forms; nil is NULL.
    public var elements: [String?]

    /// Wraps elements.
    public init(_ elements: [String?]) { self.elements = elements }

    public func postgresBind() throws -> PostgresBindValue {
        // Built as bytes: a bank import binds arrays of 100,000 elements.
        var text: [UInt8] = [UInt8(ascii: "{")]
        text.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, element) in elements.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            guard let element else { text.append(contentsOf: "NULL".utf8); continue }
            text.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == 0 { throw PostgresError(code: .invalidParameter, message: "array element contains a NUL byte") }
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { text.append(UInt8(ascii: "\\")) }
                text.append(byte)
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return .text(String(decoding: text, as: UTF8.self), .unspecified)
    }
}
