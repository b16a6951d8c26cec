import Foundation
import Logging
import NIOPosix

/// One migration file: `NNNN_description.sql`.
public struct PostgresMigration: Sendable, Equatable {
    /// The number before the first underscore.
    public var version: Int
    /// The file name.
    public var name: String
    /// The file's SQL text.
    public var sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Reads every `NNNN_*.sql` in a directory, sorted by version. Refuses two files with one
    /// version and files whose name does not start with a number.
    public static func load(from directory: URL) throws -> [PostgresMigration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(code: .migration, message: "cannot read migrations directory \(directory.path)")
        }
        var migrations: [PostgresMigration] = []
        for name in names where name.hasSuffix(".sql") {
            guard let prefix = name.split(separator: "_").first, let version = Int(prefix), version > 0 else {
                throw PostgresError(code: .migration, message: "migration file \(name) does not start with a version number (NNNN_name.sql)")
            }
            let sql: String
            do {
                sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            } catch {
                throw PostgresError(code: .migration, message: "cannot read migration \(name) as UTF-8")
            }
            if let clash = migrations.first(where: { $0.version == version }) {
                throw PostgresError(code: .migration, message: "migrations \(clash.name) and \(name) share version \(version)")
            }
            migrations.append(PostgresMigration(version: version, name: name, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }
}

/// What a migration run did.
public struct PostgresMigrationReport: Sendable, Equatable {
    /// Versions applied by this run, in order.
    public var applied: [Int]
    /// Versions that were already applied.
    public var alreadyApplied: [Int]
}

/// Applies migrations in order, each in its own transaction, and records each with a SHA-256 checksum (computed by
/// the server) in `schema_migrations`. An applied migration whose file has changed since is refused, as is a database
/// that holds a migration this build lacks.
///
/// Two daemons starting together do not race: every transaction the migrator makes first takes a transaction-scoped
/// advisory lock (`pg_advisory_xact_lock`) and looks again at what is applied, so the second waits for the first
/// and then skips what it did. Nothing is held between transactions, so migrating works through a pooler in
/// transaction mode too (no session-level lock to lose to another server connection).
public struct PostgresMigrator: Sendable {
    /// The advisory lock key: "ashrai" in ASCII.
    public static let defaultLockKey: Int64 = 0x6173_6872_6169

    /// The migrations to apply.
    public let migrations: [PostgresMigration]
    /// The advisory lock key.
    public let lockKey: Int64
    let logger: Logger

    /// Creates a migrator.
    public init(migrations: [PostgresMigration], lockKey: Int64 = PostgresMigrator.defaultLockKey, logger: Logger) {
        self.migrations = migrations
        self.lockKey = lockKey
        self.logger = logger
    }

    /// Applies what is pending. `beforeMigrations` and `afterMigrations` run in transactions of their own under the
    /// lock (for role set-up that must not race either).
    public func migrate(
        on connection: PostgresConnection,
        beforeMigrations: (PostgresConnection) async throws -> Void = { _ in },
        afterMigrations: (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> PostgresMigrationReport {
        let applied = try await locked(on: connection) { tx -> [Int: String] in
            try await beforeMigrations(tx)
            try await tx.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let applied = try await appliedChecksums(on: tx)
            try await verify(applied: applied, on: tx)
            return applied
        }
        var report = PostgresMigrationReport(applied: [], alreadyApplied: applied.keys.sorted())
        for migration in migrations where applied[migration.version] == nil {
            do {
                let done = try await locked(on: connection) { tx -> Bool in
                    // Another migrator may have applied it while this one waited for the lock.
                    guard try await tx.query("SELECT 1 FROM schema_migrations WHERE version = \(migration.version)").isEmpty else { return false }
                    logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                    try await tx.executeScript(migration.sql)
                    try await tx.execute("""
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex'))
                        """)
                    return true
                }
                if done { report.applied.append(migration.version) } else { report.alreadyApplied.append(migration.version) }
            } catch let error as PostgresError {
                var wrapped = error
                wrapped.code = .migration
                wrapped.message = "migration \(migration.name) failed: \(error.message)"
                throw wrapped
            }
        }
        try await locked(on: connection) { tx in try await afterMigrations(tx) }
        return report
    }

    /// One transaction holding the migration lock.
    private func locked<Result>(on connection: PostgresConnection, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await connection.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(\(lockKey))")
            return try await body(tx)
        }
    }

    /// Checks, without applying anything, that every migration of this build is applied and
    /// unchanged. Returns the versions still pending.
    public func pendingMigrations(on connection: PostgresConnection) async throws -> [Int] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").scalar(Bool.self)
        guard exists else { return migrations.map(\.version) }
        let applied = try await appliedChecksums(on: connection)
        try await verify(applied: applied, on: connection)
        return migrations.map(\.version).filter { applied[$0] == nil }
    }

    private func appliedChecksums(on connection: PostgresConnection) async throws -> [Int: String] {
        var applied: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM schema_migrations ORDER BY version") {
            applied[try row.decode(Int.self, column: "version")] = try row.decode(String.self, column: "checksum")
        }
        return applied
    }

    private func verify(applied: [Int: String], on connection: PostgresConnection) async throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, checksum) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw PostgresError(code: .migration, message: "the database has migration \(version), which this build does not know; is this build older than the database?")
            }
            let current = try await connection.query(
                "SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex')").scalar(String.self)
            guard current == checksum else {
                throw PostgresError(code: .migration, message: "migration \(migration.name) was changed after it was applied (checksum differs); add a new migration instead of editing an applied one")
            }
        }
    }
}
