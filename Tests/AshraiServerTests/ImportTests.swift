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
