import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `auth.*`: login with throttling and lockout, resume, logout, whoami, change_password.
enum AuthMethods {
    static let handlers: [String: MethodHandler] = [
        "auth.login": login,
        "auth.resume": resume,
        "auth.logout": logout,
        "auth.whoami": whoami,
        "auth.change_password": changePassword,
    ]

    static func sessionResult(token: String, session: SessionInfo, user: UserRecord) -> JSONValue {
        ["token": .string(token), "expires_at": .string(rfc3339(session.expiresAt)), "user": user.json]
    }

    /// Unknown user, wrong password and disabled user give one identical 401 after the same
    /// work (a hash is verified either way). Failures count per username key — existing or
    /// not — and per address; a lock (423) therefore reveals nothing.
    static func login(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        let username = try params.string("username", maxLength: 64)
        let password = try params.string("password", maxLength: 1024)
        let key = Username.key(username)
        let throttle = services.settings.throttle
        let window = Int(throttle.window.components.seconds)
        let state = try await services.read(context) { try await $0.query("""
            SELECT
              (SELECT locked_until FROM account_locks WHERE username_key = \(key) AND locked_until > now()) AS locked_until,
              (SELECT count(*) FROM login_failures WHERE address = \(context.clientAddress)
                 AND at > now() - make_interval(secs => \(window))) AS address_failures
            """) }.one()
        if let lockedUntil = try state.decode(Date?.self, column: "locked_until") {
            let current = context
            try await services.transaction(current) { tx in
                try await Audit.record(tx, context: current, method: "auth.login", entity: "login", entityID: nil,
                                       details: ["outcome": "locked", "username_key": .string(key)])
            }
            throw RPCFailure(.locked, "too many failed logins; try again later",
                             data: ["retry_after": .string(rfc3339(lockedUntil))])
        }
        if throttle.throttles(addressFailuresInWindow: try state.decode(Int.self, column: "address_failures")) {
            let current = context
            try await services.transaction(current) { tx in
                try await Audit.record(tx, context: current, method: "auth.login", entity: "login", entityID: nil,
                                       details: ["outcome": "rate_limited", "username_key": .string(key)])
            }
            throw RPCFailure(.rateLimited, "too many failed logins from this address; try again later")
        }
        let userRows = try await services.read(context) { try await $0.query("""
            SELECT u.password_hash, \(unescaped: UserRecord.columns) FROM users u WHERE u.username_key = \(key)
            """) }
        let user = try userRows.first.map(UserRecord.init(row:))
        let hash = try userRows.first?.decode(String.self, column: "password_hash")
        let matches = try await services.secrets.verify(password: password, hash: hash)
        guard matches, let user, !user.isDisabled else {
            let current = context
            try await services.transaction(current) { tx in
                try await recordFailure(key: key, services: services, context: current, on: tx)
            }
            throw RPCFailure.badCredentials
        }
        var current = context
        let (token, session) = try await services.transaction(current) { tx in
            try await tx.query("DELETE FROM login_failures WHERE username_key = \(key)")
            let created = try await SessionStore.create(userID: user.id, services: services, context: current, on: tx)
            current.session = created.1
            try await Audit.record(tx, context: current, method: "auth.login", entity: "session",
                                   entityID: String(created.1.sessionID), details: ["outcome": "ok"])
            return created
        }
        context.session = session
        return sessionResult(token: token, session: session, user: user)
    }

    /// Counts a failure; the `maxFailures`-th in the window locks the key for a growing time.
    static func recordFailure(key: String, services: Services, context: CallContext, on tx: PostgresConnection) async throws {
        let throttle = services.settings.throttle
        let window = Int(throttle.window.components.seconds)
        try await tx.query("INSERT INTO login_failures (username_key, address) VALUES (\(key), \(context.clientAddress))")
        let failures = try await tx.query("""
            SELECT count(*) FROM login_failures WHERE username_key = \(key) AND at > now() - make_interval(secs => \(window))
            """).scalar(Int.self)
        var details: JSONObject = ["outcome": "failed", "username_key": .string(key)]
        if throttle.locks(failuresInWindow: failures) {
            let previous = try await tx.query(
                "SELECT lock_count FROM account_locks WHERE username_key = \(key) FOR UPDATE").first?.decode(Int.self, at: 0) ?? 0
            let lockNumber = previous + 1
            let seconds = Int(throttle.lockDuration(lockNumber: lockNumber).components.seconds)
            try await tx.query("""
                INSERT INTO account_locks (username_key, locked_until, lock_count)
                VALUES (\(key), now() + make_interval(secs => \(seconds)), \(lockNumber))
                ON CONFLICT (username_key) DO UPDATE SET locked_until = EXCLUDED.locked_until, lock_count = EXCLUDED.lock_count
                """)
            // The failures that caused this lock are spent; the next lock needs a fresh run.
            try await tx.query("DELETE FROM login_failures WHERE username_key = \(key)")
            details["locked_for_seconds"] = .int(seconds)
        }
        try await Audit.record(tx, context: context, method: "auth.login", entity: "login", entityID: nil, details: details)
    }

    static func resume(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        let token = try params.string("token", maxLength: 256)
        guard let session = try await SessionStore.find(token: token, services: services) else {
            throw RPCFailure.unauthenticated
        }
        context.session = session
        let user = try await services.read(context) { try await UserRecord.load(id: session.userID, on: $0) }
        guard let user else { throw RPCFailure.unauthenticated }
        return sessionResult(token: token, session: session, user: user)
    }

    static func logout(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let current = context
        try await services.transaction(current) { tx in
            try await SessionStore.revoke(sessionID: session.sessionID, on: tx)
            try await Audit.record(tx, context: current, method: "auth.logout", entity: "session", entityID: String(session.sessionID))
        }
        context.session = nil
        return ["ok": true]
    }

    static func whoami(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let user = try await services.read(context) { try await UserRecord.load(id: session.userID, on: $0) }
        guard let user else { throw RPCFailure.unauthenticated }
        return ["user": user.json, "expires_at": .string(rfc3339(session.expiresAt)), "must_change_password": .bool(session.mustChangePassword)]
    }

    static func changePassword(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let old = try params.string("old_password", maxLength: 1024)
        let new = try params.string("new_password", maxLength: 1024)
        if let problem = PasswordPolicy.problem(with: new) { throw RPCFailure.invalidParams("new_password", problem) }
        guard old != new else { throw RPCFailure.invalidParams("new_password", "the new password must differ from the old one") }
        let stored = try await services.read(context) { try await $0.query("SELECT password_hash FROM users WHERE id = \(session.userID)") }.scalar(String.self)
        guard try await services.secrets.verify(password: old, hash: stored) else {
            throw RPCFailure.invalidParams("old_password", "the old password does not match")
        }
        let newHash = try await services.secrets.hash(password: new)
        let current = context
        let ended = try await services.transaction(current) { tx in
            try await tx.query("""
                UPDATE users SET password_hash = \(newHash), must_change_password = false, updated_at = now(), version = version + 1
                WHERE id = \(session.userID)
                """)
            let ended = try await SessionStore.revokeAll(userID: session.userID, keeping: session.sessionID, on: tx)
            try await Audit.record(tx, context: current, method: "auth.change_password", entity: "user",
                                   entityID: String(session.userID), details: ["other_sessions_ended": .int(ended)])
            return ended
        }
        context.session?.mustChangePassword = false
        return ["ok": true, "other_sessions_ended": .int(ended)]
    }
}
