import AshraiCore
import AshraiProtocol
import Foundation
import Logging
import Postgres

/// Settings the request path reads (a slice of `AshraiConfiguration`).
public struct ServerSettings: Sendable {
    /// Longest line after login.
    public var maxLineBytes = 1 << 20
    /// Longest line before login.
    public var preLoginMaxLineBytes = 16 << 10
    /// Connections served at once; past it the oldest connection not logged in is closed to
    /// make room, and only when every one is logged in is a new one told so and closed.
    public var maxConnections = 256
    /// Connections not logged in from one address at once; more are told so and closed.
    public var maxAnonymousPerAddress = 64
    /// An unauthenticated connection is closed after this long.
    public var loginDeadline: Duration = .seconds(10)
    /// … or this long, when connections not logged in already fill half the server.
    public var crowdedLoginDeadline: Duration = .seconds(2)
    /// A connection with no request for this long is closed.
    public var idleTimeout: Duration = .seconds(15 * 60)
    /// A client whose pending output exceeds `maxPendingOutputBytes` for this long is dropped.
    public var writeTimeout: Duration = .seconds(30)
    /// The longest one database call of a request may take (`database.callTimeoutSeconds`): PostgreSQL stops
    /// a statement or a lock wait at this bound (`statement_timeout`, `lock_timeout`, set per transaction), and
    /// the daemon gives up on a server that does not answer at all a second later; waiting for a pooled
    /// connection is bounded by it too. The request is then answered 503, `retryable`.
    public var databaseCallTimeout: Duration = .seconds(5)
    /// The same bound for the daemon's own jobs (dunning runs, housekeeping, the outbox), which do more per statement.
    public var jobsCallTimeout: Duration = .seconds(60)
    /// How far behind the primary a streaming replica may be for reports to be read from it
    /// (`database.replicaMaxLagSeconds`); further behind, or unreachable, reports go to the primary.
    public var replicaMaxLag: Duration = .seconds(30)
    /// Subscribed connections read what is new at least this often, even when no notification came
    /// (`events.pollIntervalSeconds`): the fallback when LISTEN cannot hear.
    public var eventsPollInterval: Duration = .seconds(5)
    /// Output buffered for a client before writes wait (NIO's high watermark).
    public var maxPendingOutputBytes = 4 << 20
    /// Requests in one batch after login / before login.
    public var maxBatch = 100
    public var preLoginMaxBatch = 10
    /// The longest reply line: a reply that would pass it is not built further (-32603).
    public var maxReplyBytes = 8 << 20
    /// Absolute session lifetime.
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// Idle session lifetime.
    public var sessionIdleLifetime: Duration = .seconds(30 * 60)
    /// Login throttling rules.
    public var throttle = LoginThrottle()
    /// Passwords nobody may choose (`auth.commonPasswordsFile`; Openwall's list where installed).
    public var commonPasswords: Set<String> = ServerSettings.systemCommonPasswords

    /// The system's common-password list, read once.
    public static let systemCommonPasswords: Set<String> =
        PasswordPolicy.commonPasswords(fromFile: PasswordPolicy.systemCommonPasswordsFile) ?? []
    /// Scorecard, grades, suggested terms and review intervals.
    public var creditPolicy = CreditPolicy()
    /// Terms for customers that have none set: limit 0 = cash only.
    public var defaultTerms = DefaultTerms()
    /// The business's currency (ISO 4217).
    public var currency = Currency.ils
    /// Letters, the default dunning policy, the daily run, and how customers pay.
    public var collections = CollectionSettings()
    /// How letters reach customers (the outbox).
    public var delivery = DeliverySettings()
    /// Bank statements: where the CSV export profiles live (`bank.profiles`).
    public var bankProfilesDirectory = "Config/bank-profiles"
    /// A credit whose best match is at least this sure (0–99) is posted without a person; 100 turns that off.
    public var bankAutoPostConfidence = 90
    /// A dispute open more than this many days makes a `dispute_review` task.
    public var taskDisputeReviewDays = 14
    /// What a returned payment (a bounced cheque, a returned transfer) costs the customer, charged as an
    /// invoice of its own (`bank.returnFee`); nil: nothing is charged.
    public var bankReturnFee: Decimal?
    /// Training gates: methods that require a current course.
    public var training = TrainingSettings()
    /// The business's time zone (`business.timezone`): "today" for every rule is the day on its wall clock.
    public var timeZone = TimeZone(identifier: BusinessClock.defaultTimeZoneIdentifier) ?? .gmt
    /// The business's country (`business.country`, ISO 3166 alpha-2): how legal identifiers are checked.
    public var country = "IL"

    /// Defaults.
    public init() {}
}

/// Terms a customer without terms of its own gets.
public struct DefaultTerms: Sendable, Equatable {
    /// 0 means cash only.
    public var creditLimit: Decimal = 0
    /// Days to pay.
    public var netDays = 30
    /// Counted from the invoice's date (net) or from the end of its month (שוטף).
    public var basis = TermsBasis.net
    /// Annual late interest, percent.
    public var lateInterestRate: Decimal = 0

    /// The defaults.
    public init() {}
}

/// What every method handler may use.
public struct Services: Sendable {
    /// The pool (application role).
    public let database: PostgresClient
    /// Password hashing and tokens.
    public let secrets: Secrets
    /// Request-path settings.
    public let settings: ServerSettings
    /// The server's version.
    public let version: String
    /// Letter templates and the default dunning policy, read once from `settings.collections`
    /// (a failure is kept and reported by the methods that need them; `ashraid serve` refuses to start).
    public let collectionAssets: Result<CollectionAssets, CollectionAssets.LoadError>
    /// The business's clock: the one source of "today" (and of "now" for rules).
    public let clock: BusinessClock
    /// The daemon's own pool (a login role in `ashrai_jobs`): the only sessions that may act as
    /// `system` — the scheduled jobs, and the login path before anyone is known.
    public let jobsDatabase: PostgresClient
    /// A streaming replica for reports (`database.replicaUrl`), if configured: see `Services.report`.
    public let replicaDatabase: PostgresClient?

    /// Where the daemon LISTENs for events (`database.eventsUrl`; default the application database): a connection of
    /// its own that stays open, so it must reach PostgreSQL directly or through a session-mode pool.
    public let eventsDatabase: PostgresConfiguration

    /// Creates the bundle. `now` is the system clock except in tests that fix the instant.
    public init(database: PostgresClient, secrets: Secrets, settings: ServerSettings, version: String,
                jobsDatabase: PostgresClient, replicaDatabase: PostgresClient? = nil, eventsDatabase: PostgresConfiguration? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        var events = eventsDatabase ?? database.configuration
        events.preparedStatements = false
        self.eventsDatabase = events
        self.jobsDatabase = jobsDatabase
        self.replicaDatabase = replicaDatabase
        self.secrets = secrets
        self.settings = settings
        self.version = version
        self.clock = BusinessClock(timeZone: settings.timeZone, now: now)
        self.collectionAssets = Result { () throws(CollectionAssets.LoadError) in try CollectionAssets.load(settings.collections) }
    }

    /// Runs `body` inside `existing` (a batch import's transaction, which takes care of
    /// savepoints) or, without one, in a new request transaction.
    public func transaction<Result>(
        _ context: CallContext, joining existing: PostgresConnection?, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let existing { return try await body(existing) }
        return try await transaction(context, body)
    }

    /// A transaction for a request: `ashrai.user_id` is set for row-level security, and
    /// serialization failures are retried. Writes record their audit rows inside `body`.
    public func transaction<Result>(
        _ context: CallContext, isolation: PostgresIsolation = .readCommitted,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let check = try await pendingCheck(context)
        return try await pool(context).withRetryingTransaction(
            isolation: isolation, prelude: { prelude(context, check: check, readOnly: false) }, check: { try judge($0, check) }, body)
    }

    /// The request's session check still to be made in its first transaction, if any. Work the daemon does for
    /// the request (`asDaemon`, the jobs' pool) is not where a user's session is judged: that runs the check first,
    /// on its own.
    private func pendingCheck(_ context: CallContext) async throws -> SessionCheck? {
        guard let check = context.sessionCheck, check.isPending else { return nil }
        if context.isSystem {
            try await check.runAlone(self)
            return nil
        }
        return check
    }

    /// What a request transaction sends with its `BEGIN`, in one round trip: its settings, the session check if it
    /// is still to be made, and — for a read that checks the session, which may note `last_seen_at` — the switch
    /// to read-only after it.
    private func prelude(_ context: CallContext, check: SessionCheck?, readOnly: Bool) -> [PostgresQuery] {
        var queries = [sessionSettings(context)]
        if let check, check.isPending {
            queries.append(check.query(settings))
            if readOnly { queries.append("SET TRANSACTION READ ONLY") }
        }
        return queries
    }

    private func judge(_ rows: [PostgresRows], _ check: SessionCheck?) throws {
        if let check, check.isPending, rows.count > 1 { try check.judge(rows[1]) }
    }

    /// The pool a context's work runs on: the jobs' for the daemon's own work, else the application's.
    func pool(_ context: CallContext) -> PostgresClient { context.isSystem ? jobsDatabase : database }

    /// What every request transaction sets first, in one statement, transaction-locally (a
    /// pooled connection never carries them into the next request): who asks, for row-level
    /// security, and the business's time zone, so a `timestamptz` cast to `date` in SQL is the
    /// business's day, as `today()` is.
    func sessionSettings(_ context: CallContext) -> PostgresQuery {
        // A request's bound while a request runs (its daemon work included); the jobs' for the jobs and for a batch.
        let bound = String(settings.callTimeout(system: context.isBatch || (context.isSystem && PostgresCallTimeout.override == nil)).milliseconds)
        return """
            SELECT set_config('ashrai.user_id', \(context.viewer), true), set_config('TimeZone', \(settings.timeZone.identifier), true),
                   set_config('statement_timeout', \(bound), true), set_config('lock_timeout', \(bound), true)
            """
    }

    /// Reads for a request: a read-only transaction with `ashrai.user_id` set (transaction-
    /// local, so a pooled connection never carries it into the next request). Every handler
    /// reads through here or `transaction`, so row-level security always knows who asks.
    public func read<Result>(_ context: CallContext, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let check = try await pendingCheck(context)
        return try await pool(context).withTransaction(
            isolation: .readCommitted, readOnly: check == nil, prelude: prelude(context, check: check, readOnly: true),
            check: { try judge($0, check) }, commitInBackground: true, body)
    }

    /// A read of one statement, as `read` makes it, in one round trip with its `COMMIT`
    /// (`PostgresConnection.readStatement`): the common form of a read.
    public func read(_ context: CallContext, query: PostgresQuery) async throws -> PostgresRows {
        let check = try await pendingCheck(context)
        return try await pool(context).readStatement(
            isolation: .readCommitted, readOnly: check == nil, prelude: prelude(context, check: check, readOnly: true),
            check: { try judge($0, check) }, query)
    }
}

/// The session a connection is logged in with.
public struct SessionInfo: Sendable, Equatable {
    /// Row id in `sessions`.
    public var sessionID: Int64
    /// The SHA-256 of the token: what finds the session again (the token itself is never kept).
    public var tokenHash: [UInt8]
    /// The user.
    public var userID: Int64
    /// The username.
    public var username: String
    /// The role (re-read on every request).
    public var role: Role
    /// The agency, for agency logins.
    public var agencyID: Int64?
    /// Whether only password change is allowed.
    public var mustChangePassword: Bool
    /// Absolute expiry.
    public var expiresAt: Date
}

/// Per-connection state a method may read and change (login sets the session).
public struct CallContext: Sendable {
    /// The connection's id in logs.
    public let connectionID: Int
    /// The peer address, for throttling and the audit trail.
    public let clientAddress: String?
    /// The logged-in session, if any.
    public var session: SessionInfo?
    /// Logger with connection metadata.
    public var logger: Logger
    /// The daemon's own work (the scheduler), not a request: row-level security lets it see all.
    public var isSystem = false
    /// The request is a batch (`MethodCatalog.batches`): its database calls have the jobs' bound.
    var isBatch = false
    /// What the connection hears (`events.subscribe`); the server delivers it while the session lasts.
    public var subscription: EventSubscription?
    /// This request's session check, while the Dispatcher has one to be made in its first transaction.
    var sessionCheck: SessionCheck?

    /// This connection's context with the daemon acting for it (`system`, on the jobs' pool):
    /// for what happens before anyone is known — the login throttle, reading a password hash,
    /// creating the session — and nothing else. Audit rows still name the session's user.
    public var asDaemon: CallContext {
        var copy = self
        copy.isSystem = true
        return copy
    }

    /// Who asks, as `ashrai.user_id` carries it to PostgreSQL: the user's id, `system`, or
    /// empty (not logged in: sees no protected rows).
    public var viewer: String { isSystem ? "system" : context(session) }
    private func context(_ session: SessionInfo?) -> String { session.map { String($0.userID) } ?? "" }

    /// Creates a context for a new connection.
    public init(connectionID: Int, clientAddress: String?, logger: Logger) {
        self.connectionID = connectionID
        self.clientAddress = clientAddress
        self.logger = logger
    }
}

extension JSONValue: PostgresCodable {
    public func postgresBind() throws -> PostgresBindValue {
        try encoded().postgresBind().retypedAsJSONB()
    }

    public init(postgresText text: String, type: PostgresDataType) throws {
        do { self = try JSONValue.parse(text) } catch { throw PostgresDecodingFailure("invalid JSON") }
    }
}

extension PostgresBindValue {
    func retypedAsJSONB() -> PostgresBindValue {
        if case .text(let text, _) = self { return .text(text, .jsonb) }
        return self
    }
}

/// RFC 3339 UTC with seconds: `2026-11-29T10:00:00Z`.
/// Computed, not formatted by `ISO8601DateFormatter` (one per call cost more than the rest of a reply).
public func rfc3339(_ date: Date) -> String {
    let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
    let (days, time) = seconds.quotientAndRemainder(dividingBy: 86_400)
    let (day, second) = time < 0 ? (days - 1, time + 86_400) : (days, time)
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(PostgresDate(daysSinceEpoch: Int(day)).description)T\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))Z"
}

/// Parses RFC 3339 strictly (`AshraiCore.RFC3339`).
public func parseRFC3339(_ text: String) -> Date? { RFC3339.parse(text) }

extension Services {
    /// Today on the business's clock (`business.timezone`) — the one "today" for every rule:
    /// due and overdue, aging and statements, promises, plans, training, dunning, pruning.
    /// (Database sessions run in UTC, so SQL never uses `current_date`; it is given this day.)
    public func today() -> PostgresDate { PostgresDate(daysSinceEpoch: clock.today) }

    /// `given`, or today when none was given (an `as_of` param's default).
    public func day(_ given: PostgresDate?) -> PostgresDate { given ?? today() }

    /// The instant now, from the same clock.
    public func now() -> Date { clock.now() }
}

extension PostgresRows {
    /// Each row through `decode`; a row that does not decode is logged (the error, never the
    /// row's values) and left out, so one bad stored value can never break a list for everyone.
    func decodeEach<T>(_ entity: String, logger: Logger, _ decode: (PostgresRow) throws -> T) -> [T] {
        compactMap { row in
            do { return try decode(row) } catch {
                logger.error("a stored row does not decode; left out of the list", metadata: ["entity": "\(entity)", "error": "\(error)"])
                return nil
            }
        }
    }

    /// The page's continuation: the last row's id when the page is full (counted before any row
    /// was left out, so a bad row never ends the pagination early).
    func nextAfter(limit: Int) -> JSONValue {
        guard count == limit, let id = try? last?.decode(Int64.self, column: "id") else { return .null }
        return .id(id)
    }
}

extension ServerSettings {
    /// PostgreSQL's bound on a statement (request or job).
    func callTimeout(system: Bool) -> Duration { system ? jobsCallTimeout : databaseCallTimeout }

    /// The client-side bound on a database call: a second past the server's own, so a slow statement is
    /// cancelled by PostgreSQL (and the connection kept), and only a server that does not answer at all
    /// runs into it (and the connection is closed).
    public func clientCallTimeout(system: Bool) -> Duration { callTimeout(system: system) + .seconds(1) }
}
