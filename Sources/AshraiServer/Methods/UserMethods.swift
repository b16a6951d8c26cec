import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `users.*` (admin only, per the catalog).
enum UserMethods {
    static let handlers: [String: MethodHandler] = [
        "users.create": create,
        "users.list": list,
        "users.get": get,
        "users.set_role": setRole,
        "users.disable": disable,
        "users.enable": enable,
        "users.reset_password": resetPassword,
    ]

    /// The agency of an agency login must exist and be active.
    static func requireAgency(_ agency: Int64?, on tx: PostgresConnection) async throws {
        guard let agency else { return }
        let active = try await tx.query("SELECT active FROM agencies WHERE id = \(agency)").first?.decode(Bool.self, at: 0)
        guard active == true else { throw RPCFailure.invalidParams("agency_id", "agency_id must be an active agency") }
    }

    /// An agency login needs its agency; no other role has one.
    static func agencyID(for role: Role, params: Params) throws -> Int64? {
        let agency = try params.optionalInt("agency_id").map(Int64.init)
        if role == .agency, agency == nil { throw RPCFailure.invalidParams("agency_id", "an agency user needs agency_id") }
        if role != .agency, agency != nil { throw RPCFailure.invalidParams("agency_id", "only agency users have an agency_id") }
        if let agency, agency <= 0 { throw RPCFailure.invalidParams("agency_id", "agency_id must be a positive integer") }
        return agency
    }

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let username = try params.string("username", maxLength: 64)
        if let problem = Username.problem(with: username) { throw RPCFailure.invalidParams("username", problem) }
        let password = try params.string("password", maxLength: 1024)
        if let problem = PasswordPolicy.problem(with: password, username: username, common: services.settings.commonPasswords) {
            throw RPCFailure.invalidParams("password", problem)
        }
        let role = try params.choice("role", Role.self)
        let displayName = try params.optionalString("display_name", maxLength: 200) ?? ""
        let agency = try agencyID(for: role, params: params)
        let hash = try await services.secrets.hash(password: password)
        let current = context
        do {
            return try await services.transaction(current) { tx in
                try await requireAgency(agency, on: tx)
                let row = try await tx.query("""
                    WITH u AS (
                        INSERT INTO users (username, username_key, display_name, role, agency_id, password_hash, must_change_password)
                        VALUES (\(username), \(Username.key(username)), \(displayName), \(role.rawValue), \(agency), \(hash), true)
                        RETURNING id, username, display_name, role, agency_id, must_change_password, disabled_at, created_at
                    )
                    SELECT \(unescaped: UserRecord.columns) FROM u
                    """).one()
                let user = try UserRecord(row: row)
                try await Audit.record(tx, context: current, method: "users.create", entity: "user",
                                       entityID: String(user.id), after: user.json)
                return user.json
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw RPCFailure.conflict("username is taken", data: ["field": "username"])
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let includeDisabled = try params.optionalBool("include_disabled") ?? true
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: UserRecord.columns) FROM users u
            WHERE \(includeDisabled) OR u.disabled_at IS NULL
            ORDER BY u.username_key
            """)
        return ["users": .array(rows.decodeEach("user", logger: context.logger) { try UserRecord(row: $0).json })]
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        guard let user = try await services.read(context, { try await UserRecord.load(id: id, on: $0) }) else {
            throw RPCFailure.notFound("user")
        }
        return user.json
    }

    /// Refuses to leave no active admin. All active admin rows are locked first, so two
    /// concurrent demotions (or disables) of the last two admins cannot both pass.
    static func ensureAnotherActiveAdmin(besides id: Int64, on tx: PostgresConnection) async throws {
        let admins = try await tx.query(
            "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE"
        ).map { try $0.decode(Int64.self, at: 0) }
        if admins.allSatisfy({ $0 == id }) {
            throw RPCFailure.ruleViolated(.lastAdmin, "the last active admin cannot be demoted or disabled")
        }
    }

    /// Loads, locks, changes and audits one user in one transaction.
    static func change(
        _ method: String, id: Int64, services: Services, context: CallContext,
        _ body: (UserRecord, PostgresConnection) async throws -> Void
    ) async throws -> JSONValue {
        try await services.transaction(context) { tx in
            guard let before = try await UserRecord.load(id: id, forUpdate: true, on: tx) else { throw RPCFailure.notFound("user") }
            try await body(before, tx)
            guard let after = try await UserRecord.load(id: id, on: tx) else { throw RPCFailure.notFound("user") }
            try await Audit.record(tx, context: context, method: method, entity: "user", entityID: String(id),
                                   before: before.json, after: after.json)
            return after.json
        }
    }

    static func setRole(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let role = try params.choice("role", Role.self)
        let agency = try agencyID(for: role, params: params)
        return try await change("users.set_role", id: id, services: services, context: context) { user, tx in
            if user.role == .admin, role != .admin, !user.isDisabled { try await ensureAnotherActiveAdmin(besides: id, on: tx) }
            try await requireAgency(agency, on: tx)
            try await tx.query("""
                UPDATE users SET role = \(role.rawValue), agency_id = \(agency), updated_at = now(), version = version + 1 WHERE id = \(id)
                """)
        }
    }

    static func disable(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        return try await change("users.disable", id: id, services: services, context: context) { user, tx in
            if user.role == .admin, !user.isDisabled { try await ensureAnotherActiveAdmin(besides: id, on: tx) }
            try await tx.query("""
                UPDATE users SET disabled_at = coalesce(disabled_at, now()), updated_at = now(), version = version + 1 WHERE id = \(id)
                """)
            try await SessionStore.revokeAll(userID: id, on: tx)
        }
    }

    static func enable(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        return try await change("users.enable", id: id, services: services, context: context) { _, tx in
            try await tx.query("UPDATE users SET disabled_at = NULL, updated_at = now(), version = version + 1 WHERE id = \(id)")
        }
    }

    static func resetPassword(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let password = try params.string("password", maxLength: 1024)
        let username = try await services.read(context) { try await UserRecord.load(id: id, on: $0) }?.username
        if let problem = PasswordPolicy.problem(with: password, username: username, common: services.settings.commonPasswords) {
            throw RPCFailure.invalidParams("password", problem)
        }
        let hash = try await services.secrets.hash(password: password)
        return try await change("users.reset_password", id: id, services: services, context: context) { _, tx in
            try await tx.query("""
                UPDATE users SET password_hash = \(hash), must_change_password = true, updated_at = now(), version = version + 1
                WHERE id = \(id)
                """)
            try await SessionStore.revokeAll(userID: id, on: tx)
        }
    }
}
