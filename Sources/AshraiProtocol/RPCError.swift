/// The error codes of the protocol contract (DESIGN.md), in one place: server, CLI and the
/// OpenRPC document read this table.
public enum RPCErrorCode: Int, Sendable, CaseIterable, Codable {
    /// Not valid JSON (or not UTF-8).
    case parseError = -32700
    /// Not a valid JSON-RPC request (also: line too long, empty batch).
    case invalidRequest = -32600
    /// No such method.
    case methodNotFound = -32601
    /// Params missing or malformed; `data.field` names the param.
    case invalidParams = -32602
    /// A fault of the server; never carries internals.
    case internalError = -32603
    /// No session, bad credentials, expired token.
    case unauthenticated = 401
    /// The role may not do this, or the row is not visible.
    case forbidden = 403
    /// No such entity.
    case notFound = 404
    /// Duplicate, stale version, idempotency key reused with other params.
    case conflict = 409
    /// A business rule refused the request; `data.rule` names it.
    case ruleViolated = 422
    /// Account locked after failed logins.
    case locked = 423
    /// Too many requests.
    case rateLimited = 429
    /// The database is unreachable; safe to retry.
    case unavailable = 503

    /// The `data.reason` string for application errors; nil for protocol faults.
    public var reason: String? {
        switch self {
        case .unauthenticated: return "unauthenticated"
        case .forbidden: return "forbidden"
        case .notFound: return "not_found"
        case .conflict: return "conflict"
        case .ruleViolated: return "rule_violated"
        case .locked: return "locked"
        case .rateLimited: return "rate_limited"
        case .unavailable: return "unavailable"
        case .parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError: return nil
        }
    }
}
