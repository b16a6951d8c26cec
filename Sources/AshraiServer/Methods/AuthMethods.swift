import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `auth.*`: login with throttling and lockout, resume, logout, whoami, change_password.
enum AuthMethods {
    static let handlers: [String: MethodHandler] = [
        "auth.whoami": whoami,
    ]

    /// The methods that start, continue or end the connection's session.
    static let sessionHandlers: [String: SessionHandler] = [
        "auth.login": login,
        "auth.resume": resume,
        "auth.logout": logout,
        "auth.change_password": changePassword,
    ]

    static func sessionResult(token: String, session: SessionInfo, user: UserRecord) -> JSONValue {
        ["token": .string(token), "expires_at": .string(rfc3339(session.expiresAt)), "user": user.json]
    }

    /// Unknown user, wrong password and disabled user give one identical 401 after the same
    /// work (a hash is verified either way). Failures count per username key — existing or
    /// not — and per address; a lock (423) therefore reveals nothing. Every attempt is counted
    /// as a failure before its password is checked (`reserveAttempt`, under the name's row
    /// lock), so attempts sent at the same moment cannot all slip under the limit. Until the
    /// session exists nobody is signed in, so the daemon acts (`asDaemon`): the throttle tables and
    /// password hashes are row-level-secured to it alone.
    static func login(services: Services, context: CallContext, params: Params) async throws -> (result: JSONValue, session: SessionInfo?) {
        let username = try params.string("username", maxLength: 64)
        let password = try params.string("password", maxLength: 1024)
        let key = Username.key(username)
        let daemon = context.asDaemon
        let attempt = try await reserveAttempt(key: key, method: "auth.login", services: services, context: daemon)
        let userRows = try await services.read(daemon, query: """
            SELECT u.password_hash, \(unescaped: UserRecord.columns) FROM users u WHERE u.username_key = \(key)
            """)
        let user = try userRows.first.map(UserRecord.init(row:))
        let hash = try userRows.first?.decode(String.self, column: "password_hash")
        let matches = try await services.secrets.verify(password: password, hash: hash)
        guard matches, let user, !user.isDisabled else {
            _ = try await recordFailure(key: key, attempt: attempt, method: "auth.login", services: services, context: daemon)
            throw RPCFailure.badCredentials
        }
        var current = daemon
        let (token, session) = try await services.transaction(current) { tx in
            try await clearFailures(key: key, attempt: attempt, on: tx)
            let created = try await SessionStore.create(userID: user.id, services: services, context: current, on: tx)
            current.session = created.1
            try await Audit.record(tx, context: current, method: "auth.login", entity: "session",
                                   entityID: String(created.1.sessionID), details: ["outcome": "ok"])
            return created
        }
        return (sessionResult(token: token, session: session, user: user), session)
    }

    /// What a password attempt may do, decided under the name's throttle row lock.
    enum Attempt {
        case reserved(Int64)
        case locked(Date)
        case rateLimited
        /// Failures and attempts still being checked reach the limit: wait for them.
        case busy
    }

    /// How long an attempt waits for others on the same name to be decided before it gives up (429).
    static let busyWait: Duration = .seconds(30)

    /// Writes an attempt on `key` down (pending) before its password is checked, and says whether
    /// it may go on. The name's `account_locks` row (created on first use) is locked first, so
    /// attempts on one name are counted one after the other, and the pending ones count against
    /// the limit with the failures: of 40 wrong passwords sent at once, at most the limit are
    /// checked; the others wait (outside the database) until those are decided — then find the
    /// lock. Legitimate logins sent at once just wait their turn. The counts are read after the
    /// row lock (a statement of their own, so READ COMMITTED sees every attempt committed before
    /// it). The address's count is every failure from it in the window, whatever name was tried
    /// (a lock no longer erases them); attempts still in flight do not count there, so staff
    /// behind one address logging in at nine o'clock are not turned away.
    static func reserveAttempt(key: String, method: String, services: Services, context: CallContext) async throws -> Int64 {
        let started = ContinuousClock.now
        while true {
            switch try await tryReserve(key: key, method: method, services: services, context: context) {
            case .reserved(let id): return id
            case .locked(let until):
                throw RPCFailure(.locked, "too many failed attempts; try again later", data: ["retry_after": .string(rfc3339(until))])
            case .rateLimited:
                throw RPCFailure(.rateLimited, "too many failed logins from this address; try again later")
            case .busy:
                guard ContinuousClock.now - started < busyWait else {
                    throw RPCFailure(.rateLimited, "too many attempts on this name at once; try again later")
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...60)))
            }
        }
    }

    /// One try of `reserveAttempt`, in one transaction.
    static func tryReserve(key: String, method: String, services: Services, context: CallContext) async throws -> Attempt {
        let throttle = services.settings.throttle
        let window = Int(throttle.window.components.seconds)
        let current = context
        return try await services.transaction(current) { tx -> Attempt in
            try await tx.query("""
                INSERT INTO account_locks (username_key, locked_until, lock_count) VALUES (\(key), '-infinity', 0)
                ON CONFLICT (username_key) DO NOTHING
                """)
            try await tx.query("SELECT 1 FROM account_locks WHERE username_key = \(key) FOR UPDATE")
            let state = try await tx.query("""
                SELECT CASE WHEN l.locked_until > now() THEN l.locked_until END AS locked_until,
                       (SELECT count(*) FROM login_failures f WHERE f.username_key = l.username_key
                          AND f.at > greatest(now() - make_interval(secs => \(window)), l.counted_from)
                          AND NOT (f.pending AND f.at > now() - interval '1 minute')) AS name_failures,
                       (SELECT count(*) FROM login_failures f WHERE f.username_key = l.username_key
                          AND f.pending AND f.at > now() - interval '1 minute') AS in_flight,
                       (SELECT count(*) FROM login_failures f WHERE f.address = \(current.clientAddress)
                          AND f.at > now() - make_interval(secs => \(window))
                          AND NOT (f.pending AND f.at > now() - interval '1 minute')) AS address_failures
                FROM account_locks l WHERE l.username_key = \(key)
                """).one()
            if let until = try state.decode(Date?.self, column: "locked_until") {
                try await Audit.record(tx, context: current, method: method, entity: "login", entityID: nil,
                                       details: ["outcome": "locked", "username_key": .string(key)])
                return .locked(until)
            }
            if throttle.throttles(addressFailuresInWindow: try state.decode(Int.self, column: "address_failures")) {
                try await Audit.record(tx, context: current, method: method, entity: "login", entityID: nil,
                                       details: ["outcome": "rate_limited", "username_key": .string(key)])
                return .rateLimited
            }
            let failures = try state.decode(Int.self, column: "name_failures")
            if let until = try await lockIfDue(key: key, failures: failures, method: method, services: services, context: current, on: tx) {
                return .locked(until)
            }
            if throttle.locks(failuresInWindow: failures + (try state.decode(Int.self, column: "in_flight"))) { return .busy }
            return .reserved(try await tx.query("""
                INSERT INTO login_failures (username_key, address, pending) VALUES (\(key), \(current.clientAddress), true) RETURNING id
                """).scalar(Int64.self))
        }
    }

    /// Locks `key` when `failures` (in the window, since the last lock or success) reach the
    /// limit: for a growing time, and the count starts again after it. The caller holds the
    /// name's row lock. Returns the lock's end when it locked.
    static func lockIfDue(key: String, failures: Int, method: String, services: Services, context: CallContext,
                          on tx: PostgresConnection) async throws -> Date? {
        let throttle = services.settings.throttle
        guard throttle.locks(failuresInWindow: failures) else { return nil }
        let lockNumber = try await tx.query("SELECT lock_count FROM account_locks WHERE username_key = \(key)").scalar(Int.self) + 1
        let seconds = Int(throttle.lockDuration(lockNumber: lockNumber).components.seconds)
        let until = try await tx.query("""
            UPDATE account_locks SET locked_until = now() + make_interval(secs => \(seconds)), lock_count = \(lockNumber), counted_from = now()
            WHERE username_key = \(key) RETURNING locked_until
            """).scalar(Date.self)
        try await Audit.record(tx, context: context, method: method, entity: "login", entityID: nil,
                               details: ["outcome": "locked", "username_key": .string(key), "locked_for_seconds": .int(seconds)])
        return until
    }

    /// After a wrong password: the attempt becomes a failure; audited; and when it was the
    /// limit's last, the name is locked now. Returns whether it locked.
    static func recordFailure(key: String, attempt: Int64, method: String, services: Services, context: CallContext) async throws -> Bool {
        let window = Int(services.settings.throttle.window.components.seconds)
        return try await services.transaction(context) { tx in
            try await tx.query("SELECT 1 FROM account_locks WHERE username_key = \(key) FOR UPDATE")
            try await tx.query("UPDATE login_failures SET pending = false WHERE id = \(attempt)")
            let failures = try await tx.query("""
                SELECT count(*) FROM login_failures f JOIN account_locks l ON l.username_key = f.username_key
                WHERE f.username_key = \(key) AND f.at > greatest(now() - make_interval(secs => \(window)), l.counted_from)
                  AND NOT (f.pending AND f.at > now() - interval '1 minute')
                """).scalar(Int.self)
            try await Audit.record(tx, context: context, method: method, entity: "login", entityID: nil,
                                   details: ["outcome": "failed", "username_key": .string(key)])
            return try await lockIfDue(key: key, failures: failures, method: method, services: services, context: context, on: tx) != nil
        }
    }

    /// After the right password: the attempt was not a failure, and the name's count starts
    /// again (the rows stay for the per-address count).
    static func clearFailures(key: String, attempt: Int64, on tx: PostgresConnection) async throws {
        try await tx.query("DELETE FROM login_failures WHERE id = \(attempt)")
        try await tx.query("UPDATE account_locks SET counted_from = now() WHERE username_key = \(key)")
    }

    static func resume(services: Services, context: CallContext, params: Params) async throws -> (result: JSONValue, session: SessionInfo?) {
        let token = try params.string("token", maxLength: 256)
        guard let session = try await SessionStore.find(token: token, services: services) else {
            throw RPCFailure.unauthenticated
        }
        var resumed = context
        resumed.session = session
        let user = try await UserRecord.first(of: try await services.read(resumed, query: UserRecord.query(id: session.userID)))
        guard let user else { throw RPCFailure.unauthenticated }
        return (sessionResult(token: token, session: session, user: user), session)
    }

    /// Revokes `session` (audited). The connection's next call finds it revoked (401).
    static func endSession(_ session: SessionInfo, services: Services, context: CallContext) async throws {
        try await services.transaction(context) { tx in
            try await SessionStore.revoke(sessionID: session.sessionID, on: tx)
            try await Audit.record(tx, context: context, method: "auth.change_password", entity: "session",
                                   entityID: String(session.sessionID), details: ["outcome": "session_ended"])
        }
    }

    static func logout(services: Services, context: CallContext, params: Params) async throws -> (result: JSONValue, session: SessionInfo?) {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        try await services.transaction(context) { tx in
            try await SessionStore.revoke(sessionID: session.sessionID, on: tx)
            try await Audit.record(tx, context: context, method: "auth.logout", entity: "session", entityID: String(session.sessionID))
        }
        return (["ok": true], nil)
    }

    static func whoami(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let user = try await UserRecord.first(of: try await services.read(context, query: UserRecord.query(id: session.userID)))
        guard let user else { throw RPCFailure.unauthenticated }
        return ["user": user.json, "expires_at": .string(rfc3339(session.expiresAt)), "must_change_password": .bool(session.mustChangePassword)]
    }

    static func changePassword(services: Services, context: CallContext, params: Params) async throws -> (result: JSONValue, session: SessionInfo?) {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let old = try params.string("old_password", maxLength: 1024)
        let new = try params.string("new_password", maxLength: 1024)
        if let problem = PasswordPolicy.problem(with: new, username: session.username, common: services.settings.commonPasswords) { throw RPCFailure.invalidParams("new_password", problem) }
        guard old != new else { throw RPCFailure.invalidParams("new_password", "the new password must differ from the old one") }
        // Throttled like login, on the same count: a stolen session cannot guess the password.
        // When the guesses lock the name, the session that made them ends too.
        let key = Username.key(session.username)
        let daemon = context.asDaemon
        let attempt: Int64
        do {
            attempt = try await reserveAttempt(key: key, method: "auth.change_password", services: services, context: daemon)
        } catch let failure as RPCFailure where failure.code == .locked {
            try await endSession(session, services: services, context: context)
            throw failure
        }
        let stored = try await services.read(daemon, query: "SELECT password_hash FROM users WHERE id = \(session.userID)").scalar(String.self)
        guard try await services.secrets.verify(password: old, hash: stored) else {
            if try await recordFailure(key: key, attempt: attempt, method: "auth.change_password", services: services, context: daemon) {
                try await endSession(session, services: services, context: context)
                throw RPCFailure(.locked, "too many wrong passwords: the account is locked and this session has ended")
            }
            throw RPCFailure.invalidParams("old_password", "the old password does not match")
        }
        let newHash = try await services.secrets.hash(password: new)
        let current = daemon
        let ended = try await services.transaction(current) { tx in
            try await clearFailures(key: key, attempt: attempt, on: tx)
            try await tx.query("""
                UPDATE users SET password_hash = \(newHash), must_change_password = false, updated_at = now(), version = version + 1
                WHERE id = \(session.userID)
                """)
            let ended = try await SessionStore.revokeAll(userID: session.userID, keeping: session.sessionID, on: tx)
            try await Audit.record(tx, context: current, method: "auth.change_password", entity: "user",
                                   entityID: String(session.userID), details: ["other_sessions_ended": .int(ended)])
            return ended
        }
        var changed = session
        changed.mustChangePassword = false
        return (["ok": true, "other_sessions_ended": .int(ended)], changed)
    }
}
