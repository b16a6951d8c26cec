import AshraiCore
import AshraiProtocol
@testable import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Synchronization
import Testing

/// A clock a test moves forward.
final class MovableNow: Sendable {
    private let value: Mutex<Date>
    init(_ text: String) { value = Mutex(instant(text)) }
    func set(_ text: String) { value.withLock { $0 = instant(text) } }
    var now: Date { value.withLock { $0 } }
}

@Suite("post-dated cheques")
struct ChequeTests {
    static func statement(_ rows: [String]) -> String {
        (["date,value_date,amount,reference,payer,payer_account,description"] + rows).joined(separator: "\n") + "\n"
    }

    @Test("a post-dated cheque is held, not money: its invoice stays open and is not dunned, exposure is shown with and without it; on its value date it is applied to the invoice it was meant for; a statement that shows it paid in confirms it without a second payment")
    func heldThenApplied() async throws {
        let clock = MovableNow("2026-12-01T08:00:00Z")
        try await withCollections("cheque_held", now: { clock.now }) { _, client, database in
            let galil = try await client.customer("Galil Foods Ltd")
            let meant = try await client.invoice(galil, "1000.00", due: "2026-11-01")
            let other = try await client.invoice(galil, "500.00", due: "2026-11-10")
            let cheque: JSONObject = ["number": "0012345", "bank": "12", "branch": "600", "account": "123-456", "value_date": "2026-12-15"]
            let held = try await client.result("payments.record", [
                "customer_id": galil, "amount": "1000.00", "method": "cheque", "received_on": "2026-11-25", "cheque": .object(cheque),
                "allocations": [["invoice_id": meant, "amount": "1000.00"]], "idempotency_key": "cheque-galil-1",
            ])
            #expect(held["payment"] == .null && held["allocations"] == [] && held["unapplied"] == "0.00")
            let chequeID = try #require(held["cheque"]?["id"])
            #expect(held["cheque"]?["status"] == "in_hand" && held["cheque"]?["account"] == "123456" && held["cheque"]?["value_date"] == "2026-12-15")
            #expect(held["cheque"]?["invoices"] == [["invoice_id": meant, "amount": "1000.00"]])
            // Not money yet: the invoice is open, no payment exists, the replay answers the same.
            #expect(try await client.result("invoices.get", ["id": meant])["status"] == "open")
            #expect(try await database.asSystem("SELECT count(*) FROM payments").scalar(Int.self) == 0)
            let replay = try await client.result("payments.record", [
                "customer_id": galil, "amount": "1000.00", "method": "cheque", "received_on": "2026-11-25", "cheque": .object(cheque),
                "allocations": [["invoice_id": meant, "amount": "1000.00"]], "idempotency_key": "cheque-galil-1",
            ])
            #expect(replay["cheque"]?["id"] == chequeID)
            // The same cheque again (another key) is refused.
            let twice = try await client.call("payments.record", [
                "customer_id": galil, "amount": "1000.00", "method": "cheque", "received_on": "2026-11-25", "cheque": .object(cheque),
            ])
            #expect(twice["error"]?["code"] == 409, "\(twice.encoded())")
            // Exposure with and without the cheque; the limit is measured without it.
            let check = try await client.result("credit.check", ["customer_id": galil, "amount": "0"])
            #expect(check["exposure"] == "1500.00" && check["secured_by_cheques"] == "1000.00" && check["exposure_after_cheques"] == "500.00")
            // Dunning pauses the invoice the cheque is meant for, not the other.
            let run = try await client.dunning("2026-12-01")
            let skipped = run["skipped"]?.arrayValue ?? []
            #expect(skipped.contains { $0["invoice_id"] == meant && $0["reason"] == "cheque_in_hand" }, "\(run.encoded())")
            let dunned = try await database.asSystem("SELECT string_agg(DISTINCT invoice_id::text, ',') FROM dunning_steps").scalar(String?.self)
            #expect(dunned == other.intValue.map(String.init))
            // The bookkeeper's list: in hand, by value date, with the total.
            let negev = try await client.customer("Negev Coffee")
            _ = try await client.invoice(negev, "700.00", due: "2026-11-15")
            let second = try await client.result("payments.record", [
                "customer_id": negev, "amount": "700.00", "method": "cheque", "received_on": "2026-11-26",
                "cheque": ["number": "778", "bank": "10", "branch": "800", "account": "99999", "value_date": "2026-12-10"],
            ])
            let secondID = try #require(second["cheque"]?["id"])
            let list = try await client.result("cheques.list")
            #expect(list["cheques"]?.arrayValue?.map { $0["id"] } == [secondID, chequeID] && list["total"] == "1700.00" && list["count"] == 2)
            #expect(list["cheques"]?.arrayValue?.first?["customer_name"] == "Negev Coffee")
            // Aging keeps them out of the buckets and shows them beside.
            let aging = try await client.result("reports.aging")
            #expect(aging["totals"]?["total"] == "2200.00" && aging["totals"]?["secured_by_cheques"] == "1700.00"
                    && aging["totals"]?["total_after_cheques"] == "500.00", "\(aging["totals"]?.encoded() ?? "")")

            // 10 December: the bank credits Negev's cheque; the statement applies it (no wait for the daily job).
            clock.set("2026-12-10T07:00:00Z")
            let statement = Self.statement(["2026-12-10,2026-12-10,700.00,DEP-1,Negev Coffee,,הפקדת שיק 778"])
            let imported = try await client.result("bank.statements.import", ["format": "csv", "profile": "generic", "account": "12-600-1",
                                                                              "content": .string(statement)])
            #expect(imported["cheques_cleared"] == 1 && imported["posted"] == 1, "\(imported.encoded())")
            let negevCheque = try await client.result("cheques.get", ["id": secondID])
            #expect(negevCheque["status"] == "applied" && negevCheque["bank_transaction_id"] == imported["transactions"]?.arrayValue?.first?["id"])
            let negevPayment = try await client.result("payments.get", ["id": try #require(negevCheque["payment_id"])])
            #expect(negevPayment["payment"]?["method"] == "cheque" && negevPayment["payment"]?["received_on"] == "2026-12-10")
            #expect(imported["transactions"]?.arrayValue?.first?["payment_id"] == negevCheque["payment_id"])

            // 15 December: the run applies Galil's cheque before it dunns, to the invoice it was meant for.
            clock.set("2026-12-15T06:00:00Z")
            _ = try await client.dunning("2026-12-15")
            let applied = try await client.result("cheques.get", ["id": chequeID])
            #expect(applied["status"] == "applied" && applied["applied_on"] == "2026-12-15")
            let payment = try await client.result("payments.get", ["id": try #require(applied["payment_id"])])
            #expect(payment["payment"]?["received_on"] == "2026-12-15" && payment["allocations"]?.arrayValue?.first?["invoice_id"] == meant)
            #expect(try await client.result("invoices.get", ["id": meant])["status"] == "paid")
            #expect(try await client.result("invoices.get", ["id": other])["status"] == "open")
            // The statement showing it paid in the next day confirms it: no second payment.
            clock.set("2026-12-16T07:00:00Z")
            let confirm = try await client.result("bank.statements.import", [
                "format": "csv", "profile": "generic", "account": "12-600-1",
                "content": .string(Self.statement(["2026-12-16,2026-12-16,1000.00,DEP-2,Galil Foods,,CHQ 12345"])),
            ])
            #expect(confirm["cheques_cleared"] == 1 && confirm["transactions"]?.arrayValue?.first?["payment_id"] == applied["payment_id"], "\(confirm.encoded())")
            #expect(try await database.asSystem("SELECT count(*) FROM payments").scalar(Int.self) == 2)
            #expect(try await client.result("cheques.list")["count"] == 0)
        }
    }

    @Test("a bounced cheque (חזר): an applied one's payment is reversed with the reason, a fee is charged by policy, the log and the score show it; one in hand just bounces; bad cheque details are refused naming the field")
    func bounces() async throws {
        let clock = MovableNow("2026-12-01T08:00:00Z")
        try await withCollections("cheque_bounce", configure: { $0.bankReturnFee = Decimal(string: "25.00") }, now: { clock.now }) { _, client, database in
            let galil = try await client.customer("Galil Foods Ltd")
            let invoice = try await client.invoice(galil, "800.00", due: "2026-11-01", issued: "2026-10-01")
            // Dated today: money now, its details kept.
            let paid = try await client.result("payments.record", [
                "customer_id": galil, "amount": "800.00", "method": "cheque", "received_on": "2026-12-01",
                "cheque": ["number": "5001", "bank": "12", "branch": "600", "account": "123456", "value_date": "2026-12-01"],
            ])
            let paymentID = try #require(paid["payment"]?["id"])
            let chequeID = try #require(paid["cheque"]?["id"])
            #expect(paid["cheque"]?["status"] == "applied" && paid["cheque"]?["payment_id"] == paymentID)
            #expect(try await client.result("invoices.get", ["id": invoice])["status"] == "paid")
            let bounced = try await client.result("cheques.bounce", ["id": chequeID, "reason": "אין כיסוי מספיק"])
            #expect(bounced["status"] == "bounced" && bounced["bounced_on"] == "2026-12-01" && bounced["fee_invoice_id"] != .null)
            #expect(try await client.result("payments.get", ["id": paymentID])["payment"]?["status"] == "reversed")
            #expect(try await client.result("invoices.get", ["id": invoice])["status"] == "open")
            let fee = try await client.result("invoices.get", ["id": try #require(bounced["fee_invoice_id"])])
            #expect(fee["amount"] == "25.00" && fee["customer_id"] == galil && fee["due_date"] == "2026-12-01")
            let log = try await client.result("interactions.list", ["customer_id": galil])["interactions"]?.arrayValue ?? []
            #expect(log.contains { $0["outcome"] == "payment_returned" && ($0["summary"]?.stringValue ?? "").contains("אין כיסוי") })
            // Twice is refused.
            #expect(try await client.call("cheques.bounce", ["id": chequeID, "reason": "again"])["error"]?["code"] == 409)
            // The payment-history score counts it.
            let assessment = try await client.result("credit.assess", ["customer_id": galil])
            let history = assessment["reasons"]?.arrayValue?.first { $0["factor"] == "payment_history" }
            let historyNote = history?["note"]?.stringValue ?? ""
            #expect(historyNote.contains("1 payment(s) returned"), "\(assessment.encoded())")
            #expect(try await database.asSystem("SELECT count(*) FROM payments WHERE returned_on IS NOT NULL").scalar(Int.self) == 1)

            // A cheque in hand bounces (the customer stopped it): nothing to reverse, no fee when told 0; one is given back.
            let inHand = try await client.result("payments.record", [
                "customer_id": galil, "amount": "300.00", "method": "cheque", "received_on": "2026-12-01",
                "cheque": ["number": "5002", "bank": "12", "branch": "600", "account": "123456", "value_date": "2027-01-15"],
            ])
            let inHandID = try #require(inHand["cheque"]?["id"])
            let stopped = try await client.result("cheques.bounce", ["id": inHandID, "reason": "ביטול שיק", "fee": "0"])
            #expect(stopped["status"] == "bounced" && stopped["payment_id"] == .null && stopped["fee_invoice_id"] == .null)
            let replaced = try await client.result("payments.record", [
                "customer_id": galil, "amount": "300.00", "method": "cheque", "received_on": "2026-12-01",
                "cheque": ["number": "5003", "bank": "12", "branch": "600", "account": "123456", "value_date": "2027-01-20"],
            ])
            let cancelled = try await client.result("cheques.cancel", ["id": try #require(replaced["cheque"]?["id"]), "reason": "replaced by a transfer"])
            #expect(cancelled["status"] == "cancelled")
            #expect(try await client.call("cheques.apply", ["id": try #require(replaced["cheque"]?["id"])])["error"]?["code"] == 409)

            // Bad details: named, nothing written.
            let before = try await database.asSystem("SELECT count(*) FROM cheques").scalar(Int.self)
            for (cheque, field) in [(["number": "12a", "bank": "12", "branch": "600", "account": "1", "value_date": "2027-01-01"] as JSONObject, "cheque.number"),
                                    (["number": "12", "bank": "Hapoalim", "branch": "600", "account": "1", "value_date": "2027-01-01"], "cheque.bank"),
                                    (["number": "12", "bank": "12", "branch": "600", "account": "1"], "cheque.value_date"),
                                    (["number": "12", "bank": "12", "branch": "600", "account": "1", "value_date": "3027-01-01"], "cheque.value_date")] {
                let reply = try await client.call("payments.record", ["customer_id": galil, "amount": "1.00", "method": "cheque",
                                                                      "received_on": "2026-12-01", "cheque": .object(cheque)])
                #expect(reply["error"]?["code"] == -32602 && (reply["error"]?["message"]?.stringValue ?? "").contains(field), "\(reply.encoded())")
            }
            let notACheque = try await client.call("payments.record", ["customer_id": galil, "amount": "1.00", "method": "cash", "received_on": "2026-12-01",
                                                                       "cheque": ["number": "1", "bank": "12", "branch": "1", "account": "1", "value_date": "2026-12-01"]])
            #expect(notACheque["error"]?["code"] == -32602)
            #expect(try await database.asSystem("SELECT count(*) FROM cheques").scalar(Int.self) == before)
        }
    }

    @Test("a returned transfer matched on the statement: bank.reverse reverses it, bounces its cheque if it was one, and charges the fee")
    func bankReturnBouncesCheque() async throws {
        let clock = MovableNow("2026-12-01T08:00:00Z")
        try await withCollections("cheque_return", configure: { $0.bankReturnFee = Decimal(string: "15.00") }, now: { clock.now }) { _, client, _ in
            let galil = try await client.customer("Galil Foods Ltd")
            _ = try await client.invoice(galil, "640.00", due: "2026-11-01")
            let paid = try await client.result("payments.record", [
                "customer_id": galil, "amount": "640.00", "method": "cheque", "received_on": "2026-11-28",
                "cheque": ["number": "90210", "bank": "10", "branch": "800", "account": "5555", "value_date": "2026-11-28"],
            ])
            let paymentID = try #require(paid["payment"]?["id"])
            let imported = try await client.result("bank.statements.import", [
                "format": "csv", "profile": "generic", "account": "12-600-1",
                "content": .string(Self.statement(["2026-12-01,2026-12-01,-640.00,RET-9,Galil Foods,,שיק חוזר 90210"])),
            ])
            let line = try #require(imported["transactions"]?.arrayValue?.first)
            let waiting = try #require(try await client.result("bank.unmatched")["transactions"]?.arrayValue?.first { $0["id"] == line["id"] })
            #expect(waiting["suggestions"]?.arrayValue?.first?["payment_id"] == paymentID, "\(waiting.encoded())")
            let returned = try await client.result("bank.reverse", ["transaction_id": try #require(line["id"]), "payment_id": paymentID])
            #expect(returned["status"] == "returned")
            let cheque = try await client.result("cheques.get", ["id": try #require(paid["cheque"]?["id"])])
            #expect(cheque["status"] == "bounced")
            let fees = try await client.result("invoices.list", ["customer_id": galil])["invoices"]?.arrayValue ?? []
            #expect(fees.contains { $0["amount"] == "15.00" && ($0["number"]?.stringValue ?? "").hasPrefix("FEE-") })
        }
    }

    @Test("ashrai payments record --cheque-… holds a post-dated cheque; ashrai cheques lists those in hand by value date")
    func cli() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        let clock = MovableNow("2026-12-01T08:00:00Z")
        try await withCollections("cheque_cli", now: { clock.now }) { port, client, _ in
            let galil = try #require(try await client.customer("Galil Foods Ltd").intValue)
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let recorded = try await cli.run(["payments", "record", String(galil), "450.00", "--method", "cheque", "--received-on", "2026-12-01",
                                              "--cheque-number", "31337", "--cheque-bank", "12", "--cheque-branch", "600",
                                              "--cheque-account", "12-34", "--value-date", "2027-02-01"])
            #expect(recorded.status == 0 && recorded.stdout.contains("in hand") && recorded.stdout.contains("31337"), "\(recorded.stdout) \(recorded.stderr)")
            let partial = try await cli.run(["payments", "record", String(galil), "1.00", "--method", "cheque", "--received-on", "2026-12-01",
                                             "--cheque-number", "1"])
            #expect(partial.status != 0 && partial.stderr.contains("--value-date"))
            // The stack of post-dated cheques brought in from a spreadsheet.
            let csv = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cheques") + ".csv")
            try Data("""
                customer_id,amount,method,received_on,cheque_number,cheque_bank,cheque_branch,cheque_account,value_date
                \(galil),300.00,cheque,2026-11-20,31338,12,600,1234,2027-03-01
                \(galil),300.00,cheque,2026-11-20,31339,12,600,1234,2027-04-01
                \(galil),300.00,cheque,2026-11-20,31340,12,600,1234,

                """.utf8).write(to: csv)
            let imported = try await cli.run(["import", "payments", csv.path])
            #expect(imported.status != 0 && imported.stdout.contains("imported 2 of 3 payments") && (imported.stdout + imported.stderr).contains("cheque.value_date"), "\(imported.stdout) \(imported.stderr)")
            let list = try await cli.run(["cheques"])
            #expect(list.status == 0 && list.stdout.contains("2027-02-01") && list.stdout.contains("Galil Foods Ltd")
                    && list.stdout.contains("12-600-1234") && list.stdout.contains("1050.00 in all") && list.stdout.contains("2027-04-01"), "\(list.stdout)")
        }
    }
}
