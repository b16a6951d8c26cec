import Foundation
import Logging
import NIOPosix
import Postgres

/// Schema and roles: what `ashraid migrate` does, and what `serve` checks before it starts.
///
/// Two roles matter. The *migration role* (`ASHRAI_MIGRATION_DATABASE_URL`) owns the tables.
/// The *application role* (the user of `ASHRAI_DATABASE_URL`, default `ashrai_app`) is what
/// the daemon connects as: it owns nothing and gets its rights only through membership in the
/// NOLOGIN group `ashrai_application`, to which every migration grants exactly what the daemon
/// needs. So row-level security applies to the daemon, and a bug in it cannot drop a table or
/// rewrite the audit log.
public enum DatabaseSetup {
    /// The group role every migration grants to.
    public static let applicationGroup = "ashrai_application"
    /// The login role used when the application URL names no user.
    public static let defaultApplicationUser = "ashrai_app"
    /// The group whose members are the daemon's own jobs (the daily dunning run): the only
    /// sessions `ashrai_viewer()` lets claim the `system` identity. The application role is not
    /// a member, so a plain session of it cannot.
    public static let jobsGroup = "ashrai_jobs"

    /// The jobs' connection: the application's, as its login role + `_jobs` (same password),
    /// which `migrate` creates as a member of both groups.
    public static func jobsConfiguration(for application: PostgresConfiguration) -> PostgresConfiguration {
        application.setting("user", to: (application.user ?? defaultApplicationUser) + "_jobs")
    }

    /// Runs pending migrations as the owner, creating the group role before and the
    /// application login role after (when the owner may create roles), all under the
    /// migration advisory lock.
    public static func migrate(
        migrationURL: String,
        applicationURL: String,
        migrationsDirectory: String,
        logger: Logger
    ) async throws -> PostgresMigrationReport {
        let migrations = try PostgresMigration.load(from: URL(fileURLWithPath: migrationsDirectory))
        let applicationConfig = try PostgresConfiguration(url: applicationURL)
        let applicationUser = applicationConfig.user ?? defaultApplicationUser
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        defer { threadPool.shutdownGracefully { _ in } }
        let connection = try await PostgresConnection.connect(
            configuration: try PostgresConfiguration(url: migrationURL), threadPool: threadPool)
        let migrator = PostgresMigrator(migrations: migrations, logger: logger)
        return try await migrator.migrate(
            on: connection,
            beforeMigrations: { connection in
                try await ensureGroupRole(applicationGroup, on: connection)
                try await ensureGroupRole(jobsGroup, on: connection)
            },
            afterMigrations: { connection in
                try await ensureLoginRole(
                    named: applicationUser, password: applicationConfig.password, groups: [applicationGroup], on: connection, logger: logger)
                try await ensureLoginRole(
                    named: applicationUser + "_jobs", password: applicationConfig.password, groups: [applicationGroup, jobsGroup],
                    on: connection, logger: logger)
            })
    }

    /// Versions not yet applied (throws if an applied migration changed, or the database is newer).
    public static func pendingMigrations(
        on client: PostgresClient, migrationsDirectory: String, logger: Logger
    ) async throws -> [Int] {
        let migrations = try PostgresMigration.load(from: URL(fileURLWithPath: migrationsDirectory))
        let migrator = PostgresMigrator(migrations: migrations, logger: logger)
        return try await client.withConnection { try await migrator.pendingMigrations(on: $0) }
    }

    static func mayCreateRoles(on connection: PostgresConnection) async throws -> Bool {
        try await connection.query(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).scalar(Bool.self)
    }

    static func roleExists(_ name: String, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query("SELECT count(*) > 0 FROM pg_roles WHERE rolname = \(name)").scalar(Bool.self)
    }

    /// Runs DDL that the server itself assembled with `format('%I', …)` / `format('%L', …)`
    /// from bound parameters: role names and passwords cannot be `$n` in DDL.
    static func runFormatted(_ formatting: PostgresQuery, on connection: PostgresConnection) async throws {
        let statement = try await connection.query(formatting).scalar(String.self)
        try await connection.execute(PostgresQuery(unsafeSQL: statement))
    }

    /// Runs `runFormatted` inside a savepoint of the migration's transaction: a failure that `ignoring` accepts is
    /// rolled back to the savepoint and returned, and the transaction goes on.
    static func runFormatted(_ formatting: PostgresQuery, on connection: PostgresConnection,
                             ignoring: (PostgresError) -> Bool) async throws -> PostgresError? {
        try await connection.execute("SAVEPOINT ashrai_role")
        do {
            try await runFormatted(formatting, on: connection)
            try await connection.execute("RELEASE SAVEPOINT ashrai_role")
            return nil
        } catch let error as PostgresError where ignoring(error) {
            try await connection.execute("ROLLBACK TO SAVEPOINT ashrai_role")
            return error
        }
    }

    /// A role or membership that another migrate run (another database of the cluster) made meanwhile.
    static func alreadyThere(_ error: PostgresError) -> Bool { error.sqlState == "42710" || error.isUniqueViolation }

    /// Creates a NOLOGIN group role (`ashrai_application`, `ashrai_jobs`) if missing.
    static func ensureGroupRole(_ group: String, on connection: PostgresConnection) async throws {
        if try await roleExists(group, on: connection) { return }
        guard try await mayCreateRoles(on: connection) else {
            throw PostgresError(
                code: .migration,
                message: "role \(group) does not exist and the migration role may not create roles; have an administrator run: CREATE ROLE \(group) NOLOGIN")
        }
        // Created concurrently by another migrate run (other database, same cluster): fine.
        _ = try await runFormatted("SELECT format('CREATE ROLE %I NOLOGIN', \(group)::text)", on: connection, ignoring: alreadyThere)
    }

    /// Creates a login role if missing and makes it a member of `groups`.
    static func ensureLoginRole(
        named user: String, password: String?, groups: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let currentUser = try await connection.query("SELECT current_user::text").scalar(String.self)
        if user == currentUser {
            logger.warning("the application connects as the migration role; row-level security will not apply to it",
                           metadata: ["role": "\(user)"])
            return
        }
        let mayCreate = try await mayCreateRoles(on: connection)
        if !(try await roleExists(user, on: connection)) {
            guard mayCreate else {
                logger.warning("application role does not exist and the migration role may not create it",
                               metadata: ["role": "\(user)"])
                return
            }
            let create: PostgresQuery = if let password, !password.isEmpty {
                "SELECT format('CREATE ROLE %I LOGIN INHERIT PASSWORD %L', \(user)::text, \(password)::text)"
            } else {
                "SELECT format('CREATE ROLE %I LOGIN INHERIT', \(user)::text)"
            }
            if try await runFormatted(create, on: connection, ignoring: alreadyThere) == nil {   // else created concurrently
                logger.info("created application role", metadata: ["role": "\(user)"])
            }
        }
        for group in groups {
            let isMember = try await connection.query(
                "SELECT pg_has_role(\(user)::text, \(group)::text, 'MEMBER')").scalar(Bool.self)
            if isMember { continue }
            // Granted concurrently by another migrate run: fine; not allowed: say so.
            let refused = try await runFormatted("SELECT format('GRANT %I TO %I', \(group)::text, \(user)::text)", on: connection) {
                alreadyThere($0) || $0.sqlState == SQLState.insufficientPrivilege
            }
            if refused?.sqlState == SQLState.insufficientPrivilege {
                logger.warning("cannot grant a group to a login role; ask an administrator",
                               metadata: ["role": "\(user)", "group": "\(group)"])
            }
        }
        let isSuperuser = try await connection.query(
            "SELECT rolsuper FROM pg_roles WHERE rolname = \(user)").scalar(Bool.self)
        if isSuperuser {
            logger.warning("the application role is a superuser; row-level security will not apply to it",
                           metadata: ["role": "\(user)"])
        }
    }
}
