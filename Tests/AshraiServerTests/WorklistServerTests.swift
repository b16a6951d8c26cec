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
            #expect((rows[1]["reason"]?.stringValue ?? "").hasSuffix("1000.00 overdue, the oldest 200 days; a promise broken"), "\(rows[1].encoded())")
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
}
