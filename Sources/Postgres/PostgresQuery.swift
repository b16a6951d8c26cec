/// A SQL statement whose interpolated values become `$n` parameters, never SQL text.
///
/// ```swift
/// let rows = try await db.query("SELECT id FROM customers WHERE code = \(code) AND status = \(status)")
/// ```
/// sends `SELECT id FROM customers WHERE code = $1 AND status = $2` with two binds. Identifiers
/// that cannot be parameters go through `\(identifier: name)` (quoted like `quote_ident`);
/// trusted fragments of SQL chosen from code (never from input) through `\(unescaped: text)`.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$1…$n` placeholders.
    public var sql: String
    /// The values for the placeholders, in order.
    public var binds: [PostgresBindValue]
    /// Whether the connection keeps it as a prepared statement (the default). A statement on a
    /// table that grows inside one long transaction from statistics that say it is empty is better
    /// planned each time with its values (an unnamed statement): a cached generic plan made while
    /// the table was tiny is a sequential scan, and stays one as the table grows.
    public var prepared = true

    /// This statement, planned each time it runs (`prepared` false).
    public var plannedEachTime: PostgresQuery {
        var copy = self
        copy.prepared = false
        return copy
    }

    /// A statement with explicit binds. The SQL must come from code, not from input.
    public init(unsafeSQL sql: String, binds: [PostgresBindValue] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// A statement without parameters.
    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    /// A statement built by interpolation.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// The SQL text only; bound values are never printed.
    public var description: String { sql }

    /// Collects literal SQL and turns each interpolated value into the next `$n`.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [PostgresBindValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// Binds a value as the next parameter.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            appendBind(value)
        }

        private mutating func appendBind<Value: PostgresEncodable>(_ value: Value) {
            do { binds.append(try value.postgresBind()) } catch let error as PostgresError {
                binds.append(.invalid(error))
            } catch {
                binds.append(.invalid(PostgresError(code: .invalidParameter, message: "value cannot be bound")))
            }
            sql += "$\(binds.count)"
        }

        /// Binds an optional value (nil becomes SQL NULL). Spelled out so that optionals do not
        /// trip the compiler's "debug description for an optional" warning.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            appendBind(value)
        }

        /// Inserts an identifier, double-quoted with embedded quotes doubled.
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresQuery.quoteIdentifier(identifier)
        }

        /// Inserts SQL text as is. Only for fragments chosen by code, never for input.
        public mutating func appendInterpolation(unescaped fragment: String) {
            sql += fragment
        }
    }

    /// Quotes an identifier as PostgreSQL's `quote_ident` does when quoting is needed.
    /// A NUL byte cannot appear in an identifier and is dropped.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\0", with: "").replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
