import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("schema, roles and the audit log")
struct DatabaseSetupTests {
    @Test("migrating the repository's SQL twice is a no-op the second time")
    func migrateTwice() async throws {
        let database = try await TestDatabase.create("setup_twice")
        let first = try await DatabaseSetup.migrate(
            migrationURL: database.ownerURL, applicationURL: database.applicationURL,
            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        #expect(first.applied.first == 1)
        let second = try await DatabaseSetup.migrate(
            migrationURL: database.ownerURL, applicationURL: database.applicationURL,
            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        #expect(second.applied.isEmpty)
        #expect(second.alreadyApplied == first.applied)
    }

    @Test("two `migrate` runs started at once both succeed and apply each file once")
    func concurrentMigrate() async throws {
        let database = try await TestDatabase.create("setup_race")
        func run() async throws -> PostgresMigrationReport {
            try await DatabaseSetup.migrate(
                migrationURL: database.ownerURL, applicationURL: database.applicationURL,
                migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        }
        async let a = run()
        async let b = run()
        let (ra, rb) = try await (a, b)
        let all = try PostgresMigration.load(from: URL(fileURLWithPath: TestDatabase.migrationsDirectory)).map(\.version)
        #expect((ra.applied + rb.applied).sorted() == all)
        let owner = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        #expect(try await owner.query("SELECT count(*) FROM schema_migrations").scalar(Int.self) == all.count)
        await owner.shutdown()
    }

    @Test("serve's check: a fresh database has pending migrations, a migrated one none")
    func pendingCheck() async throws {
        let fresh = try await TestDatabase.create("setup_pending")
        let freshClient = PostgresClient(configuration: fresh.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        #expect(try await DatabaseSetup.pendingMigrations(
            on: freshClient, migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
            == (try PostgresMigration.load(from: URL(fileURLWithPath: TestDatabase.migrationsDirectory)).map(\.version)))
        await freshClient.shutdown()
        let app = try await Shared.appClient.value
        #expect(try await DatabaseSetup.pendingMigrations(
            on: app, migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger()).isEmpty)
    }

    @Test("the application role owns nothing, is no superuser, and cannot create tables")
    func applicationRoleIsUnprivileged() async throws {
        let app = try await Shared.appClient.value
        let row = try await app.query("""
            SELECT current_user::text AS me, r.rolsuper, r.rolcreaterole, r.rolcreatedb,
                   pg_has_role(current_user, 'ashrai_application', 'MEMBER') AS member,
                   (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned
            FROM pg_roles r WHERE r.rolname = current_user
            """).one()
        #expect(try row.decode(String.self, column: "me") == "ashrai_app")
        #expect(try !row.decode(Bool.self, column: "rolsuper"))
        #expect(try !row.decode(Bool.self, column: "rolcreaterole"))
        #expect(try !row.decode(Bool.self, column: "rolcreatedb"))
        #expect(try row.decode(Bool.self, column: "member"))
        #expect(try row.decode(Int.self, column: "owned") == 0)
        let error = try await #require(throws: PostgresError.self) { try await app.query("CREATE TABLE sneaky (a int)") }
        #expect(error.sqlState == SQLState.insufficientPrivilege)
    }

    @Test("the application role may append to audit_log and read it (as someone), never UPDATE, DELETE or TRUNCATE")
    func auditLogAppendOnlyForApplication() async throws {
        let app = try await Shared.appClient.value
        let id = try await app.asSystem("""
            INSERT INTO audit_log (actor_username, action, entity_type, entity_id, after)
            VALUES (\("דנה"), 'customers.create', 'customer', '17', \(PostgresJSON(["name": "לקוח"])))
            RETURNING id
            """).scalar(Int64.self)
        #expect(try await app.asSystem("SELECT actor_username FROM audit_log WHERE id = \(id)").scalar(String.self) == "דנה")
        for statement: PostgresQuery in [
            "UPDATE audit_log SET action = 'x' WHERE id = \(id)",
            "DELETE FROM audit_log WHERE id = \(id)",
            "TRUNCATE audit_log",
        ] {
            let error = try await #require(throws: PostgresError.self) { try await app.asSystem(statement) }
            #expect(error.sqlState == SQLState.insufficientPrivilege, Comment(rawValue: statement.sql))
        }
        #expect(try await app.asSystem("SELECT count(*) FROM audit_log WHERE id = \(id)").scalar(Int.self) == 1)
        // With nobody set, the application role neither reads the trail nor writes to it.
        #expect(try await app.query("SELECT count(*) FROM audit_log").scalar(Int.self) == 0)
        let refused = try await #require(throws: PostgresError.self) {
            try await app.query("INSERT INTO audit_log (action, entity_type) VALUES ('forged', 'none')")
        }
        #expect(refused.sqlState == "42501")
    }

    @Test("even the owner cannot rewrite audit_log: the trigger refuses UPDATE, DELETE and TRUNCATE")
    func auditLogAppendOnlyForOwner() async throws {
        let owner = try await Shared.ownerClient.value
        let id = try await owner.query(
            "INSERT INTO audit_log (action, entity_type) VALUES ('system.test', 'none') RETURNING id").scalar(Int64.self)
        for statement: PostgresQuery in [
            "UPDATE audit_log SET action = 'x' WHERE id = \(id)",
            "DELETE FROM audit_log WHERE id = \(id)",
            "TRUNCATE audit_log",
        ] {
            let error = try await #require(throws: PostgresError.self) { try await owner.query(statement) }
            #expect(error.message.contains("append-only"), Comment(rawValue: statement.sql))
        }
    }
}
