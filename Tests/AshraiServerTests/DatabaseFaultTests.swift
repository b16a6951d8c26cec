import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// Faults of the database that a test can make without freezing the shared cluster (the SIGSTOP test is
/// `Tests/scripts/db-freeze.sh`, on a cluster of its own).
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
}
