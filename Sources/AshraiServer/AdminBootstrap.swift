import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// Creating the first admin (or resetting one) from the command line, audited as the system.
public enum AdminBootstrap {
    /// What happened.
    public enum Outcome: Equatable, Sendable {
        /// A new admin.
        case created
        /// An existing user became an active admin with the new password.
        case reset
        /// `onlyIfNone` and an active admin exists.
        case skipped
    }

    /// A refusal with a message for the operator.
    public struct Failure: Error {
        /// What is wrong.
        public let message: String
    }

    /// Creates `username` as admin, or resets that user's password, role and enabled state. Runs as
    /// the daemon (`system`) on the jobs' login role beside `database`'s: nobody is signed in.
    public static func createOrReset(
        username: String, password: String, mustChangePassword: Bool, onlyIfNone: Bool,
        database: PostgresClient, secrets: Secrets
    ) async throws -> Outcome {
        if let problem = Username.problem(with: username) { throw Failure(message: problem) }
        if let problem = PasswordPolicy.problem(with: password, username: username, common: ServerSettings.systemCommonPasswords) {
            throw Failure(message: problem)
        }
        let hash = try await secrets.hash(password: password)
        let context = CallContext(connectionID: 0, clientAddress: "ashraid create-admin", logger: .init(label: "ashraid"))
        let jobs = PostgresClient(configuration: DatabaseSetup.jobsConfiguration(for: database.configuration), maxConnections: 1,
                                  logger: .init(label: "ashraid"))
        defer { Task { await jobs.shutdown() } }
        return try await jobs.withRetryingTransaction(isolation: .serializable) { tx in
            try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
            if onlyIfNone {
                let admins = try await tx.query("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL").scalar(Int.self)
                if admins > 0 { return .skipped }
            }
            let key = Username.key(username)
            let existing = try await tx.query("SELECT id FROM users WHERE username_key = \(key) FOR UPDATE").first?.decode(Int64.self, at: 0)
            let id: Int64
            let outcome: Outcome
            if let existing {
                try await tx.query("""
                    UPDATE users SET role = 'admin', agency_id = NULL, password_hash = \(hash), disabled_at = NULL,
                           must_change_password = \(mustChangePassword), updated_at = now(), version = version + 1
                    WHERE id = \(existing)
                    """)
                try await tx.query("UPDATE sessions SET revoked_at = now() WHERE user_id = \(existing) AND revoked_at IS NULL")
                id = existing
                outcome = .reset
            } else {
                id = try await tx.query("""
                    INSERT INTO users (username, username_key, display_name, role, password_hash, must_change_password)
                    VALUES (\(username), \(key), \("Administrator"), 'admin', \(hash), \(mustChangePassword))
                    RETURNING id
                    """).scalar(Int64.self)
                outcome = .created
            }
            try await Audit.record(tx, context: context, method: "ashraid.create-admin", entity: "user", entityID: String(id),
                                   details: ["outcome": .string(outcome == .created ? "created" : "reset")])
            return outcome
        }
    }
}
