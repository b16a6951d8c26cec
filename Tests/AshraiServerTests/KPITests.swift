import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("KPIs from the ledger")
struct KPIServerTests {
    @Test("a fixture ledger gives the hand-computed KPIs; period boundaries hold")
    func fixture() async throws {
        try await withCollections("kpis") { _, client, _ in
            let c = try await client.customer("KPI Ltd")
            func invoice(_ amount: String, _ issued: String, _ due: String) async throws -> JSONValue {
                try #require(try await client.result("invoices.create", ["customer_id": c, "number": .string(Shared.unique("K")),
                                                                         "issue_date": .string(issued), "due_date": .string(due), "amount": .string(amount)])["id"])
            }
            _ = try await invoice("1000.00", "2025-12-01", "2025-12-31")        // beginning AR
            let b = try await invoice("3000.00", "2026-01-10", "2026-02-09")
            let cInvoice = try await invoice("2000.00", "2026-02-15", "2026-03-17")
            _ = try await invoice("1000.00", "2026-03-20", "2026-04-19")        // not yet due at the end
            _ = try await invoice("777.00", "2026-04-01", "2026-05-01")         // after the period
            _ = try await client.result("interactions.log", ["customer_id": c, "kind": "call", "summary": "will pay A",
                                                             "occurred_at": "2026-01-05T10:00:00Z", "promise": ["amount": "1000.00", "due_on": "2026-01-25"]])
            _ = try await client.result("interactions.log", ["customer_id": c, "kind": "call", "summary": "will pay 500",
                                                             "occurred_at": "2026-02-20T10:00:00Z", "promise": ["amount": "500.00", "due_on": "2026-02-28"]])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "1000.00", "method": "cash", "received_on": "2026-01-20"])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "3000.00", "method": "cash", "received_on": "2026-03-01",
                                                            "allocations": [["invoice_id": b, "amount": "3000.00"]]])
            _ = try await client.result("writeoffs.create", ["invoice_id": cInvoice, "amount": "500.00", "reason": "damaged goods", "written_off_on": "2026-03-25"])
            let report = try await client.result("reports.kpis", ["from": "2026-01-01", "to": "2026-03-31"])
            let figures = try #require(report["figures"]), kpis = try #require(report["kpis"])
            #expect(report["days"] == 90)
            #expect(figures["credit_sales"] == "6000.00" && figures["invoices_issued"] == 3)
            #expect(figures["beginning_ar"] == "1000.00" && figures["ending_ar"] == "2500.00")
            #expect(figures["ending_current_ar"] == "1000.00" && figures["ending_ar_90_plus"] == "0.00" && figures["write_offs"] == "500.00")
            #expect(kpis["dso_simple"] == "37.5")            // 2500 / 6000 × 90
            #expect(kpis["best_possible_dso"] == "15")       // 1000 / 6000 × 90
            #expect(kpis["average_days_delinquent"] == "22.5")
            #expect(kpis["dso_countback"] == "52")           // March: 1000 over 31 days; February: 28 × 1500/2000 = 21
            #expect(kpis["cei"] == "75")                     // (1000 + 6000 − 2500) / (1000 + 6000 − 1000)
            #expect(kpis["bad_debt_ratio"] == "8.3")         // 500 / 6000
            #expect(kpis["at_risk_rate"] == "0")
            #expect(kpis["promises_kept_rate"] == "50")      // one kept (paid 01-20), one broken (nothing by 02-28)
            #expect(kpis["average_days_to_pay"] == "50")     // both paid 50 days after issue
            // Boundaries: a one-day period on the day the last invoice in it was issued.
            let day = try await client.result("reports.kpis", ["from": "2026-03-20", "to": "2026-03-20"])
            #expect(day["figures"]?["credit_sales"] == "1000.00" && day["days"] == 1)
            #expect(try await client.call("reports.kpis", ["from": "2026-03-02", "to": "2026-03-01"])["error"]?["data"]?["field"] == "from")

            // Per collector: both calls, both promises (one kept), and both payments came within 30 days of a call.
            let collectors = try await client.result("reports.collectors", ["from": "2026-01-01", "to": "2026-03-31"])
            let boss = try #require(collectors["collectors"]?.arrayValue?.first { $0["username"] == "boss" })
            #expect(boss["interactions"] == 2 && boss["promises"] == 2 && boss["promises_kept"] == 1)
            #expect(boss["collected_after_contact"] == "4000.00" && boss["promised_amount"] == "1500.00")
            // The review as of July: the 90+ invoice nobody called about, the broken promise nobody followed up.
            let review = try await client.result("reports.review", ["as_of": "2026-07-01"])
            let silent = review["invoices_90_plus_without_contact_in_14_days"]?.arrayValue ?? []
            #expect(silent.map { $0["invoice_id"] } == [cInvoice] && silent.first?["open_amount"] == "1500.00")
            #expect(review["broken_promises_without_follow_up"]?.arrayValue?.map { $0["amount"] } == ["500.00"])
            // The trend: one row per month, oldest first.
            let trend = try await client.result("reports.kpis_trend", ["months": 3])
            let months = trend["months"]?.arrayValue?.compactMap { $0["month"]?.stringValue } ?? []
            #expect(months.count == 3 && months == months.sorted())
        }
    }
}
