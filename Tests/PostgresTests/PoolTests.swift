import AshraiTestSupport
import Foundation
import Postgres
import Synchronization
import Testing

@Suite("connection pool")
struct PoolTests {
    @Test("64 concurrent tasks over a pool of 4 all get their own correct answers")
    func manyTasksFewConnections() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 4, logger: makeTestLogger())
        let pids = SharedSet<Int32>()
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for n in 0..<64 {
                group.addTask {
                    try await pool.withConnection { connection in
                        pids.insert(connection.backendPID)
                        let row = try await connection.query("SELECT \(n) * 2 AS doubled, pg_sleep(0.005)::text AS slept").one()
                        return (n, try row.decode(Int.self, column: "doubled"))
                    }
                }
            }
            var collected: [Int: Int] = [:]
            for try await (n, doubled) in group { collected[n] = doubled }
            return collected
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0.value == $0.key * 2 })
        #expect(pids.count <= 4)
        let stats = pool.statistics
        #expect(stats.open <= 4 && stats.waiting == 0)
        await pool.shutdown()
    }

    @Test("a statement planned each time runs with its binds and is not kept as a prepared statement")
    func plannedEachTime() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        try await pool.withConnection { connection in
            let kept = { try await connection.query("SELECT count(*) FROM pg_prepared_statements").scalar(Int.self) }
            let before = try await kept()
            let value = "plan me each time"
            let query: PostgresQuery = "SELECT \(value)::text || '!' AS said"
            for _ in 0..<7 { #expect(try await connection.query(query.plannedEachTime).one().decode(String.self, column: "said") == value + "!") }
            #expect(try await kept() == before)   // the count query was prepared before it counted; nothing since
            _ = try await connection.query(query)
            #expect(try await kept() == before + 1)
        }
        await pool.shutdown()
    }

    @Test("a connection killed with pg_terminate_backend is replaced and the next query succeeds")
    func terminatedConnectionReplaced() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        let firstPID = try await pool.withConnection { $0.backendPID }
        let admin = try await Shared.client.value
        #expect(try await admin.query("SELECT pg_terminate_backend(\(firstPID))").scalar(Bool.self))
        // Wait until the backend is really gone.
        for _ in 0..<100 {
            let alive = try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(firstPID)").scalar(Int.self)
            if alive == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let (value, secondPID) = try await pool.withConnection { connection in
            (try await connection.query("SELECT 41 + 1").scalar(Int.self), connection.backendPID)
        }
        #expect(value == 42)
        #expect(secondPID != firstPID)
        #expect(pool.statistics.open == 1)
        await pool.shutdown()
    }

    @Test("a connection that breaks mid-query reports connectionLost and is not handed out again")
    func brokenMidUseDiscarded() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        let error = try await #require(throws: PostgresError.self) {
            try await pool.withConnection { connection in
                // The backend kills itself while executing our statement.
                try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
            }
        }
        #expect(error.isConnectionError)
        #expect(try await pool.query("SELECT 1").scalar(Int.self) == 1)
        await pool.shutdown()
    }

    @Test("an unreachable server fails fast with connectionFailed, and the description has no password")
    func unreachable() async throws {
        let config = try PostgresConfiguration(url: "postgresql://someone:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2")
        #expect(!config.description.contains("s3cret"))
        let pool = PostgresClient(configuration: config, maxConnections: 2, logger: makeTestLogger())
        let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error.code == .connectionFailed)
        #expect(!error.description.contains("s3cret"))
        #expect(pool.statistics.open == 0)   // the failed slot was given back
        await pool.shutdown()
        let closed = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(closed.code == .poolClosed)
    }

    @Test("an invalid URL is refused with libpq's reason")
    func invalidURL() {
        let error = #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "postgresql://host/db?no_such_option=1") }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test("a waiter whose task is cancelled leaves the queue")
    func cancelledWaiter() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
        try await pool.withConnection { _ in
            let waiter = Task { try await pool.query("SELECT 1") }
            for _ in 0..<100 where pool.statistics.waiting == 0 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(pool.statistics.waiting == 1)
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(pool.statistics.waiting == 0)
        }
        #expect(try await pool.query("SELECT 2").scalar(Int.self) == 2)
        await pool.shutdown()
    }
}
