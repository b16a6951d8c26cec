import AshraiTestSupport
import Foundation
import Postgres
import Synchronization
import Testing

@Suite("errors and transactions")
struct ErrorAndTransactionTests {
    @Test("a unique violation keeps SQLSTATE 23505 and the constraint name; description leaks no data")
    func uniqueViolation() async throws {
        let db = try await Shared.client.value
        let table = Shared.unique("uniq")
        try await db.query("CREATE TABLE \(identifier: table) (code text CONSTRAINT \(identifier: table + "_code_key") UNIQUE)")
        try await db.query("INSERT INTO \(identifier: table) VALUES (\("C-1001"))")
        let error = try await #require(throws: PostgresError.self) {
            try await db.query("INSERT INTO \(identifier: table) VALUES (\("C-1001"))")
        }
        #expect(error.code == .server)
        #expect(error.sqlState == "23505")
        #expect(error.isUniqueViolation)
        #expect(error.constraint == table + "_code_key")
        #expect(error.table == table)
        #expect(error.detail?.contains("C-1001") == true)   // kept for developers …
        #expect(!error.description.contains("C-1001"))      // … never in the safe description
        #expect(!error.description.contains(table))
        #expect(error.debugDescription.contains("C-1001"))
    }

    @Test("other SQLSTATEs are kept too: not-null, check, syntax")
    func otherStates() async throws {
        let db = try await Shared.client.value
        let table = Shared.unique("chk")
        try await db.query("CREATE TABLE \(identifier: table) (amount numeric NOT NULL CHECK (amount >= 0))")
        let none: Decimal? = nil
        await #expect(throws: PostgresError.self) { try await db.query("INSERT INTO \(identifier: table) VALUES (\(none))") }
        let notNull = try await #require(throws: PostgresError.self) { try await db.query("INSERT INTO \(identifier: table) VALUES (\(none))") }
        #expect(notNull.sqlState == SQLState.notNullViolation)
        let check = try await #require(throws: PostgresError.self) { try await db.query("INSERT INTO \(identifier: table) VALUES (\(Decimal(-1)))") }
        #expect(check.sqlState == SQLState.checkViolation)
        let syntax = try await #require(throws: PostgresError.self) { try await db.query("SELEC 1") }
        #expect(syntax.sqlState == "42601")
    }

    struct Boom: Error {}

    @Test("a thrown error rolls the transaction back")
    func rollbackOnThrow() async throws {
        let db = try await Shared.client.value
        let table = Shared.unique("tx")
        try await db.query("CREATE TABLE \(identifier: table) (v int)")
        await #expect(throws: Boom.self) {
            try await db.withTransaction { tx in
                try await tx.query("INSERT INTO \(identifier: table) VALUES (1)")
                throw Boom()
            }
        }
        #expect(try await db.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 0)
        try await db.withTransaction { tx in try await tx.query("INSERT INTO \(identifier: table) VALUES (2)") }
        #expect(try await db.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 1)
    }

    @Test("a failed statement whose error the body swallowed makes the transaction throw, not silently roll back")
    func swallowedErrorIsNotACommit() async throws {
        let db = try await Shared.client.value
        let table = Shared.unique("tx2")
        try await db.query("CREATE TABLE \(identifier: table) (v int PRIMARY KEY)")
        let error = try await #require(throws: PostgresError.self) {
            try await db.withTransaction { tx in
                try await tx.query("INSERT INTO \(identifier: table) VALUES (1)")
                _ = try? await tx.query("INSERT INTO \(identifier: table) VALUES (1)")
            }
        }
        #expect(error.sqlState == "25P02")
        #expect(try await db.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self) == 0)
    }

    /// Counts down once; every waiter resumes when it reaches zero.
    actor Barrier {
        var remaining: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        init(_ count: Int) { remaining = count }
        func arrive() async {
            remaining -= 1
            if remaining <= 0 {
                waiters.forEach { $0.resume() }
                waiters = []
                return
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    @Test("a serialization failure (40001) is retried until both transactions commit")
    func serializationFailureRetried() async throws {
        let db = try await Shared.client.value
        let table = Shared.unique("ser")
        try await db.query("CREATE TABLE \(identifier: table) (who text, total int)")
        let barrier = Barrier(2)
        let attempts = Counter()
        // Write skew: both read the total, then both insert based on it. Under SERIALIZABLE one
        // of the two first attempts must fail with 40001; the retry then sees the other's row.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for who in ["a", "b"] {
                group.addTask {
                    try await db.withRetryingTransaction(isolation: .serializable, maxAttempts: 10) { tx in
                        let attempt = attempts.increment()
                        let total = try await tx.query("SELECT count(*) FROM \(identifier: table)").scalar(Int.self)
                        if attempt <= 2 { await barrier.arrive() }
                        try await tx.query("INSERT INTO \(identifier: table) VALUES (\(who), \(total))")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(attempts.current >= 3)
        let totals = try await db.query("SELECT total FROM \(identifier: table) ORDER BY total").map { try $0.decode(Int.self, at: 0) }
        #expect(totals == [0, 1])   // serial order: one saw the empty table, the other saw one row
    }

    @Test("retries are bounded: a body that always fails with 40001 gives up after maxAttempts")
    func retriesBounded() async throws {
        let db = try await Shared.client.value
        let attempts = Counter()
        let error = try await #require(throws: PostgresError.self) {
            try await db.withRetryingTransaction(maxAttempts: 3) { tx in
                attempts.increment()
                try await tx.query("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")
            }
        }
        #expect(error.sqlState == "40001")
        #expect(attempts.current == 3)
    }
}
