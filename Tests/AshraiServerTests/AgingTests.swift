import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Testing

@Suite("aging")
struct AgingTests {
    @Test("buckets at their boundaries: 0 days current, 30 in 1-30, 31 in 31-60, 90 in 61-90, 91 in 90+")
    func boundaries() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Aged"))])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 0,
                                                                 "late_interest_rate": "0", "reason": "t"])
                // as_of 2026-12-31; due dates chosen for 0, 30, 31, 90 and 91 days past due.
                let due = ["2026-12-31": "10.00", "2026-12-01": "20.00", "2026-11-30": "30.00", "2026-10-02": "40.00", "2026-10-01": "50.00"]
                for (date, amount) in due {
                    _ = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("AG")),
                                                                    "issue_date": .string(date), "due_date": .string(date), "amount": .string(amount)])
                }
                let report = try await client.result("reports.aging", ["as_of": "2026-12-31", "customer_id": id])
                #expect(report["buckets"] == ["current", "1-30", "31-60", "61-90", "90+"])
                let row = try #require(report["rows"]?.arrayValue?.first)
                #expect(row["amounts"] == ["current": "10.00", "1-30": "20.00", "31-60": "30.00", "61-90": "40.00", "90+": "50.00"])
                #expect(row["total"] == "150.00" && row["invoices"] == 5)
                #expect(report["totals"]?["total"] == "150.00")
                let custom = try await client.result("reports.aging", ["as_of": "2026-12-31", "customer_id": id, "buckets": [45]])
                #expect(custom["rows"]?.arrayValue?.first?["amounts"] == ["current": "10.00", "1-45": "50.00", "45+": "90.00"])
                let overdueOnly = try await client.result("reports.aging", ["as_of": "2026-12-31", "customer_id": id, "min_overdue_days": 31])
                #expect(overdueOnly["totals"]?["total"] == "120.00")
                #expect(try await client.call("reports.aging", ["buckets": [60, 30]])["error"]?["data"]?["field"] == "buckets")
            }
        }
    }

    @Test("as_of in the past gives the past picture: later payments and later invoices do not count")
    func pastPicture() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Past"))])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 30,
                                                                 "late_interest_rate": "0", "reason": "t"])
                _ = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("PP")),
                                                                "issue_date": "2026-01-01", "amount": "500.00"])   // due 2026-01-31
                _ = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("PP")),
                                                                "issue_date": "2026-06-01", "amount": "70.00"])
                _ = try await client.result("payments.record", ["customer_id": id, "amount": "200.00", "method": "cash",
                                                                "received_on": "2026-03-15"])
                _ = try await client.result("payments.record", ["customer_id": id, "amount": "300.00", "method": "cash",
                                                                "received_on": "2026-05-01"])
                func total(_ asOf: String) async throws -> JSONValue? {
                    try await client.result("reports.aging", ["as_of": .string(asOf), "customer_id": id])["totals"]?["total"]
                }
                #expect(try await total("2026-02-28") == "500.00")   // nothing paid yet
                #expect(try await total("2026-03-15") == "300.00")   // the first payment, received that day
                #expect(try await total("2026-05-31") == "0.00")     // paid off; the June invoice not issued yet
                let now = try await client.result("reports.aging", ["customer_id": id])
                #expect(now["totals"]?["total"] == "70.00")
            }
        }
    }
}

@Suite("write-offs")
struct WriteoffTests {
    @Test("write off the open remainder: never more than open; exposure and aging follow; a past aging still shows it")
    func writeoff() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Bad"))])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 30,
                                                                 "late_interest_rate": "0", "reason": "t"])
                let invoice = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("W")),
                                                                          "issue_date": "2026-01-01", "amount": "1000.00"])
                _ = try await client.result("payments.record", ["customer_id": id, "amount": "400.00", "method": "cash",
                                                                "received_on": "2026-02-01"])
                let tooMuch = try await client.call("writeoffs.create", ["invoice_id": invoice["id"]!, "amount": "600.01", "reason": "x"])
                #expect(tooMuch["error"]?["data"]?["field"] == "amount")
                let result = try await client.result("writeoffs.create", ["invoice_id": invoice["id"]!, "reason": "customer bankrupt",
                                                                          "written_off_on": "2026-06-30"])
                #expect(result["writeoff"]?["amount"] == "600.00")
                #expect(result["invoice"]?["status"] == "written_off" && result["invoice"]?["open_amount"] == "0.00")
                #expect(try await client.result("credit.check", ["customer_id": id, "amount": "0"])["exposure"] == "0.00")
                #expect(try await client.result("reports.aging", ["customer_id": id])["totals"]?["total"] == "0.00")
                #expect(try await client.result("reports.aging", ["customer_id": id, "as_of": "2026-06-29"])["totals"]?["total"] == "600.00")
                let listed = try await client.result("writeoffs.list", ["customer_id": id])
                #expect(listed["total"] == "600.00")
                let again = try await client.call("writeoffs.create", ["invoice_id": invoice["id"]!, "reason": "again"])
                #expect(again["error"]?["data"]?["rule"] == "invoice_not_open")
            }
        }
    }
}

@Suite("statements and interest")
struct StatementTests {
    @Test("statement: opening balance, movements with a running balance, interest by hand (400×12%×30 + 600×12%×60)/365 = 15.78")
    func statement() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Stmt"))])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 30,
                                                                 "late_interest_rate": "12", "reason": "t"])
                let invoice = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("ST")),
                                                                          "issue_date": "2026-01-01", "amount": "1000.00"])   // due 01-31
                _ = try await client.result("payments.record", ["customer_id": id, "amount": "400.00", "method": "bank_transfer",
                                                                "received_on": "2026-03-02"])   // 30 days late
                let result = try await client.result("statements.get", ["customer_id": id, "from": "2026-02-01", "to": "2026-04-01"])
                #expect(result["opening_balance"] == "1000.00")
                let lines = result["lines"]?.arrayValue ?? []
                #expect(lines.map { $0["kind"]?.stringValue } == ["payment"])
                #expect(lines.first?["credit"] == "400.00" && lines.first?["balance"] == "600.00")
                #expect(result["closing_balance"] == "600.00")
                #expect(result["accrued_interest"]?["total"] == "15.78")
                let whole = try await client.result("statements.get", ["customer_id": id, "as_of": "2026-04-01"])
                #expect(whole["opening_balance"] == "0.00" && whole["lines"]?.arrayValue?.count == 2)
                // Interest is shown per invoice too (as of today: it only grows).
                let shown = try await client.result("invoices.get", ["id": invoice["id"]!])
                #expect((Decimal(string: shown["accrued_interest"]?.stringValue ?? "0") ?? 0) > Decimal(string: "15.78")!)
            }
        }
    }
}

@Suite("payment history in the score")
struct PaymentHistoryScoreTests {
    @Test("paying 600 on time and 400 twenty days late scores 60 % of the history points (9 of 15)")
    func history() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": .string(Shared.unique("Hist"))])["id"])
                _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 30,
                                                                 "late_interest_rate": "0", "reason": "t"])
                _ = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("H")),
                                                                "issue_date": "2026-01-01", "amount": "600.00"])   // due 01-31
                _ = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("H")),
                                                                "issue_date": "2026-02-01", "amount": "400.00"])   // due 03-03
                _ = try await client.result("payments.record", ["customer_id": id, "amount": "600.00", "method": "cash", "received_on": "2026-01-30"])
                _ = try await client.result("payments.record", ["customer_id": id, "amount": "400.00", "method": "cash", "received_on": "2026-03-23"])
                let result = try await client.result("credit.assess", ["customer_id": id, "as_of": "2026-06-01"])
                let reason = try #require(result["reasons"]?.arrayValue?.first { $0["factor"] == "payment_history" })
                #expect(reason["points"] == 9)
                #expect(reason["value"] == "60% on time")
                #expect(reason["note"]?.stringValue?.contains("worst 20 days") == true)
            }
        }
    }
}

@Suite("aging pages")
struct AgingPagingTests {
    @Test("rows come a page at a time, largest balance first; totals always cover everyone")
    func paging() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let code = Shared.unique("PG")
                var ids: [JSONValue] = []
                for (n, amount) in ["100.00", "300.00", "200.00"].enumerated() {
                    let id = try #require(try await client.result("customers.create", ["name": "Pager \(n)", "code": .string("\(code)-\(n)")])["id"])
                    _ = try await client.result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 0,
                                                                     "late_interest_rate": "0", "reason": "t"])
                    _ = try await client.result("invoices.create", ["customer_id": id, "number": .string(Shared.unique("PG")),
                                                                    "issue_date": "2020-01-01", "amount": .string(amount)])
                    ids.append(id)
                }
                // Other tests' customers share the database, so look at ours through min_overdue_days… by customer is simpler:
                var seen: [JSONValue] = []
                var offset: Int? = 0
                while let current = offset {
                    let page = try await client.result("reports.aging", ["as_of": "2020-12-31", "limit": 2, "offset": .int(current)])
                    let rows = page["rows"]?.arrayValue ?? []
                    #expect(rows.count <= 2)
                    seen += rows.compactMap { row in ids.contains(row["customer_id"] ?? .null) ? row["customer_id"] : nil }
                    offset = page["next_offset"]?.intValue
                    if offset == nil {
                        #expect(page["totals"]?["invoices"]?.intValue ?? 0 >= 3)
                    }
                }
                #expect(seen == [ids[1], ids[2], ids[0]])   // 300, 200, 100
            }
        }
    }
}
