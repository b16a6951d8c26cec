import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// The server's core through a real PgBouncer in transaction pooling mode (issue 20), started by `make test`
/// (`Scripts/pgbouncer-test-server`) with fewer server connections than the daemon's pools hold, so consecutive
/// transactions of one pooled connection land on different server connections: anything that leaned on session
/// state (a `SET`, a session advisory lock, a prepared statement) would fail here.
@Suite("through PgBouncer (transaction pooling)")
struct PgBouncerTests {
    @Test("login, customers, invoices, payments, aging, events and an agency's view under row-level security, concurrently, with prepared statements off", .timeLimit(.minutes(3)))
    func core() async throws {
        let environment = ProcessInfo.processInfo.environment
        let bouncerPort = try #require(environment["ASHRAI_TEST_PGBOUNCER_PORT"], "start PgBouncer with Scripts/pgbouncer-test-server (make test does)")
        let log = try #require(environment["ASHRAI_TEST_PGBOUNCER_DIR"]).appending("/pgbouncer.log")
        let database = try await TestDatabase.create("bouncer")
        _ = try await DatabaseSetup.migrate(migrationURL: database.ownerURL, applicationURL: database.applicationURL,
                                            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        var configuration = database.applicationConfiguration.setting("port", to: bouncerPort)
        configuration.preparedStatements = false
        let pool = PostgresClient(configuration: configuration, maxConnections: 6, logger: makeTestLogger())
        let password = "bouncer admin password"
        _ = try await AdminBootstrap.createOrReset(username: "boss", password: password, mustChangePassword: false, onlyIfNone: false,
                                                   database: pool, secrets: Shared.secrets)
        // Events: the listener reaches PostgreSQL directly (LISTEN needs a session of its own), with no polling to fall
        // back on within the test; the subscriber's reads go through PgBouncer like every other read.
        var settings = ServerSettings()
        settings.eventsPollInterval = .seconds(600)
        try await withServer(settings: settings, database: pool, events: database.applicationConfiguration) { port in
            try await LineClient.with(port: port) { client in
                _ = try await client.login("boss", password)
                _ = try await client.result("events.subscribe", ["topics": ["invoice.created"]])
                let debtor = try await client.customer("Debtor Ltd")
                let other = try await client.customer("Other Ltd")
                let first = try await client.invoice(debtor, "700.00", due: "2026-01-01")
                _ = try await client.invoice(other, "50.00", due: "2026-01-01")
                _ = try await client.result("payments.record", ["customer_id": debtor, "amount": "200.00", "method": "bank_transfer",
                                                                "received_on": "2026-02-01"])
                #expect(try await client.result("invoices.get", ["id": first])["paid_amount"] == "200.00")
                // The two invoices were told on this connection, by NOTIFY.
                var told: [JSONValue] = []
                while told.count < 2, let event = try await client.notification() { told.append(event) }
                #expect(told.compactMap { $0["params"]?["data"]?["invoice_id"] }.contains(first) && told.count == 2)
                _ = try await client.result("events.unsubscribe")

                // Eight staff at once, each on its own connection: 40 invoices through 6 pooled connections and 3 server connections.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            try await LineClient.with(port: port) { staff in
                                _ = try await staff.login("boss", password)
                                for n in 0..<5 {
                                    _ = try await staff.result("invoices.create", ["customer_id": debtor, "number": .string("W\(worker)-\(n)"),
                                                                                   "issue_date": "2026-01-01", "amount": "10.00"])
                                    _ = try await staff.result("customers.get", ["id": debtor])
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let aging = try await client.result("reports.aging", ["as_of": "2026-03-01"])
                #expect(aging["totals"]?["total"] == "950.00")   // 500 + 50 + 40 × 10

                // An agency login sees only the customer assigned to it: row-level security keys on a transaction-local setting.
                let agency = try #require(try await client.result("agencies.create", ["name": "Collect Co", "commission_rate": "20"])["id"])
                _ = try await client.result("assignments.create", ["agency_id": agency, "customer_id": debtor, "invoice_ids": [first],
                                                                   "customer_notified_on": "2026-02-15"])
                let agent = try await AgencyViewTests.makeAgencyUser(&client, port: port, agency: agency)
                try await LineClient.with(port: port) { view in
                    _ = try await view.login(agent.username, agent.password)
                    let seen = try await view.result("customers.list")["customers"]?.arrayValue?.compactMap { $0["id"] }
                    #expect(seen == [debtor])
                    #expect(try await view.call("customers.get", ["id": other]).errorCode == 404)
                }
            }
        }
        await pool.shutdown()
        // The daemon's pools did go through PgBouncer: it logged their logins to this database.
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("login attempt: db=\(database.name) user=ashrai_app "))
        #expect(logged.contains("login attempt: db=\(database.name) user=ashrai_app_jobs "))
    }
}
