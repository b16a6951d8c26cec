import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("batch import")
struct ImportTests {
    @Test("bad rows are reported by index and the good ones kept; atomic keeps none; dry_run keeps none")
    func importModes() async throws {
        try await withServer { port in
            try await asRole(.clerk, port: port) { client in
                let tag = Shared.unique("imp")
                let rows: JSONValue = [
                    ["name": .string("\(tag) אחת"), "code": .string("\(tag)-1")],
                    ["name": "", "code": .string("\(tag)-2")],
                    ["name": .string("\(tag) שלוש"), "code": .string("\(tag)-1")],   // duplicate code
                    ["name": .string("\(tag) four"), "language": "fr"],
                ]
                let atomic = try await client.result("customers.import", ["rows": rows, "atomic": true])
                #expect(atomic["committed"] == false && atomic["failed"] == 3)
                let dry = try await client.result("customers.import", ["rows": rows, "dry_run": true])
                #expect(dry["committed"] == false && dry["created"] == 0)
                #expect(try await client.result("customers.list", ["query": .string(tag)])["customers"]?.arrayValue?.isEmpty == true)
                let real = try await client.result("customers.import", ["rows": rows])
                #expect(real["committed"] == true && real["created"] == 1 && real["failed"] == 3)
                let results = real["results"]?.arrayValue ?? []
                #expect(results.map { $0["ok"] } == [true, false, false, false])
                #expect(results[1]["error"]?["data"]?["field"] == "name")
                #expect(results[2]["error"]?["code"] == 409)
                #expect(results[3]["error"]?["data"]?["field"] == "language")
                #expect(try await client.result("customers.list", ["query": .string(tag)])["customers"]?.arrayValue?.count == 1)
            }
        }
    }

    @Test("invoices import by customer code, with the credit decision per row")
    func invoicesByCode() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let code = Shared.unique("IC")
                let id = try #require(try await client.result("customers.create", ["name": "Importer", "code": .string(code)])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "150.00", "net_days": 30,
                                                                 "late_interest_rate": "0", "reason": "t"])
                let result = try await client.result("invoices.import", ["rows": [
                    ["customer_code": .string(code), "number": .string(Shared.unique("I")), "issue_date": "2026-11-01", "amount": "100.00"],
                    ["customer_code": .string(code), "number": .string(Shared.unique("I")), "issue_date": "2026-11-01", "amount": "100.00"],
                    ["customer_code": "NO-SUCH-CODE", "number": .string(Shared.unique("I")), "issue_date": "2026-11-01", "amount": "1.00"],
                ]])
                let results = result["results"]?.arrayValue ?? []
                #expect(results.map { $0["ok"] } == [true, false, false])
                #expect(results[1]["error"]?["data"]?["rule"] == "credit_limit")
                #expect(results[2]["error"]?["data"]?["field"] == "customer_code")
            }
        }
    }
}

@Suite("bulk invoice import")
struct BulkInvoiceImportTests {
    @Test("the set-based path decides like invoices.create: running exposure, duplicates, hold; audits every row; atomic and dry_run keep nothing")
    func bulk() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let code = Shared.unique("BK")
                let id = try #require(try await client.result("customers.create", ["name": "Bulk", "code": .string(code)])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "250.00", "net_days": 10,
                                                                 "late_interest_rate": "5", "reason": "t"])
                let number = Shared.unique("BN")
                let rows: JSONValue = [
                    ["customer_code": .string(code), "number": .string(number + "-1"), "issue_date": "2026-11-01", "amount": "100.00"],
                    ["customer_id": id, "number": .string(number + "-2"), "issue_date": "2026-11-01", "amount": "100.00"],
                    ["customer_id": id, "number": .string(number + "-3"), "issue_date": "2026-11-01", "amount": "100.00"],   // over 250
                    ["customer_id": id, "number": .string(number + "-1"), "issue_date": "2026-11-01", "amount": "10.00"],    // duplicate
                    ["customer_id": id, "number": .string(number + "-4"), "issue_date": "2026-11-01", "amount": "50.00"],
                    ["customer_id": id, "number": .string(number + "-5"), "issue_date": "2026-11-01", "amount": "-1"],
                ]
                let dry = try await client.result("invoices.import", ["rows": rows, "dry_run": true])
                #expect(dry["committed"] == false && dry["failed"] == 3)
                let atomic = try await client.result("invoices.import", ["rows": rows, "atomic": true])
                #expect(atomic["committed"] == false)
                #expect(try await client.result("invoices.list", ["customer_id": id])["invoices"]?.arrayValue?.isEmpty == true)
                let result = try await client.result("invoices.import", ["rows": rows])
                let items = result["results"]?.arrayValue ?? []
                #expect(items.map { $0["ok"] } == [true, true, false, false, true, false])
                #expect(items[2]["error"]?["data"]?["rule"] == "credit_limit")
                #expect(items[3]["error"]?["code"] == 409)
                #expect(items[5]["error"]?["data"]?["field"] == "amount")
                let first = try #require(items[0]["id"]?.intValue)
                let invoice = try await client.result("invoices.get", ["id": .int(first)])
                #expect(invoice["due_date"] == "2026-11-11" && invoice["terms"]?["late_interest_rate"] == "5")
                #expect(try await client.result("credit.check", ["customer_id": id, "amount": "0"])["exposure"] == "250.00")
                let audit = try await client.result("audit.list", ["entity": "invoice", "entity_id": .string(String(first))])
                #expect(audit["entries"]?.arrayValue?.first?["method"] == "invoices.import")
                _ = try await client.result("holds.place", ["customer_id": id, "reason": "r"])
                let held = try await client.result("invoices.import", ["rows": [["customer_id": id, "number": .string(number + "-9"),
                                                                                  "issue_date": "2026-11-01", "amount": "1.00"]]])
                #expect(held["results"]?.arrayValue?.first?["error"]?["data"]?["rule"] == "customer_on_hold")
            }
        }
    }
}
