import CLibPQ

/// How to reach a PostgreSQL server: libpq keywords, parsed by libpq itself from a URL
/// (`postgresql://user@host:5432/db?sslmode=require`) or given one by one.
///
/// Connections are made with `PQconnectdbParams` from these keyword/value pairs; no conninfo
/// string is ever assembled by splicing values.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// Keyword/value pairs in the order given (later pairs win, as in libpq).
    public private(set) var parameters: [(keyword: String, value: String)]
    /// The longest one database call may take — a statement's round trip, or waiting for a free pooled
    /// connection — before it fails with `PostgresError.Code.timedOut` and, for a statement, the connection is
    /// closed. nil: no bound (the migrator, tools). A frozen server (SIGSTOP, a stalled disk, a partition) keeps
    /// its TCP connections open and answers nothing; only a client-side deadline gets the caller out.
    public var callTimeout: Duration?
    /// Whether a connection keeps named prepared statements (planned once per connection). Off behind a pooler in
    /// transaction mode that does not carry them from one server connection to the next (PgBouncer before 1.21):
    /// every statement is then sent unnamed, parsed and planned each time.
    public var preparedStatements = true

    /// Parses a `postgresql://` URL or a `key=value` conninfo string with `PQconninfoParse`.
    /// - Throws: `PostgresError` with code `.invalidConfiguration` naming what libpq rejected.
    public init(url: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &errorMessage) else {
            let text = errorMessage.map { String(cString: $0) } ?? "invalid connection URL"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(code: .invalidConfiguration, message: text.trimmingTrailingNewlines())
        }
        defer { PQconninfoFree(options) }
        var parsed: [(String, String)] = []
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val {
                parsed.append((String(cString: keyword), String(cString: value)))
            }
            cursor = cursor.advanced(by: 1)
        }
        self.parameters = parsed
    }

    /// Creates a configuration from keyword/value pairs (`host`, `port`, `dbname`, `user`, …).
    public init(parameters: [(keyword: String, value: String)]) {
        self.parameters = parameters
    }

    /// The value of a keyword, if set.
    public func value(for keyword: String) -> String? {
        parameters.last(where: { $0.keyword == keyword })?.value
    }

    /// Returns a copy with `callTimeout` set.
    public func withCallTimeout(_ timeout: Duration?) -> PostgresConfiguration {
        var copy = self
        copy.callTimeout = timeout
        return copy
    }

    /// Returns a copy with a keyword set (replacing any earlier value).
    public func setting(_ keyword: String, to value: String) -> PostgresConfiguration {
        var copy = self
        copy.parameters.removeAll { $0.keyword == keyword }
        copy.parameters.append((keyword, value))
        return copy
    }

    /// The user name, if given.
    public var user: String? { value(for: "user") }
    /// The database name, if given.
    public var database: String? { value(for: "dbname") }
    /// The password, if given.
    public var password: String? { value(for: "password") }

    /// Host, port, database and user — never the password.
    public var description: String {
        let host = value(for: "host") ?? value(for: "hostaddr") ?? "(default host)"
        let port = value(for: "port") ?? "(default port)"
        return "postgresql://\(user ?? "(default user)")@\(host):\(port)/\(database ?? "(default db)")"
    }

    /// The pairs libpq receives: the user's, plus the session settings this library relies on
    /// (UTF-8, ISO dates, UTC time zone) appended to any `options` already given.
    var connectionParameters: [(String, String)] {
        var result = parameters.filter { $0.keyword != "options" && $0.keyword != "client_encoding" }
        let userOptions = value(for: "options").map { $0 + " " } ?? ""
        result.append(("client_encoding", "UTF8"))
        result.append(("options", userOptions + "-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3"))
        if value(for: "application_name") == nil { result.append(("application_name", "ashrai")) }
        if value(for: "connect_timeout") == nil {
            // libpq counts whole seconds and takes anything under 2 as 2.
            let seconds = callTimeout.map { max(2, Int($0.components.seconds) + ($0.components.attoseconds > 0 ? 1 : 0)) } ?? 10
            result.append(("connect_timeout", String(seconds)))
        }
        return result
    }
}
