import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("payments and allocation")
struct PaymentTests {
    /// A customer with `count` invoices of `amount` each (issued 2026-10-01 + n days, net 30).
    static func customerWithInvoices(port: Int, count: Int, amount: String, discount: (rate: String, days: Int)? = nil) async throws -> (Int, [Int]) {
        try await asRole(.manager, port: port) { client in
            let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Payer"))])["id"]?.intValue)
            var terms: JSONObject = ["customer_id": .int(id), "credit_limit": "1000000", "net_days": 30, "late_interest_rate": "12", "reason": "t"]
            if let discount { terms["early_discount_rate"] = .string(discount.rate); terms["early_discount_days"] = .int(discount.days) }
            _ = try await client.result("credit.terms.set", terms)
            var invoices: [Int] = []
            for n in 0..<count {
                let invoice = try await client.result("invoices.create", [
                    "customer_id": .int(id), "number": .string(Shared.unique("P")), "amount": .string(amount),
                    "issue_date": .string(PostgresDate(daysSinceEpoch: PostgresDate(iso: "2026-10-01")!.daysSinceEpoch + n).description),
                ])
                invoices.append(try #require(invoice["id"]?.intValue))
            }
            return (id, invoices)
        }
    }

    @Test("oldest due first, the rest unapplied; apply later; reverse reopens the invoices")
    func autoAllocationApplyReverse() async throws {
        try await withServer { port in
            let (customer, invoices) = try await Self.customerWithInvoices(port: port, count: 3, amount: "100.00")
            try await asRole(.clerk, port: port) { client in
                let paid = try await client.result("payments.record", ["customer_id": .int(customer), "amount": "250.00",
                                                                       "method": "bank_transfer", "received_on": "2026-11-05"])
                let lines = paid["allocations"]?.arrayValue ?? []
                #expect(lines.map { $0["invoice_id"]?.intValue } == [invoices[0], invoices[1], invoices[2]])
                #expect(lines.map { $0["amount"]?.stringValue } == ["100.00", "100.00", "50.00"])
                #expect(paid["unapplied"] == "0.00")
                #expect(try await client.result("invoices.get", ["id": .int(invoices[2])])["status"] == "partially_paid")

                let extra = try await client.result("payments.record", ["customer_id": .int(customer), "amount": "80.00",
                                                                        "method": "cash", "received_on": "2026-11-06",
                                                                        "allocations": [["invoice_id": .int(invoices[2]), "amount": "30.00"]]])
                #expect(extra["unapplied"] == "50.00")
                #expect(try await client.result("invoices.get", ["id": .int(invoices[2])])["status"] == "partially_paid")
                _ = try await client.result("payments.apply", ["payment_id": extra["payment"]!["id"]!,
                                                               "allocations": [["invoice_id": .int(invoices[2]), "amount": "20.00"]]])
                #expect(try await client.result("invoices.get", ["id": .int(invoices[2])])["status"] == "paid")
                // Nothing left open to apply to.
                let nothing = try await client.call("payments.apply", ["payment_id": extra["payment"]!["id"]!])
                #expect(nothing["result"]?["unapplied"] == "30.00" && nothing["result"]?["allocations"]?.arrayValue?.count == 2)

                let reversed = try await client.result("payments.reverse", ["id": paid["payment"]!["id"]!, "reason": "cheque bounced"])
                #expect(reversed["payment"]?["status"] == "reversed")
                #expect(try await client.result("invoices.get", ["id": .int(invoices[0])])["status"] == "open")
                #expect(try await client.result("invoices.get", ["id": .int(invoices[2])])["open_amount"] == "50.00")
                let applied = try await client.result("payments.apply", ["payment_id": extra["payment"]!["id"]!])
                #expect(applied["unapplied"] == "0.00")
                #expect(try await client.result("invoices.get", ["id": .int(invoices[0])])["open_amount"] == "70.00")
                #expect(try await client.call("payments.reverse", ["id": paid["payment"]!["id"]!, "reason": "again"]).errorCode == 409)
            }
        }
    }

    @Test("early-payment discount: 1,000.00 at 2 % within 10 days settles for 980.00 with a 20.00 discount line")
    func earlyDiscount() async throws {
        try await withServer { port in
            let (customer, invoices) = try await Self.customerWithInvoices(port: port, count: 1, amount: "1000.00", discount: ("2", 10))
            try await asRole(.clerk, port: port) { client in
                let paid = try await client.result("payments.record", ["customer_id": .int(customer), "amount": "980.00",
                                                                       "method": "card", "received_on": "2026-10-11"])   // day 10
                let line = try #require(paid["allocations"]?.arrayValue?.first)
                #expect(line["amount"] == "980.00" && line["discount"] == "20.00")
                let invoice = try await client.result("invoices.get", ["id": .int(invoices[0])])
                #expect(invoice["status"] == "paid" && invoice["discount_amount"] == "20.00" && invoice["open_amount"] == "0.00")
            }
        }
    }

    @Test("32 concurrent payments with allocations keep the books: payments = allocations + unapplied; no invoice over-allocated")
    func concurrentPayments() async throws {
        try await withServer { port in
            let (customer, invoices) = try await Self.customerWithInvoices(port: port, count: 10, amount: "1000.00")
            let clerk = try await makeUser(port: port, role: .clerk)
            let replies = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for n in 0..<32 {
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            try await client.login(clerk.username, clerk.password)
                            var params: JSONObject = ["customer_id": .int(customer), "amount": "450.00", "method": "cash",
                                                      "received_on": "2026-11-20"]
                            if n % 2 == 0 {
                                params["allocations"] = [["invoice_id": .int(invoices[n % invoices.count]), "amount": "400.00"]]
                            }
                            return try await client.call("payments.record", params)
                        }
                    }
                }
                var all: [JSONValue] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            // Explicit allocations may be refused once an invoice has too little open; nothing else may fail.
            for reply in replies where reply["error"] != nil {
                #expect(reply.errorCode == -32602 && reply["error"]?["data"]?["field"] == "allocations")
            }
            let owner = try await Shared.ownerClient.value
            let books = try await owner.query("""
                SELECT
                  (SELECT coalesce(sum(amount), 0) FROM payments WHERE customer_id = \(customer) AND status = 'recorded') AS paid,
                  (SELECT coalesce(sum(a.amount), 0) FROM allocations a JOIN payments p ON p.id = a.payment_id
                     WHERE p.customer_id = \(customer) AND a.reversed_at IS NULL) AS allocated,
                  (SELECT coalesce(sum(unapplied), 0) FROM payments WHERE customer_id = \(customer)) AS unapplied,
                  (SELECT count(*) FROM invoices i WHERE i.customer_id = \(customer) AND i.paid_amount <> (
                     SELECT coalesce(sum(a.amount), 0) FROM allocations a WHERE a.invoice_id = i.id AND a.reversed_at IS NULL)) AS mismatched,
                  (SELECT count(*) FROM invoices WHERE customer_id = \(customer) AND paid_amount + discount_amount > amount) AS over
                """).one()
            let paid = try books.decode(Decimal.self, column: "paid")
            #expect(paid == (try books.decode(Decimal.self, column: "allocated")) + (try books.decode(Decimal.self, column: "unapplied")))
            #expect(try books.decode(Int.self, column: "mismatched") == 0)
            #expect(try books.decode(Int.self, column: "over") == 0)
            #expect(paid == Decimal(replies.filter { $0["result"] != nil }.count) * 450)
        }
    }

    @Test("concurrent replays of one idempotency key record one payment")
    func idempotentPayments() async throws {
        try await withServer { port in
            let (customer, _) = try await Self.customerWithInvoices(port: port, count: 1, amount: "100.00")
            let clerk = try await makeUser(port: port, role: .clerk)
            let params: JSONObject = ["customer_id": .int(customer), "amount": "60.00", "method": "digital",
                                      "received_on": "2026-11-01", "idempotency_key": .string(Shared.unique("pay"))]
            let ids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            try await client.login(clerk.username, clerk.password)
                            return try await client.call("payments.record", params)["result"]?["payment"]?["id"]?.intValue
                        }
                    }
                }
                var all = Set<Int>()
                for try await id in group { if let id { all.insert(id) } }
                return all
            }
            #expect(ids.count == 1)
            let owner = try await Shared.ownerClient.value
            #expect(try await owner.query("SELECT count(*) FROM payments WHERE customer_id = \(customer)").scalar(Int.self) == 1)
        }
    }

    @Test("bad input is refused and nothing is written: zero, negative, 3 decimals, method, another customer's invoice, beyond open")
    func badInput() async throws {
        try await withServer { port in
            let (customer, invoices) = try await Self.customerWithInvoices(port: port, count: 1, amount: "100.00")
            let (_, otherInvoices) = try await Self.customerWithInvoices(port: port, count: 1, amount: "100.00")
            try await asRole(.clerk, port: port) { client in
                let base: JSONObject = ["customer_id": .int(customer), "amount": "50.00", "method": "cash", "received_on": "2026-11-01"]
                let cases: [(String, JSONValue, String)] = [
                    ("amount", "0", "amount"), ("amount", "-5", "amount"), ("amount", "1.005", "amount"), ("method", "barter", "method"),
                    ("currency", "SHEKEL", "currency"),
                    ("allocations", [["invoice_id": .int(otherInvoices[0]), "amount": "10.00"]], "allocations"),
                    ("allocations", [["invoice_id": .int(invoices[0]), "amount": "100.01"]], "allocations"),
                    ("allocations", [["invoice_id": .int(invoices[0]), "amount": "60.00"]], "allocations"),   // more than the payment
                ]
                for (key, value, field) in cases {
                    var params = base
                    params[key] = value
                    let reply = try await client.call("payments.record", params)
                    #expect(reply.errorCode == -32602, "\(key)=\(value.encoded())")
                    #expect(reply["error"]?["data"]?["field"]?.stringValue == field)
                }
            }
            let owner = try await Shared.ownerClient.value
            #expect(try await owner.query("SELECT count(*) FROM payments WHERE customer_id = \(customer)").scalar(Int.self) == 0)
        }
    }
}
