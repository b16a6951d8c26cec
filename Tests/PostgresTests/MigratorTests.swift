import AshraiTestSupport
import Foundation
import NIOPosix
import Postgres
import Testing

@Suite("migrator")
struct MigratorTests {
    /// A directory of migration files for one test.
    static func directory(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("migrations"))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    static func migrate(_ directory: URL, database: TestDatabase) async throws -> PostgresMigrationReport {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let connection = try await PostgresConnection.connect(configuration: database.ownerConfiguration, threadPool: pool)
        let migrator = PostgresMigrator(migrations: try PostgresMigration.load(from: directory), logger: makeTestLogger())
        return try await migrator.migrate(on: connection)
    }

    @Test("migrations apply in version order, and applying twice is a no-op")
    func applyTwice() async throws {
        let database = try await TestDatabase.create("mig_twice")
        let dir = try Self.directory([
            "0002_more.sql": "ALTER TABLE t ADD COLUMN b int; INSERT INTO t VALUES (1, 2);",
            "0001_first.sql": "CREATE TABLE t (a int);",
        ])
        let first = try await Self.migrate(dir, database: database)
        #expect(first.applied == [1, 2])
        let second = try await Self.migrate(dir, database: database)
        #expect(second.applied == [])
        #expect(second.alreadyApplied == [1, 2])
        let db = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        #expect(try await db.query("SELECT count(*) FROM t").scalar(Int.self) == 1)
        #expect(try await db.query("SELECT count(*) FROM schema_migrations").scalar(Int.self) == 2)
        await db.shutdown()
    }

    @Test("two migrate runs started at once both succeed and apply each file once")
    func concurrentRuns() async throws {
        let database = try await TestDatabase.create("mig_race")
        let dir = try Self.directory([
            "0001_slow.sql": "CREATE TABLE counter (n int); SELECT pg_sleep(0.3); INSERT INTO counter VALUES (1);",
            "0002_again.sql": "INSERT INTO counter VALUES (2);",
        ])
        async let a = Self.migrate(dir, database: database)
        async let b = Self.migrate(dir, database: database)
        let (ra, rb) = try await (a, b)
        #expect((ra.applied + rb.applied).sorted() == [1, 2])
        let db = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        #expect(try await db.query("SELECT count(*) FROM counter").scalar(Int.self) == 2)
        await db.shutdown()
    }

    @Test("an applied migration whose file changed is refused with a clear error")
    func changedFileRefused() async throws {
        let database = try await TestDatabase.create("mig_changed")
        let dir = try Self.directory(["0001_first.sql": "CREATE TABLE t (a int);"])
        _ = try await Self.migrate(dir, database: database)
        try "CREATE TABLE t (a bigint);".write(to: dir.appendingPathComponent("0001_first.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE u (a int);".write(to: dir.appendingPathComponent("0002_next.sql"), atomically: true, encoding: .utf8)
        let error = try await #require(throws: PostgresError.self) { try await Self.migrate(dir, database: database) }
        #expect(error.code == .migration)
        #expect(error.message.contains("0001_first.sql") && error.message.contains("changed"))
        // Nothing after the refusal was applied.
        let db = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        #expect(try await db.query("SELECT to_regclass('u') IS NULL").scalar(Bool.self))
        await db.shutdown()
    }

    @Test("a failing migration rolls back entirely and is not recorded")
    func failingMigrationRollsBack() async throws {
        let database = try await TestDatabase.create("mig_fail")
        let dir = try Self.directory([
            "0001_ok.sql": "CREATE TABLE t (a int);",
            "0002_bad.sql": "CREATE TABLE half (a int); INSERT INTO nope VALUES (1);",
        ])
        let error = try await #require(throws: PostgresError.self) { try await Self.migrate(dir, database: database) }
        #expect(error.code == .migration && error.message.contains("0002_bad.sql"))
        let db = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        #expect(try await db.query("SELECT to_regclass('half') IS NULL").scalar(Bool.self))
        #expect(try await db.query("SELECT array_agg(version)::text FROM schema_migrations").scalar(String.self) == "{1}")
        await db.shutdown()
    }

    @Test("a database with a migration this build does not know is refused")
    func newerDatabaseRefused() async throws {
        let database = try await TestDatabase.create("mig_newer")
        let full = try Self.directory(["0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;"])
        _ = try await Self.migrate(full, database: database)
        let older = try Self.directory(["0001_a.sql": "SELECT 1;"])
        let error = try await #require(throws: PostgresError.self) { try await Self.migrate(older, database: database) }
        #expect(error.message.contains("does not know"))
    }

    @Test("badly named or duplicate-version files are refused when loading")
    func loadingRules() throws {
        let unnamed = try Self.directory(["init.sql": "SELECT 1;"])
        #expect(throws: PostgresError.self) { try PostgresMigration.load(from: unnamed) }
        let duplicate = try Self.directory(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        #expect(throws: PostgresError.self) { try PostgresMigration.load(from: duplicate) }
    }
}
