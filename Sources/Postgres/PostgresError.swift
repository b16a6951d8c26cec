import CLibPQ

/// An error from PostgreSQL or from this library's use of libpq.
///
/// The fields the server sent (SQLSTATE, message, detail, constraint, …) are kept so callers
/// can map them to their own errors. `description` names only the kind of failure and the
/// SQLSTATE — safe for logs a client might see; `debugDescription` has every detail.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is; extensible like postgres-nio's `PSQLError.Code`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code.
        public let name: String
        private init(_ name: String) { self.name = name }

        /// The server answered the statement with an error; see `sqlState`.
        public static let server = Code("server")
        /// A connection could not be established.
        public static let connectionFailed = Code("connectionFailed")
        /// An established connection broke (server restart, `pg_terminate_backend`, network).
        public static let connectionLost = Code("connectionLost")
        /// A bound value cannot be sent (for example text holding a NUL byte).
        public static let invalidParameter = Code("invalidParameter")
        /// A column's value could not be decoded into the requested Swift type.
        public static let decoding = Code("decoding")
        /// A result had an unexpected shape (no row where one was required, …).
        public static let unexpectedResult = Code("unexpectedResult")
        /// The server did not answer within the configured `callTimeout`, or no pooled connection came free
        /// within it; a connection that timed out mid-statement was closed (the server rolls its transaction
        /// back when it notices). A COMMIT that timed out may or may not have taken effect.
        public static let timedOut = Code("timedOut")
        /// The connection pool has been shut down.
        public static let poolClosed = Code("poolClosed")
        /// The configuration (URL or keywords) is invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A migration could not be applied or verified.
        public static let migration = Code("migration")

        /// The name of the code.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The five-character SQLSTATE the server reported, if any (`23505`, `40001`, …).
    public var sqlState: String?
    /// The primary human-readable message (from the server or from this library).
    public var message: String
    /// The server's DETAIL field.
    public var detail: String?
    /// The server's HINT field.
    public var hint: String?
    /// The name of the constraint that was violated.
    public var constraint: String?
    /// The schema of the object involved.
    public var schema: String?
    /// The table of the object involved.
    public var table: String?
    /// The column involved.
    public var column: String?
    /// The column (name) a decoding error concerns.
    public var decodingColumn: String?

    /// Creates an error.
    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, schema: String? = nil,
        table: String? = nil, column: String? = nil, decodingColumn: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.schema = schema
        self.table = table
        self.column = column
        self.decodingColumn = decodingColumn
    }

    /// A summary that leaks no data: the kind and the SQLSTATE.
    public var description: String {
        if let sqlState { return "PostgresError(\(code), SQLSTATE \(sqlState))" }
        if let decodingColumn { return "PostgresError(\(code), column \(decodingColumn))" }
        return "PostgresError(\(code))"
    }

    /// Every field, for developers' logs.
    public var debugDescription: String {
        var parts = ["code: \(code)"]
        if let sqlState { parts.append("sqlState: \(sqlState)") }
        parts.append("message: \(message)")
        if let detail { parts.append("detail: \(detail)") }
        if let hint { parts.append("hint: \(hint)") }
        if let constraint { parts.append("constraint: \(constraint)") }
        if let schema { parts.append("schema: \(schema)") }
        if let table { parts.append("table: \(table)") }
        if let column { parts.append("column: \(column)") }
        if let decodingColumn { parts.append("decodingColumn: \(decodingColumn)") }
        return "PostgresError(" + parts.joined(separator: ", ") + ")"
    }

    /// SQLSTATE 23505.
    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
    /// The server gave up on the statement at its own bound: `statement_timeout` or `lock_timeout`
    /// (SQLSTATE 57014, 55P03). Trying again later may work.
    public var isServerTimeout: Bool {
        sqlState == SQLState.queryCanceled || sqlState == SQLState.lockNotAvailable
    }
    /// SQLSTATE 40001 or 40P01: the transaction may succeed if run again.
    public var isRetryableTransactionFailure: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }
    /// True when the connection is gone: the statement may not have run; a new connection may work.
    public var isConnectionError: Bool {
        code == .connectionLost || code == .connectionFailed || code == .timedOut
            || (sqlState.map { $0.hasPrefix("08") || $0 == SQLState.adminShutdown } ?? false)
    }

    /// Builds an error from a failed `PGresult`, keeping the server's fields.
    static func fromResult(_ result: OpaquePointer, connection: OpaquePointer?) -> PostgresError {
        // PG_DIAG_* are character-literal macros, which Swift does not import.
        func field(_ code: Character) -> String? {
            guard let pointer = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: pointer)
        }
        let sqlState = field("C")
        let primary = field("M")
            ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines()
        let lost = connection.map { PQstatus($0) == CONNECTION_BAD } ?? false
        return PostgresError(
            code: lost && sqlState == nil ? .connectionLost : .server,
            message: primary.isEmpty ? "statement failed" : primary,
            sqlState: sqlState,
            detail: field("D"),
            hint: field("H"),
            constraint: field("n"),
            schema: field("s"),
            table: field("t"),
            column: field("c")
        )
    }

    /// Builds an error from the connection's last error message.
    static func fromConnection(_ connection: OpaquePointer?, code: Code) -> PostgresError {
        let text = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? ""
        let message = text.trimmingTrailingNewlines()
        return PostgresError(code: code, message: message.isEmpty ? "\(code)" : message)
    }
}

/// SQLSTATE codes this code base refers to by name (PostgreSQL manual, Appendix A).
public enum SQLState {
    /// unique_violation
    public static let uniqueViolation = "23505"
    /// foreign_key_violation
    public static let foreignKeyViolation = "23503"
    /// check_violation
    public static let checkViolation = "23514"
    /// not_null_violation
    public static let notNullViolation = "23502"
    /// serialization_failure
    public static let serializationFailure = "40001"
    /// deadlock_detected
    public static let deadlockDetected = "40P01"
    /// insufficient_privilege
    public static let insufficientPrivilege = "42501"
    /// admin_shutdown (the backend was terminated)
    public static let adminShutdown = "57P01"
    /// raise_exception (a PL/pgSQL RAISE without its own code)
    public static let raiseException = "P0001"
    /// lock_not_available
    public static let lockNotAvailable = "55P03"
    /// query_canceled (statement_timeout among others)
    public static let queryCanceled = "57014"
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var copy = self
        while let last = copy.last, last.isNewline || last == " " { copy.removeLast() }
        return copy
    }
}
