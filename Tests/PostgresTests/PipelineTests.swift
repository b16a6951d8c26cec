import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// Pipeline mode, the transaction prelude that rides with the first statement, and the read's COMMIT sent in the
/// background (issue 19): fewer round trips must not change what a transaction means.
@Suite("pipeline")
struct PipelineTests {
    static func pool() async throws -> PostgresClient {
        let database = try await Shared.database.value
        return PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
    }

    @Test("several statements in one pipeline: each one's rows in order, parameters and prepared statements included")
    func rowsInOrder() async throws {
        let pool = try await Self.pool()
        let rows = try await pool.withConnection { connection in
            try await connection.pipeline(["SELECT \(1) + 1 AS n", "SELECT 'a' || \("b") AS s", "SELECT \(Int64(40)) + 2 AS n"])
        }
        #expect(try rows[0].scalar(Int.self) == 2)
        #expect(try rows[1].scalar(String.self) == "ab")
        #expect(try rows[2].scalar(Int.self) == 42)
        // Again, now with the statements prepared on this connection.
        let again = try await pool.withConnection { try await $0.pipeline(["SELECT \(5) + 1 AS n", "SELECT \(Int64(1)) + 2 AS n"]) }
        #expect(try again.map { try $0.scalar(Int.self) } == [6, 3])
        await pool.shutdown()
    }

    @Test("an error in a pipeline is thrown, the statements after it do not run, and the connection is usable after")
    func errorStopsThePipeline() async throws {
        let pool = try await Self.pool()
        let table = "pipeline_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (n int)"))
        await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in
                try await connection.pipeline([PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)"), "SELECT 1 / 0",
                                               PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (2)")])
            }
        }
        // One implicit transaction: the first insert went with the failure, the third never ran.
        #expect(try await pool.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")).scalar(Int.self) == 0)
        #expect(try await pool.query("SELECT 7").scalar(Int.self) == 7)
        await pool.shutdown()
    }

    @Test("a prelude that refuses rolls back what the transaction's first statement did, even when the body swallows the error")
    func refusedPreludeRollsBack() async throws {
        struct Refused: Error {}
        let pool = try await Self.pool()
        let table = "prelude_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (n int)"))
        await #expect(throws: Refused.self) {
            try await pool.withTransaction(prelude: ["SELECT 0 AS verdict"], check: { rows in
                if try rows[0].scalar(Int.self) == 0 { throw Refused() }
            }) { tx in
                // The insert goes with BEGIN and the prelude, and is undone by the refusal.
                _ = try? await tx.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)"))
                return ()
            }
        }
        #expect(try await pool.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")).scalar(Int.self) == 0)
        // Accepted: the body's statements see the prelude's settings, and commit.
        let seen = try await pool.withTransaction(prelude: ["SELECT set_config('ashrai.test', 'on', true)"], check: { rows in
            #expect(rows.count == 1)
        }) { tx in
            try await tx.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (2)"))
            return try await tx.query("SELECT current_setting('ashrai.test')").scalar(String.self)
        }
        #expect(seen == "on")
        #expect(try await pool.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")).scalar(Int.self) == 1)
        // A body that runs no statement still has its prelude checked.
        await #expect(throws: Refused.self) {
            try await pool.withTransaction(prelude: ["SELECT 1"], check: { _ in throw Refused() }) { _ in () }
        }
        await pool.shutdown()
    }

    @Test("a read whose COMMIT went in the background: the connection goes back to the pool and its next statement works")
    func backgroundCommit() async throws {
        let pool = try await Self.pool()
        for n in 1...5 {
            let value = try await pool.withTransaction(readOnly: true, commitInBackground: true) { tx in
                try await tx.query("SELECT \(n) * 2").scalar(Int.self)
            }
            #expect(value == n * 2)
            #expect(pool.statistics.open == 1)   // the one connection, reused each time
        }
        // The next statement runs outside the read's transaction: had the COMMIT not been read first, it would have
        // run inside it, and the connection would still be in a transaction after it.
        let status = try await pool.withConnection { connection in
            _ = try await connection.query("SELECT 1")
            return connection.transactionStatus
        }
        #expect(status == .idle)
        await pool.shutdown()
    }

    @Test("a one-statement read goes with BEGIN, its prelude and COMMIT; it cannot write; a failure or a refusal leaves the connection idle")
    func readStatement() async throws {
        struct Refused: Error {}
        let pool = try await Self.pool()
        let table = "read_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (n int)"))
        try await pool.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1), (2)"))
        func idle() async throws -> PostgresConnection.TransactionStatus {
            try await pool.withConnection { connection in
                _ = try await connection.query("SELECT 1")
                return connection.transactionStatus
            }
        }
        var seen: [PostgresRows] = []
        let rows = try await pool.readStatement(prelude: ["SELECT set_config('ashrai.probe', 'on', true) AS probe"], check: { seen = $0 },
                                                PostgresQuery(unsafeSQL: "SELECT current_setting('ashrai.probe') AS probe, count(*)::int AS n FROM \(table)"))
        #expect(try rows[0].decode(String.self, column: "probe") == "on")   // the prelude's setting, in the same transaction
        #expect(try rows[0].decode(Int.self, column: "n") == 2)
        #expect(try seen[0].scalar(String.self) == "on")
        #expect(try await idle() == .idle)
        // Read only: a write fails (25006) and the connection is rolled back to idle.
        await #expect(throws: PostgresError.self) {
            try await pool.readStatement(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (3)"))
        }
        #expect(try await idle() == .idle)
        await #expect(throws: PostgresError.self) { try await pool.readStatement("SELECT 1 / 0") }
        #expect(try await idle() == .idle)
        // A refusal withholds the rows.
        await #expect(throws: Refused.self) {
            try await pool.readStatement(prelude: ["SELECT 1"], check: { _ in throw Refused() }, "SELECT 2")
        }
        #expect(try await idle() == .idle)
        #expect(try await pool.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")).scalar(Int.self) == 2)
        await pool.shutdown()
    }
}
