import AshraiCore
/// An error a method answers with: code, a message safe for any client, and `data`.
public struct RPCFailure: Error, Sendable, Equatable {
    /// The code from the contract's table.
    public var code: RPCErrorCode
    /// A message with no internals.
    public var message: String
    /// Extra members of `data` (`reason` is added from the code).
    public var data: JSONObject

    /// Creates a failure.
    public init(_ code: RPCErrorCode, _ message: String, data: JSONObject = [:]) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The `error` member of a response.
    public var errorObject: JSONValue {
        var data = self.data
        if let reason = code.reason, data["reason"] == nil { data["reason"] = .string(reason) }
        var error: JSONObject = ["code": .int(code.rawValue), "message": .string(message)]
        if data.count > 0 { error["data"] = .object(data) }
        return .object(error)
    }

    /// -32602 naming the offending param.
    public static func invalidParams(_ field: String, _ message: String) -> RPCFailure {
        RPCFailure(.invalidParams, message, data: ["field": .string(field)])
    }
    /// 401 with the one generic message.
    public static let unauthenticated = RPCFailure(.unauthenticated, "not authenticated")
    /// 401 for a failed login: the same for unknown user, wrong password, disabled user.
    public static let badCredentials = RPCFailure(.unauthenticated, "invalid username or password")
    /// 403.
    public static func forbidden(_ message: String, reason: String = "forbidden") -> RPCFailure {
        RPCFailure(.forbidden, message, data: ["reason": .string(reason)])
    }
    /// 404.
    public static func notFound(_ entity: String) -> RPCFailure { RPCFailure(.notFound, "\(entity) not found") }
    /// 409.
    public static func conflict(_ message: String, data: JSONObject = [:]) -> RPCFailure { RPCFailure(.conflict, message, data: data) }
    /// 422 naming the rule.
    public static func ruleViolated(_ rule: BusinessRule, _ message: String, data: JSONObject = [:]) -> RPCFailure {
        var data = data
        data["rule"] = .string(rule.rawValue)
        return RPCFailure(.ruleViolated, message, data: data)
    }
    /// 503, retryable.
    public static let unavailable = RPCFailure(.unavailable, "service unavailable; retry", data: ["retryable": true])
    /// -32603 without internals.
    public static let internalError = RPCFailure(.internalError, "internal error")
}

/// A request's by-name params with typed, validating accessors; every failure is -32602
/// naming the field.
public struct Params: Sendable {
    /// The raw object.
    public let object: JSONObject

    /// Wraps an object.
    public init(_ object: JSONObject) { self.object = object }

    /// Whether a param is present and not null.
    public func has(_ name: String) -> Bool { object[name].map { !$0.isNull } ?? false }

    /// A required string.
    public func string(_ name: String, maxLength: Int = 10_000) throws(RPCFailure) -> String {
        guard let value = try optionalString(name, maxLength: maxLength) else {
            throw .invalidParams(name, "\(name) is required")
        }
        return value
    }

    /// An optional string (absent or null → nil). `maxLength` counts Unicode scalars — what
    /// is stored — never grapheme clusters: one base letter with 800 KB of combining marks is one
    /// "character" but 800 KB in the table, and counting graphemes over such text costs time that
    /// grows faster than its size. The UTF-8 byte count (O(1)) is checked first.
    public func optionalString(_ name: String, maxLength: Int = 10_000) throws(RPCFailure) -> String? {
        guard let value = object[name], !value.isNull else { return nil }
        guard case .string(let text) = value else { throw .invalidParams(name, "\(name) must be a string") }
        guard text.utf8.count <= maxLength * 4, text.unicodeScalars.count <= maxLength else {
            throw .invalidParams(name, "\(name) is longer than \(maxLength) characters")
        }
        guard !text.unicodeScalars.contains(where: { $0.value == 0 }) else { throw .invalidParams(name, "\(name) must not contain NUL") }
        return text
    }

    /// A required integer id (positive).
    public func id(_ name: String) throws(RPCFailure) -> Int {
        guard let value = try optionalInt(name) else { throw .invalidParams(name, "\(name) is required") }
        guard value > 0 else { throw .invalidParams(name, "\(name) must be a positive integer") }
        return value
    }

    /// An optional integer.
    public func optionalInt(_ name: String, range: ClosedRange<Int>? = nil) throws(RPCFailure) -> Int? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let int = value.intValue else { throw .invalidParams(name, "\(name) must be an integer") }
        if let range, !range.contains(int) {
            throw .invalidParams(name, "\(name) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return int
    }

    /// A required value of a string enumeration.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws(RPCFailure) -> T where T.RawValue == String {
        guard let value = try optionalChoice(name, type) else { throw .invalidParams(name, "\(name) is required") }
        return value
    }

    /// An optional value of a string enumeration.
    public func optionalChoice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws(RPCFailure) -> T? where T.RawValue == String {
        guard let text = try optionalString(name) else { return nil }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidParams(name, "\(name) must be one of: \(allowed)")
        }
        return value
    }

    /// An optional boolean.
    public func optionalBool(_ name: String) throws(RPCFailure) -> Bool? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw .invalidParams(name, "\(name) must be true or false") }
        return bool
    }
}
