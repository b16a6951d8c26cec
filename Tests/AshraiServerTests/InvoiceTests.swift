import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("invoices and the credit decision")
struct InvoiceTests {
    /// A customer with terms (limit, net days) set by a manager; returns its id.
    static func customer(port: Int, limit: String, netDays: Int = 30) async throws -> Int {
        try await asRole(.manager, port: port) { client in
            let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Buyer"))])["id"]?.intValue)
            _ = try await client.result("credit.terms.set", ["customer_id": .int(id), "credit_limit": .string(limit),
                                                             "net_days": .int(netDays), "late_interest_rate": "12", "reason": "test"])
            return id
        }
    }

    @Test("16 concurrent invoices against one limit never take exposure past it")
    func concurrentInvoicesRespectLimit() async throws {
        try await withServer { port in
            let customerID = try await Self.customer(port: port, limit: "10000.00")
            let clerk = try await makeUser(port: port, role: .clerk)
            let prefix = Shared.unique("INV")
            let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for n in 1...16 {
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            try await client.login(clerk.username, clerk.password)
                            return try await client.call("invoices.create", [
                                "customer_id": .int(customerID), "number": "\(prefix)-\(n)", "issue_date": "2026-11-01", "amount": "1000.00",
                            ])
                        }
                    }
                }
                var all: [JSONValue] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(results.filter { $0["result"] != nil }.count == 10)
            let refused = results.filter { $0["error"] != nil }
            #expect(refused.count == 6)
            #expect(refused.allSatisfy { $0["error"]?["data"]?["rule"] == "credit_limit" })
            try await asRole(.clerk, port: port) { client in
                let check = try await client.result("credit.check", ["customer_id": .int(customerID), "amount": "0"])
                #expect(check["exposure"] == "10000.00" && check["available"] == "0.00")
            }
        }
    }

    @Test("over the limit is 422 with the figures; a manager's override is allowed and audited; a clerk's is 403")
    func limitAndOverride() async throws {
        try await withServer { port in
            let customerID = try await Self.customer(port: port, limit: "500")
            let number = Shared.unique("OVR")
            try await asRole(.clerk, port: port) { client in
                let over = try await client.call("invoices.create", ["customer_id": .int(customerID), "number": .string(number),
                                                                     "issue_date": "2026-11-01", "amount": "600.00"])
                #expect(over.errorCode == 422)
                #expect(over["error"]?["data"]?["rule"] == "credit_limit")
                #expect(over["error"]?["data"]?["available"] == "500.00" && over["error"]?["data"]?["amount"] == "600.00")
                let clerkOverride = try await client.call("invoices.create", ["customer_id": .int(customerID), "number": .string(number),
                                                                              "issue_date": "2026-11-01", "amount": "600.00", "override_reason": "vip"])
                #expect(clerkOverride.errorCode == 403)
            }
            try await asRole(.manager, port: port) { client in
                let invoice = try await client.result("invoices.create", ["customer_id": .int(customerID), "number": .string(number),
                                                                          "issue_date": "2026-11-01", "amount": "600.00",
                                                                          "override_reason": "seasonal order agreed with the owner"])
                #expect(invoice["override_reason"] == "seasonal order agreed with the owner")
                let audit = try await client.result("audit.list", ["entity": "invoice", "entity_id": invoice["id"].map { .string($0.encoded()) } ?? .null])
                #expect(audit["entries"]?.arrayValue?.first?["context"]?["override"] == true)
            }
        }
    }

    @Test("holds and closed accounts refuse invoices by rule")
    func holdAndClosed() async throws {
        try await withServer { port in
            let customerID = try await Self.customer(port: port, limit: "5000")
            try await asRole(.manager, port: port) { client in
                _ = try await client.result("holds.place", ["customer_id": .int(customerID), "reason": "no answer to three calls"])
                let held = try await client.call("invoices.create", ["customer_id": .int(customerID), "number": .string(Shared.unique("H")),
                                                                     "issue_date": "2026-11-01", "amount": "10.00"])
                #expect(held["error"]?["data"]?["rule"] == "customer_on_hold")
                _ = try await client.result("holds.release", ["customer_id": .int(customerID), "reason": "paid"])
                _ = try await client.result("customers.close", ["id": .int(customerID), "reason": "ceased trading"])
                let closed = try await client.call("invoices.create", ["customer_id": .int(customerID), "number": .string(Shared.unique("H")),
                                                                       "issue_date": "2026-11-01", "amount": "10.00"])
                #expect(closed["error"]?["data"]?["rule"] == "customer_closed")
            }
        }
    }

    @Test("due date defaults from net days; the terms are snapshotted on the invoice; void frees the exposure")
    func snapshotAndVoid() async throws {
        try await withServer { port in
            let customerID = try await Self.customer(port: port, limit: "5000", netDays: 45)
            try await asRole(.manager, port: port) { client in
                let invoice = try await client.result("invoices.create", ["customer_id": .int(customerID), "number": .string(Shared.unique("S")),
                                                                          "issue_date": "2026-12-20", "amount": "1234.56"])
                #expect(invoice["due_date"] == "2027-02-03")   // 20 Dec + 45 days
                #expect(invoice["terms"]?["net_days"] == 45 && invoice["terms"]?["credit_limit"] == "5000.00")
                _ = try await client.result("credit.terms.set", ["customer_id": .int(customerID), "credit_limit": "9000", "net_days": 10,
                                                                 "late_interest_rate": "5", "reason": "changed"])
                let again = try await client.result("invoices.get", ["id": invoice["id"]!])
                #expect(again["terms"]?["net_days"] == 45)   // unchanged: snapshotted
                let overdue = try await client.result("invoices.list", ["customer_id": .int(customerID), "overdue_as_of": "2027-02-04"])
                #expect(overdue["invoices"]?.arrayValue?.count == 1)
                let voided = try await client.result("invoices.void", ["id": invoice["id"]!, "reason": "issued twice"])
                #expect(voided["status"] == "void" && voided["open_amount"] == "0.00")
                #expect(try await client.result("credit.check", ["customer_id": .int(customerID), "amount": "0"])["exposure"] == "0.00")
                #expect(try await client.call("invoices.void", ["id": invoice["id"]!, "reason": "again"])["error"]?["data"]?["rule"] == "invoice_not_voidable")
            }
        }
    }

    @Test("idempotency: a replay returns the first invoice, other params are 409, concurrent replays make one invoice")
    func idempotency() async throws {
        try await withServer { port in
            let customerID = try await Self.customer(port: port, limit: "100000")
            let clerk = try await makeUser(port: port, role: .clerk)
            let key = Shared.unique("key")
            let number = Shared.unique("IDEM")
            let params: JSONObject = ["customer_id": .int(customerID), "number": .string(number), "issue_date": "2026-11-01",
                                      "amount": "99.90", "idempotency_key": .string(key)]
            let replies = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for _ in 1...8 {
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            try await client.login(clerk.username, clerk.password)
                            return try await client.call("invoices.create", params)
                        }
                    }
                }
                var all: [JSONValue] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            let ids = Set(replies.compactMap { $0["result"]?["id"]?.intValue })
            #expect(ids.count == 1)
            #expect(replies.allSatisfy { $0["result"] != nil || $0["error"]?["data"]?["retryable"] == true })
            try await LineClient.with(port: port) { client in
                try await client.login(clerk.username, clerk.password)
                let replay = try await client.result("invoices.create", params)
                #expect(replay["id"]?.intValue == ids.first)
                var other = params
                other["amount"] = "100.00"
                let reused = try await client.call("invoices.create", other)
                #expect(reused.errorCode == 409 && reused["error"]?["data"]?["field"] == "idempotency_key")
            }
            let owner = try await Shared.ownerClient.value
            #expect(try await owner.query("SELECT count(*) FROM invoices WHERE number = \(number)").scalar(Int.self) == 1)
        }
    }

    @Test("bad input is refused and nothing is written")
    func badInput() async throws {
        try await withServer { port in
            let customerID = try await Self.customer(port: port, limit: "100000")
            let number = Shared.unique("BAD")
            try await asRole(.clerk, port: port) { client in
                let base: JSONObject = ["customer_id": .int(customerID), "number": .string(number), "issue_date": "2026-11-01", "amount": "10.00"]
                let cases: [(String, JSONValue, String)] = [
                    ("amount", "-5.00", "amount"), ("amount", "0", "amount"), ("amount", "10.001", "amount"), ("amount", 10, "amount"),
                    ("currency", "US", "currency"), ("issue_date", "2026-02-30", "issue_date"), ("due_date", "2026-10-01", "due_date"),
                ]
                for (key, value, field) in cases {
                    var params = base
                    params[key] = value
                    let reply = try await client.call("invoices.create", params)
                    #expect(reply.errorCode == -32602, "\(key)=\(value.encoded())")
                    #expect(reply["error"]?["data"]?["field"]?.stringValue == field)
                }
                var foreign = base
                foreign["currency"] = "USD"
                #expect(try await client.call("invoices.create", foreign)["error"]?["data"]?["rule"] == "currency_mismatch")
                var unknown = base
                unknown["customer_id"] = 999_999_999
                #expect(try await client.call("invoices.create", unknown).errorCode == 404)
                _ = try await client.result("invoices.create", base)
                var duplicate = base
                duplicate["number"] = .string(number.lowercased())
                #expect(try await client.call("invoices.create", duplicate)["error"]?["data"]?["field"] == "number")
            }
            let owner = try await Shared.ownerClient.value
            #expect(try await owner.query("SELECT count(*) FROM invoices WHERE customer_id = \(customerID)").scalar(Int.self) == 1)
        }
    }
}
