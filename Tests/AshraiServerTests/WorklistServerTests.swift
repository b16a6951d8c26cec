import AshraiCore
import AshraiProtocol
import Foundation
import Testing

@Suite("worklist.today")
struct WorklistServerTests {
    @Test("ranked by expected loss on a hand-made ledger, with the reason, the next action and the last contact; a clerk sees only their portfolio; a manager one owner's or the unowned")
    func ranked() async throws {
        let clock = MovableNow("2026-11-01T08:00:00Z")
        try await withCollections("worklist", now: { clock.now }) { port, client, _ in
            let clerk = try await makeUser(port: port, role: .clerk, admin: OwnerTests.boss)
            let big = try await client.customer("Big Overdue")
            let old = try await client.customer("Old And Broken")
            let disputed = try await client.customer("Disputed Recent")
            let tasked = try await client.customer("Only A Task")
            _ = try await client.result("customers.assign_owner", ["customer_ids": [big], "owner_id": .int(clerk.id)])
            _ = try await client.invoice(big, "10000.00", due: "2026-10-22", issued: "2026-09-22")        // 40 days on Dec 1
            let oldInvoice = try await client.invoice(old, "1000.00", due: "2026-05-15", issued: "2026-04-15")  // 200 days
            let disputedInvoice = try await client.invoice(disputed, "5000.00", due: "2026-11-21", issued: "2026-10-21")  // 10 days
            _ = try await client.result("disputes.open", ["invoice_id": disputedInvoice, "reason": "short delivery"])
            _ = try await client.result("interactions.log", ["customer_id": old, "kind": "call", "summary": "pays on the 10th", "occurred_at": "2026-11-01T08:00:00Z",
                                                             "invoice_ids": [oldInvoice], "promise": ["amount": "1000.00", "due_on": "2026-11-10"]])
            clock.set("2026-12-01T08:00:00Z")
            _ = try await client.result("tasks.create", ["customer_id": tasked, "due_on": "2026-12-01", "note": "ask for the new PO"])
            let list = try await client.result("worklist.today")
            let rows = list["rows"]?.arrayValue ?? []
            #expect(rows.compactMap { $0["customer_id"] } == [big, old, disputed, tasked], "\(list.encoded())")
            #expect(rows[0]["expected_loss"] == "1200.00" && rows[0]["probability"] == .number("0.1200") && rows[0]["next_action"] == "call")
            #expect(rows[0]["reason"] == "10000.00 overdue, the oldest 40 days", "\(rows[0].encoded())")
            // Bound first: `#expect((x ?? "").hasSuffix(…))` expands to a call whose result the macro drops (it cannot fail).
            let oldReason = rows[1]["reason"]?.stringValue ?? ""
            #expect(oldReason.hasSuffix("1000.00 overdue, the oldest 200 days; a promise broken"), "\(rows[1].encoded())")
            #expect(rows[1]["broken_promises"] == 1 && rows[1]["last_contact"]?["kind"] == "call" && rows[1]["last_contact"]?["summary"] == "pays on the 10th")
            #expect(rows[1]["next_action"] == "final notice, then an agency")
            #expect(rows[2]["disputed_invoices"] == 1 && rows[2]["next_action"] == "review the dispute")
            #expect(rows[3]["expected_loss"] == "0.00" && rows[3]["task_kind"] == "manual" && rows[3]["next_action"] == "call")
            #expect(list["customers"] == 4)
            // The unowned, and one owner's.
            #expect(try await client.result("worklist.today", ["unowned": true])["rows"]?.arrayValue?.compactMap { $0["customer_id"] } == [old, disputed, tasked])
            #expect(try await client.result("worklist.today", ["owner_id": .int(clerk.id)])["rows"]?.arrayValue?.compactMap { $0["customer_id"] } == [big])
            try await LineClient.with(port: port) { me in
                try await me.login(clerk.username, clerk.password)
                #expect(try await me.result("worklist.today")["rows"]?.arrayValue?.compactMap { $0["customer_id"] } == [big])
                #expect(try await me.call("worklist.today", ["unowned": true])["error"]?["code"] == 403)
            }
            // ashrai today prints the same order.
            guard FileManager.default.isExecutableFile(atPath: CLI.binary.path) else { return }
            let cli = CLI(port: port, configHome: FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let printed = try await cli.run(["today"])
            let first = try #require(printed.stdout.range(of: "Big Overdue")), second = try #require(printed.stdout.range(of: "Old And Broken"))
            #expect(printed.status == 0 && first.lowerBound < second.lowerBound && printed.stdout.contains("4 customer(s) on the list"), "\(printed.stdout)")
        }
    }

    @Test("calibration: with enough settled history the ledger's own rate for an age replaces the prior, shrunk toward it")
    func calibrated() async throws {
        let clock = MovableNow("2026-12-01T08:00:00Z")
        try await withCollections("worklist_history", now: { clock.now }) { _, client, database in
            let customer = try await client.customer("Long History")
            let id = try #require(customer.intValue)
            // 300 invoices of 100.00 due Feb 1, settled on Mar 15 (42 days late): every other one written off.
            _ = try await database.asSystem("""
                INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, terms_version, credit_limit, net_days,
                                      late_interest_rate, status, paid_amount, written_off_amount)
                SELECT \(id), 'H-' || g, '2026-01-01', '2026-02-01', 100, 'ILS', 1, 100000, 0, 0,
                       CASE WHEN g % 2 = 0 THEN 'written_off' ELSE 'paid' END, CASE WHEN g % 2 = 0 THEN 0 ELSE 100 END,
                       CASE WHEN g % 2 = 0 THEN 100 ELSE 0 END
                FROM generate_series(1, 300) g
                """)
            _ = try await database.asSystem("""
                INSERT INTO writeoffs (invoice_id, customer_id, amount, reason, written_off_on)
                SELECT id, customer_id, 100, 'history', '2026-03-15' FROM invoices WHERE number LIKE 'H-%' AND status = 'written_off'
                """)
            _ = try await database.asSystem("""
                WITH p AS (INSERT INTO payments (customer_id, amount, currency, method, received_on, unapplied)
                           VALUES (\(id), 15000, 'ILS', 'bank_transfer', '2026-03-15', 0) RETURNING id)
                INSERT INTO allocations (payment_id, invoice_id, amount, applied_on)
                SELECT p.id, i.id, 100, '2026-03-15' FROM p, invoices i WHERE i.number LIKE 'H-%' AND i.status = 'paid'
                """)
            _ = try await client.invoice(customer, "10000.00", due: "2026-10-22", issued: "2026-09-22")   // 40 days overdue
            let list = try await client.result("worklist.today")
            let byAge = list["by_age"]?.arrayValue ?? []
            #expect(byAge.map { $0["ledger"] } == [.number("0.3200"), .number("0.3480"), .null, .null, .null, .null], "\(list.encoded())")
            #expect(list["rows"]?.arrayValue?.first?["probability"] == .number("0.3480") && list["rows"]?.arrayValue?.first?["expected_loss"] == "3480.00", "\(list.encoded())")
        }
    }
}
