import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("call timeout")
struct CallTimeoutTests {
    static func code(_ body: () async throws -> Void) async -> PostgresError.Code? {
        do { try await body() } catch let error as PostgresError { return error.code } catch { return nil }
        return nil
    }

    @Test("a statement the server does not answer within the call timeout fails with timedOut, its connection is closed, and the pool goes on with a fresh one")
    func statementDeadline() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration.withCallTimeout(.milliseconds(500)), maxConnections: 1,
                                  logger: makeTestLogger())
        let before = try await pool.withConnection { $0.backendPID }
        let started = ContinuousClock.now
        #expect(await Self.code { _ = try await pool.query("SELECT pg_sleep(30)") } == .timedOut)
        // Given up at the deadline, not when the server finally answers (the sleep is 30 s).
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(pool.statistics.open == 0)
        let after = try await pool.withConnection { $0.backendPID }
        #expect(after != before)
        #expect(try await pool.query("SELECT 41 + 1").scalar(Int.self) == 42)
        // A large statement still goes through the non-blocking send (more than a socket buffer holds).
        let big = String(repeating: "x", count: 4 << 20)
        #expect(try await pool.query("SELECT length(\(big))").scalar(Int.self) == 4 << 20)
        // Inside a transaction: the transaction is abandoned (the server rolls it back), the error is the timeout.
        #expect(await Self.code {
            try await pool.withTransaction { tx in
                try await tx.query("SELECT 1")
                try await tx.query("SELECT pg_sleep(30)")
            }
        } == .timedOut)
        #expect(PostgresError(code: .timedOut, message: "").isConnectionError)
        await pool.shutdown()
    }

    @Test("waiting for a pooled connection is bounded by the call timeout too")
    func waitDeadline() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration.withCallTimeout(.seconds(1)), maxConnections: 1,
                                  logger: makeTestLogger())
        // The holder's own bound is longer (the task-local override), so the only connection stays busy for 3 s.
        let holder = Task {
            await PostgresCallTimeout.$override.withValue(.seconds(10)) { await Self.code { _ = try await pool.query("SELECT pg_sleep(3)") } }
        }
        while pool.statistics.open == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await Self.code { _ = try await pool.query("SELECT 1") } == .timedOut)
        #expect(await holder.value == nil)
        #expect(pool.statistics.waiting == 0)
        #expect(try await pool.query("SELECT 1").scalar(Int.self) == 1)
        await pool.shutdown()
    }

    @Test("the server's own bounds (statement_timeout, lock_timeout) are told apart as server timeouts, the connection kept")
    func serverTimeouts() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration.withCallTimeout(.seconds(10)), maxConnections: 1,
                                  logger: makeTestLogger())
        do {
            try await pool.withTransaction { tx in
                try await tx.query("SET LOCAL statement_timeout = 100")
                try await tx.query("SELECT pg_sleep(5)")
            }
            Issue.record("the statement should have been cancelled")
        } catch let error as PostgresError {
            #expect(error.isServerTimeout && error.sqlState == SQLState.queryCanceled && !error.isConnectionError)
        }
        #expect(pool.statistics.open == 1)
        await pool.shutdown()
    }
}
