import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// Reports on a real streaming replica of the test cluster (issue 20), started by `make test` (`Scripts/pg replica`).
@Suite("reports on a streaming replica")
struct ReplicaTests {
    @Test("a current replica answers reports and says so; one paused past the lag bound, or unreachable, sends them to the primary; writes never go there")
    func reports() async throws {
        let replicaPort = try #require(ProcessInfo.processInfo.environment["ASHRAI_TEST_REPLICA_PORT"],
                                       "start a replica with Scripts/pg replica (make test does)")
        let database = try await TestDatabase.create("replica")
        _ = try await DatabaseSetup.migrate(migrationURL: database.ownerURL, applicationURL: database.applicationURL,
                                            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        let primary = PostgresClient(configuration: database.applicationConfiguration, maxConnections: 4, logger: makeTestLogger())
        let replicaOwner = PostgresClient(configuration: database.ownerConfiguration.setting("port", to: replicaPort), maxConnections: 1,
                                          logger: makeTestLogger())
        let replica = PostgresClient(configuration: database.applicationConfiguration.setting("port", to: replicaPort), maxConnections: 2,
                                     logger: makeTestLogger())
        // The new database and its schema reach the replica by streaming.
        try await eventually("the migrated database on the replica") {
            (try? await replicaOwner.query("SELECT count(*)::int FROM schema_migrations").scalar(Int.self)) ?? 0 > 0
        }
        let password = "replica admin password"
        _ = try await AdminBootstrap.createOrReset(username: "boss", password: password, mustChangePassword: false, onlyIfNone: false,
                                                   database: primary, secrets: Shared.secrets)
        var settings = ServerSettings()
        settings.replicaMaxLag = .seconds(2)
        try await withServer(settings: settings, database: primary, replica: replica) { port in
            try await LineClient.with(port: port) { client in
                _ = try await client.login("boss", password)
                let customer = try await client.customer("Replicated Ltd")   // writes: on the primary
                _ = try await client.invoice(customer, "100.00", due: "2026-01-01")
                func aging() async throws -> JSONValue { try await client.result("reports.aging", ["as_of": "2026-03-01"]) }
                try await eventually("the replica answering with the invoice") {
                    let report = try await aging()
                    return report["data_source"] == "replica" && report["totals"]?["total"] == "100.00"
                }
                let statement = try await client.result("statements.get", ["customer_id": customer])
                #expect(statement["data_source"] == "replica" && statement["data_as_of"]?.stringValue != nil)
                #expect(try await client.result("reports.kpis", ["from": "2026-01-01", "to": "2026-03-01"])["data_source"] == "replica")

                // Replay paused: the replica falls behind the 2 s bound, and reports go to the primary, which has the newest invoice.
                _ = try await replicaOwner.query("SELECT pg_wal_replay_pause()")
                do {
                    _ = try await client.invoice(customer, "50.00", due: "2026-01-01")
                    try await Task.sleep(for: .seconds(3))
                    let report = try await aging()
                    #expect(report["data_source"] == "primary")
                    #expect(report["totals"]?["total"] == "150.00")
                } catch {
                    _ = try? await replicaOwner.query("SELECT pg_wal_replay_resume()")
                    throw error
                }
                _ = try await replicaOwner.query("SELECT pg_wal_replay_resume()")
                try await eventually("the replica caught up again") {
                    let report = try await aging()
                    return report["data_source"] == "replica" && report["totals"]?["total"] == "150.00"
                }
            }
        }
        // A replica nobody answers at: the primary serves the report at once, and says so.
        var unreachable = database.applicationConfiguration.setting("port", to: String(try DaemonProcess.freePort()))
        unreachable.callTimeout = .seconds(5)
        let gone = PostgresClient(configuration: unreachable, maxConnections: 1, logger: makeTestLogger())
        try await withServer(settings: settings, database: primary, replica: gone) { port in
            try await LineClient.with(port: port) { client in
                _ = try await client.login("boss", password)
                let report = try await client.result("reports.aging", ["as_of": "2026-03-01"])
                #expect(report["data_source"] == "primary" && report["totals"]?["total"] == "150.00")
            }
        }
        for pool in [gone, replica, replicaOwner, primary] { await pool.shutdown() }
    }

    /// Polls `condition` every 0.2 s for up to 30 s.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<150 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for \(what)")
        throw TestFailure()
    }
}
