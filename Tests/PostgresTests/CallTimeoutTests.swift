import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("call timeout")
struct CallTimeoutTests {
    /// Ordinary work in these tests runs with a generous bound: a loaded CI machine may take a while to connect
    /// or to move 4 MiB, and only the statements meant to time out should.
    static func unhurried<T>(_ body: () async throws -> T) async throws -> T {
        try await PostgresCallTimeout.$override.withValue(.seconds(60)) { try await body() }
    }

    static func code(_ body: () async throws -> Void) async -> PostgresError.Code? {
        do { try await body() } catch let error as PostgresError { return error.code } catch { return nil }
        return nil
    }

    @Test("a statement the server does not answer within the call timeout fails with timedOut, its connection is closed, and the pool goes on with a fresh one")
    func statementDeadline() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration.withCallTimeout(.seconds(1)), maxConnections: 1,
                                  logger: makeTestLogger())
        let before = try await Self.unhurried { try await pool.withConnection { $0.backendPID } }
        let started = ContinuousClock.now
        #expect(await Self.code { _ = try await pool.query("SELECT pg_sleep(30)") } == .timedOut)
        // Given up at the deadline, not when the server finally answers (the sleep is 30 s).
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(pool.statistics.open == 0)
        let after = try await Self.unhurried { try await pool.withConnection { $0.backendPID } }
        #expect(after != before)
        #expect(try await Self.unhurried { try await pool.query("SELECT 41 + 1").scalar(Int.self) } == 42)
        // A large statement still goes through the non-blocking send (more than a socket buffer holds).
        let big = String(repeating: "x", count: 4 << 20)
        #expect(try await Self.unhurried { try await pool.query("SELECT length(\(big))").scalar(Int.self) } == 4 << 20)
        // Inside a transaction: the transaction is abandoned (the server rolls it back), the error is the timeout.
        #expect(await Self.code {
            try await pool.withTransaction { tx in
                try await Self.unhurried { try await tx.query("SELECT 1") }
                try await tx.query("SELECT pg_sleep(30)")
            }
        } == .timedOut)
        #expect(PostgresError(code: .timedOut, message: "").isConnectionError)
        await pool.shutdown()
    }

    @Test("connecting to a server that accepts but never answers (a frozen postmaster) gives up at the deadline")
    func connectDeadline() async throws {
        // A listening socket nobody accepts on: the kernel completes the handshake, then nothing is ever said.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        // libpq alone would wait its connect_timeout, 30 s here; the deadline is 0.7 s.
        let configuration = PostgresConfiguration(parameters: [("host", "127.0.0.1"), ("port", String(port)), ("user", "nobody"), ("dbname", "none"),
                                                               ("connect_timeout", "30")])
            .withCallTimeout(.milliseconds(700))
        let pool = PostgresClient(configuration: configuration, maxConnections: 1, logger: makeTestLogger())
        let started = ContinuousClock.now
        #expect(await Self.code { _ = try await pool.query("SELECT 1") } == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10))   // far below the 30 s, with room for a loaded machine
        #expect(pool.statistics.open == 0)
        await pool.shutdown()
    }

    @Test("a waiter handed a healthy connection late goes on; one that inherits a freed slot past its deadline fails at once instead of connecting")
    func waitAndSlot() async throws {
        let database = try await Shared.database.value
        let pool = PostgresClient(configuration: database.ownerConfiguration.withCallTimeout(.seconds(1)), maxConnections: 1,
                                  logger: makeTestLogger())
        // The holder's own bound is longer (the task-local override): the only connection is busy for 2 s, then handed over.
        let holder = Task {
            await PostgresCallTimeout.$override.withValue(.seconds(10)) { await Self.code { _ = try await pool.query("SELECT pg_sleep(2)") } }
        }
        while pool.statistics.open == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await pool.query("SELECT 1").scalar(Int.self) == 1)   // waited 2 s with a 1 s bound: a healthy connection is fine
        // (a loaded machine may also need more than 1 s to open the holder's connection: it runs under its own 10 s)
        #expect(await holder.value == nil)
        // Now the holder's statement times out (3 s) and its connection is closed: the waiter inherits the slot past
        // its own 1 s deadline and fails at once rather than opening a connection to a server that did not answer.
        let stuck = Task {
            await PostgresCallTimeout.$override.withValue(.seconds(3)) { await Self.code { _ = try await pool.query("SELECT pg_sleep(30)") } }
        }
        while pool.statistics.open == 0 || pool.statistics.idle == 1 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await Self.code { _ = try await pool.query("SELECT 1") } == .timedOut)
        #expect(await stuck.value == .timedOut)
        #expect(pool.statistics.waiting == 0)
        #expect(try await Self.unhurried { try await pool.query("SELECT 1").scalar(Int.self) } == 1)
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
