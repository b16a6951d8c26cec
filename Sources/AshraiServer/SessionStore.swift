import AshraiCore
import AshraiProtocol
import Foundation
import Postgres
import Synchronization

/// Sessions live in PostgreSQL, so any daemon on the same database accepts a token, and a
/// logout or a disabled user takes effect on the next request everywhere. A session is found
/// only by its token's hash, through `ashrai_session_check` (row-level security shows the
/// `sessions` table to nobody before login).
enum SessionStore {
    /// The user columns every session query reads (the same as a `UserRecord`'s).
    static let userColumns = UserRecord.columns

    /// Creates a session; returns the token (shown once, never stored) and the session. `tx` is
    /// the login's transaction, which runs as the daemon (`system`): nobody is signed in yet.
    static func create(userID: Int64, services: Services, context: CallContext, on tx: PostgresConnection) async throws -> (String, SessionInfo) {
        let token = Secrets.token()
        let tokenHash = Secrets.tokenHash(token)
        let lifetime = Int(services.settings.sessionLifetime.components.seconds)
        let row = try await tx.query("""
            WITH s AS (
                INSERT INTO sessions (user_id, token_hash, expires_at, client_address)
                VALUES (\(userID), \(tokenHash), now() + make_interval(secs => \(lifetime)), \(context.clientAddress))
                RETURNING id, user_id, expires_at
            )
            SELECT s.id AS session_id, s.expires_at, \(unescaped: userColumns)
            FROM s JOIN users u ON u.id = s.user_id
            """).one()
        return (token, try sessionInfo(row, tokenHash: tokenHash))
    }

    /// The live session for a token, or nil (unknown, revoked, expired, idle too long, user disabled).
    static func find(token: String, services: Services) async throws -> SessionInfo? {
        try await check(tokenHash: Secrets.tokenHash(token), services: services)
    }

    /// Re-reads a connection's session before a call: still live, and the user's current role.
    static func refresh(_ session: SessionInfo, services: Services) async throws -> SessionInfo? {
        try await check(tokenHash: session.tokenHash, services: services)
    }

    /// One round trip: `ashrai_session_check` answers the live session behind a token's hash and
    /// writes `last_seen_at` when it is older than 30 s, so the hot path stays read-mostly.
    static func check(tokenHash: [UInt8], services: Services) async throws -> SessionInfo? {
        let rows = try await services.database.query(checkQuery(tokenHash: tokenHash, settings: services.settings))
        return try rows.first.map { try sessionInfo($0, tokenHash: tokenHash) }
    }

    /// The statement that answers the live session behind a token's hash (no row: none).
    static func checkQuery(tokenHash: [UInt8], settings: ServerSettings) -> PostgresQuery {
        let idle = Int(settings.sessionIdleLifetime.components.seconds)
        return "SELECT * FROM ashrai_session_check(\(tokenHash), \(idle)::integer)"
    }

    /// Ends one session.
    static func revoke(sessionID: Int64, on tx: PostgresConnection) async throws {
        try await tx.query("UPDATE sessions SET revoked_at = now() WHERE id = \(sessionID) AND revoked_at IS NULL")
    }

    /// Ends every session of a user except `keeping`; returns how many.
    @discardableResult
    static func revokeAll(userID: Int64, keeping: Int64? = nil, on tx: PostgresConnection) async throws -> Int {
        try await tx.execute("""
            UPDATE sessions SET revoked_at = now()
            WHERE user_id = \(userID) AND revoked_at IS NULL AND (\(keeping)::bigint IS NULL OR id <> \(keeping))
            """)
    }

    /// A session row: `session_id`, `expires_at` and the user's columns (`UserRecord`'s).
    static func sessionInfo(_ row: PostgresRow, tokenHash: [UInt8]) throws -> SessionInfo {
        let user = try row.decode(UserRecord.self)
        return SessionInfo(
            sessionID: try row.decode(Int64.self, column: "session_id"), tokenHash: tokenHash, userID: user.id, username: user.username,
            role: user.role, agencyID: user.agencyID, mustChangePassword: user.mustChangePassword,
            expiresAt: try row.decode(Date.self, column: "expires_at"))
    }
}

/// A request's session check, made in the request's first transaction, in the same round trip as its `BEGIN`
/// and settings, on the same connection as its work — instead of on a lease of its own before the handler.
///
/// The Dispatcher makes one for a plain method that needs a session (and has no training gate);
/// `Services.read` / `transaction` send it with the first transaction's prelude and `judge` its row before the
/// handler's first statement runs (401 when the session is gone, 403 when the role may not call the method), so
/// a revoked session, a disabled user or a changed role still applies on the very next request, and no work runs
/// for it. Should a handler finish without a transaction, the Dispatcher runs the check on its own afterwards.
final class SessionCheck: Sendable {
    enum Outcome: Sendable, Equatable {
        case pending
        case live(SessionInfo)
        case gone
    }

    /// The session the connection had before this request.
    let session: SessionInfo
    let method: String
    let spec: MethodSpec
    private let state = Mutex<Outcome>(.pending)

    init(session: SessionInfo, method: String, spec: MethodSpec) {
        self.session = session
        self.method = method
        self.spec = spec
    }

    var outcome: Outcome { state.withLock { $0 } }
    var isPending: Bool { outcome == .pending }

    func query(_ settings: ServerSettings) -> PostgresQuery { SessionStore.checkQuery(tokenHash: session.tokenHash, settings: settings) }

    /// Records what the check's rows say and throws what the caller must be answered instead of the call.
    func judge(_ rows: PostgresRows) throws {
        guard let row = rows.first else {
            state.withLock { $0 = .gone }
            throw RPCFailure.unauthenticated
        }
        let refreshed = try SessionStore.sessionInfo(row, tokenHash: session.tokenHash)
        state.withLock { $0 = .live(refreshed) }
        try Dispatcher.authorize(refreshed, method: method, spec: spec)
    }

    /// The check on its own lease (a handler that made no transaction, or work that must start as the daemon).
    func runAlone(_ services: Services) async throws {
        guard isPending else { return }
        try judge(try await services.database.query(query(services.settings)))
    }
}
