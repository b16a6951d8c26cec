import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// Faults of the database that a test can make without stopping the shared cluster (restarts, kill -9 and
/// SIGSTOP are `make chaos`'s, on a cluster of its own).
@Suite("database faults")
struct DatabaseFaultTests {
    @Test("a request stuck behind a lock is answered 503 retryable at the call timeout and changes nothing; once the lock goes it succeeds")
    func lockPileUp() async throws {
        try await withCollections("fault_lock", configure: { $0.databaseCallTimeout = .seconds(1) }) { _, client, database in
            let customer = try await client.customer("Locked Ltd")
            let id = try #require(customer.intValue)
            let version = try await client.result("customers.get", ["id": customer])["version"] ?? .null
            // Another transaction holds the customer's row for 4 s (a long job, a forgotten psql session).
            let locked = AsyncStream<Void>.makeStream()
            let jobs = database.jobsClient()
            let holder = Task {
                try await jobs.withTransaction { tx in
                    try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
                    try await tx.query("SELECT id FROM customers WHERE id = \(id) FOR UPDATE")
                    locked.continuation.yield()
                    try await tx.query("SELECT pg_sleep(4)")
                }
            }
            for await _ in locked.stream { break }
            let started = ContinuousClock.now
            let reply = try await client.call("customers.update", ["id": customer, "version": version, "name": "Renamed Ltd"])
            #expect(reply["error"]?["code"] == 503 && reply["error"]?["data"]?["retryable"] == true, "\(reply.encoded())")
            #expect(ContinuousClock.now - started < .seconds(3.5))   // the lock's 4 s were not waited out
            try await holder.value
            await jobs.shutdown()
            #expect(try await client.result("customers.get", ["id": customer])["name"] == "Locked Ltd")
            let renamed = try await client.result("customers.update", ["id": customer, "version": version, "name": "Renamed Ltd"])
            #expect(renamed["name"] == "Renamed Ltd")
        }
    }

    @Test("a database that goes away in the middle of a request: 503 retryable, and the connection stays logged in")
    func outageKeepsTheSession() async throws {
        try await withCollections("fault_outage", configure: { $0.databaseCallTimeout = .seconds(20) }) { _, client, database in
            let customer = try await client.customer("Outage Ltd")
            let id = try #require(customer.intValue)
            let version = try await client.result("customers.get", ["id": customer])["version"] ?? .null
            let name = try #require(database.configuration.database)
            let url = try #require(ProcessInfo.processInfo.environment["ASHRAI_TEST_DATABASE_URL"])
            let admin = PostgresClient(configuration: try PostgresConfiguration(url: url), maxConnections: 1, logger: makeTestLogger())
            // A transaction holds the customer's row, so the update below waits in the database…
            let jobs = database.jobsClient()
            let holding = AsyncStream<Int>.makeStream()
            let holder = Task {
                try? await jobs.withTransaction { tx in
                    try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
                    try await tx.query("SELECT id FROM customers WHERE id = \(id) FOR UPDATE")
                    holding.continuation.yield(try await tx.query("SELECT pg_backend_pid()").scalar(Int.self))
                    try await tx.query("SELECT pg_sleep(30)")
                }
            }
            var holderPID = 0
            for await pid in holding.stream { holderPID = pid; break }
            // …and while it waits, the database goes away: no new connections, every backend ended. The session
            // re-check after the failed call fails too; that must not read as "no such session".
            let outage = Task {
                for _ in 0..<200 {
                    let waiting = try await admin.query("""
                        SELECT count(*)::int FROM pg_stat_activity WHERE datname = \(name) AND wait_event_type = 'Lock'
                        """).scalar(Int.self)
                    if waiting > 0 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await admin.query(PostgresQuery(unsafeSQL: try await admin.query(
                    "SELECT format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS false', \(name)::text)").scalar(String.self)))
                // Every backend but the lock's holder (ended later), so the lock is still held when the waiter goes.
                try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(name) AND pid <> \(holderPID)")
            }
            let reply = try await client.call("customers.update", ["id": customer, "version": version, "name": "Renamed Ltd"])
            try await outage.value
            #expect(reply["error"]?["code"] == 503 && reply["error"]?["data"]?["retryable"] == true, "\(reply.encoded())")
            let meanwhile = try await client.call("customers.get", ["id": customer])
            #expect(meanwhile["error"]?["code"] == 503, "\(meanwhile.encoded())")
            try await admin.query("SELECT pg_terminate_backend(\(holderPID)::int)")
            await holder.value
            await jobs.shutdown()
            try await admin.query(PostgresQuery(unsafeSQL: try await admin.query(
                "SELECT format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS true', \(name)::text)").scalar(String.self)))
            await admin.shutdown()
            // Back: the same connection, still logged in (it was answered 401 from here on), and nothing changed.
            #expect(try await client.result("customers.get", ["id": customer])["name"] == "Outage Ltd")
        }
    }
}
