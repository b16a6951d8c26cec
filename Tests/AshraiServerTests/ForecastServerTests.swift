import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("reports.forecast")
struct ForecastServerTests {
    /// A ledger whose pattern is known, forecast from 2026-06-30 (weeks: 07-01…07-07, 07-08…07-14, 07-15…07-21, 07-22…07-28):
    /// - Punctual Ten (grade A, alone in it): three invoices each paid exactly 10 days late. Open: 300.00 due 06-25 → 07-05 (week 1);
    ///   200.00 due 07-10 → 07-20 (week 3), of which 50.00 is covered by a post-dated cheque in hand for 07-25 (week 4) at the
    ///   cheque prior 9/10: 45.00 in week 4, and the other 5.00 back on the invoice's day (week 3).
    /// - Half Late (grade D, alone): one invoice paid on the day, one 20 days late. Open: 400.00 due 07-01 → half on 07-01
    ///   (week 1), half on 07-21 (week 3).
    /// - Newcomer (no history, no grade): 150.00 due 06-01, promised on 06-20 for 07-08 (week 2) at the kept prior ½: 75.00;
    ///   the rest is 29 days late, later than any lag the ledger has seen: not expected.
    static func fixture(_ client: inout LineClient, _ database: PostgresClient) async throws {
        let punctual = try await client.customer("Punctual Ten Ltd")
        let half = try await client.customer("Half Late Ltd")
        let newcomer = try await client.customer("Newcomer Ltd")
        for month in 3...5 {
            _ = try await client.invoice(punctual, "100.00", due: "2026-0\(month)-01", issued: "2026-0\(month - 1)-01")
            _ = try await client.result("payments.record", ["customer_id": punctual, "amount": "100.00", "method": "bank_transfer",
                                                            "received_on": .string("2026-0\(month)-11")])
        }
        _ = try await client.invoice(half, "100.00", due: "2026-04-01", issued: "2026-03-01")
        _ = try await client.invoice(half, "100.00", due: "2026-05-01", issued: "2026-04-01")
        _ = try await client.result("payments.record", ["customer_id": half, "amount": "100.00", "method": "bank_transfer", "received_on": "2026-04-01"])
        _ = try await client.result("payments.record", ["customer_id": half, "amount": "100.00", "method": "bank_transfer", "received_on": "2026-05-21"])
        _ = try await client.invoice(punctual, "300.00", due: "2026-06-25", issued: "2026-05-25")
        let covered = try await client.invoice(punctual, "200.00", due: "2026-07-10", issued: "2026-06-10")
        _ = try await client.invoice(half, "400.00", due: "2026-07-01", issued: "2026-06-01")
        let owed = try await client.invoice(newcomer, "150.00", due: "2026-06-01", issued: "2026-05-01")
        _ = try await client.result("interactions.log", ["customer_id": newcomer, "kind": "call", "summary": "pays on the 8th",
                                                         "occurred_at": "2026-06-20T09:00:00Z", "invoice_ids": [owed],
                                                         "promise": ["amount": "150.00", "due_on": "2026-07-08"]])
        // Later payments (after 06-30) must not leak into a forecast made on 06-30.
        _ = try await client.result("payments.record", ["customer_id": newcomer, "amount": "150.00", "method": "bank_transfer", "received_on": "2026-07-08"])
        let ids = (try #require(punctual.intValue), try #require(half.intValue), try #require(covered.intValue))
        _ = try await database.asSystem("UPDATE customers SET grade = 'A' WHERE id = \(ids.0)")
        _ = try await database.asSystem("UPDATE customers SET grade = 'D' WHERE id = \(ids.1)")
        let cheque = try await database.asSystem("""
            INSERT INTO cheques (customer_id, number, bank_code, branch, account, amount, currency, received_on, value_date, status)
            VALUES (\(ids.0), '1001', '12', '600', '123456', 50.00, 'ILS', '2026-06-20', '2026-07-25', 'in_hand') RETURNING id
            """).scalar(Int64.self)
        _ = try await database.asSystem("INSERT INTO cheque_invoices (cheque_id, invoice_id, amount) VALUES (\(cheque), \(ids.2), 50.00)")
    }

    @Test("on a ledger with a known pattern the weekly expected totals are the hand-computed ones, to the agora; nothing after the day leaks in")
    func handComputed() async throws {
        try await withCollections("forecast_fixture") { _, client, database in
            try await Self.fixture(&client, database)
            let report = try await client.result("reports.forecast", ["as_of": "2026-06-30", "weeks": 4])
            let weeks = report["weeks"]?.arrayValue ?? []
            #expect(weeks.map { $0["expected"] } == ["500.00", "75.00", "355.00", "45.00"], "\(report.encoded())")
            #expect(weeks.map { $0["committed"] } == ["0.00", "75.00", "0.00", "45.00"])
            #expect(weeks.map { $0["from"] } == ["2026-07-01", "2026-07-08", "2026-07-15", "2026-07-22"] && weeks.last?["to"] == "2026-07-28")
            #expect(report["open"] == "1050.00" && report["expected_total"] == "975.00" && report["not_expected"] == "75.00")
            #expect(report["basis"]?["customers_with_history"] == 2 && report["basis"]?["commitments"] == 2)
            // Bands: week 1 holds Half Late's 400 at ½ (σ = 200) and Punctual's 300 for sure: 500 ∓ 329.00.
            #expect(weeks.first?["low"] == "171.00" && weeks.first?["high"] == "829.00")
            let bad = try await client.call("reports.forecast", ["weeks": 27])
            #expect(bad["error"]?["code"] == -32602)
        }
    }

    @Test("ashrai forecast prints a table with bars, and --csv rows that add up to what is open")
    func cli() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("forecast_cli") { port, client, database in
            try await Self.fixture(&client, database)
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let table = try await cli.run(["forecast", "--as-of", "2026-06-30", "--weeks", "4"])
            #expect(table.status == 0 && table.stdout.contains("500.00") && table.stdout.contains("█"), "\(table.stdout) \(table.stderr)")
            #expect(table.stdout.contains("not expected: 75.00"), "\(table.stdout)")
            let csv = try await cli.run(["forecast", "--as-of", "2026-06-30", "--weeks", "4", "--csv"])
            let lines = csv.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "week,from,to,expected,low,high,committed" && lines.count == 6, "\(csv.stdout)")
            #expect(lines[1].hasPrefix("1,2026-07-01,2026-07-07,500.00,") && lines.last == "later,,,75.00,,,")
        }
    }
}
