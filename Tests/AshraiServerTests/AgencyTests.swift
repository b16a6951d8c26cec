import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("agencies and assignments")
struct AgencyTests {
    @Test("agency records: required terms, validation, optimistic version, deactivation only without open assignments")
    func agencies() async throws {
        try await withCollections("agencies") { _, client, _ in
            let agency = try await client.result("agencies.create", ["name": "Gvia Ltd", "commission_rate": "17.5", "licensed": true, "rating": 4,
                                                                     "email": "office@gvia.example", "fee_terms": "no fee unless collected"])
            #expect(agency["commission_rate"] == "17.5" && agency["active"] == true && agency["version"] == 1)
            #expect(try await client.call("agencies.create", ["name": "No Rate"])["error"]?["data"]?["field"] == "commission_rate")
            #expect(try await client.call("agencies.create", ["name": "Greedy", "commission_rate": "101"])["error"]?["data"]?["field"] == "commission_rate")
            #expect(try await client.call("agencies.create", ["name": "Bad", "commission_rate": "10", "rating": 6])["error"]?["data"]?["field"] == "rating")
            let updated = try await client.result("agencies.update", ["id": agency["id"]!, "version": 1, "rating": 5, "phone": "03-5555555"])
            #expect(updated["rating"] == 5 && updated["phone"] == "03-5555555" && updated["name"] == "Gvia Ltd" && updated["version"] == 2)
            #expect(try await client.call("agencies.update", ["id": agency["id"]!, "version": 1, "rating": 3]).errorCode == 409)
            #expect(try await client.result("agencies.list", ["active": true])["agencies"]?.arrayValue?.count == 1)

            let c = try await client.customer("Debtor Ltd")
            let invoice = try await client.invoice(c, "100.00", due: "2026-01-01")
            _ = try await client.result("assignments.create", ["agency_id": agency["id"]!, "customer_id": c, "invoice_ids": [invoice],
                                                               "customer_notified_on": "2026-03-01"])
            #expect(try await client.call("agencies.deactivate", ["id": agency["id"]!]).errorCode == 422)
        }
    }

    @Test("assignments: overdue invoices only, one open assignment per invoice, pending until the customer is told; dunning stops; recall releases")
    func assignments() async throws {
        try await withCollections("assignments") { _, client, _ in
            let agency = try #require(try await client.result("agencies.create", ["name": "Collect Co", "commission_rate": "20"])["id"])
            let c = try await client.customer("Owes Ltd")
            let old = try await client.invoice(c, "700.00", due: "2026-01-01")
            let older = try await client.invoice(c, "300.00", due: "2025-12-01")
            let notDue = try await client.invoice(c, "50.00", due: "2099-01-01")
            let other = try await client.customer("Other Ltd")
            let foreign = try await client.invoice(other, "10.00", due: "2026-01-01")
            #expect(try await client.call("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [notDue]])["error"]?["data"]?["rule"] == "invoice_not_overdue")
            #expect(try await client.call("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [foreign]])["error"]?["data"]?["field"] == "invoice_ids")
            #expect(try await client.call("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [old],
                                                                 "customer_notified_on": "2099-01-01"])["error"]?["data"]?["field"] == "customer_notified_on")
            let pending = try await client.result("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [old, older]])
            #expect(pending["status"] == "pending" && pending["assigned_amount"] == "1000.00" && pending["commission_rate"] == "20")
            #expect(try await client.call("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [old]]).errorCode == 409)
            // Pending: dunning goes on (the customer has not been told of the transfer).
            #expect(try await client.dunning("2026-02-01")["letters"]?.arrayValue?.isEmpty == false)
            let told = try await client.result("interactions.log", ["customer_id": c, "kind": "letter", "summary": "told of the transfer to Collect Co"])
            let active = try await client.result("assignments.notify", ["id": pending["id"]!, "customer_notified_on": "2026-02-02",
                                                                        "notification_interaction_id": told["interaction"]!["id"]!])
            #expect(active["status"] == "active" && active["customer_notified_on"] == "2026-02-02")
            let run = try await client.dunning("2026-03-15")
            let skipped = (run["skipped"]?.arrayValue ?? []).filter { $0["customer_id"] == c }
            #expect(Set(skipped.compactMap { $0["invoice_id"] }) == Set([old, older]))
            #expect(skipped.allSatisfy { $0["reason"] == "assigned_to_agency" })
            let recalled = try await client.result("assignments.recall", ["id": pending["id"]!, "reason": "customer asked to deal with us directly"])
            #expect(recalled["status"] == "recalled")
            // Released: a new assignment may take the invoices.
            let again = try await client.result("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [old],
                                                                       "customer_notified_on": "2026-03-16"])
            #expect(again["status"] == "active")
            #expect(try await client.result("assignments.list", ["customer_id": c])["assignments"]?.arrayValue?.count == 2)
        }
    }

    @Test("money collected via an assignment: commission to the agora, net, recovery rate, per assignment and in total")
    func commission() async throws {
        try await withCollections("commission") { _, client, _ in
            let agency = try #require(try await client.result("agencies.create", ["name": "Percent Ltd", "commission_rate": "17.5"])["id"])
            let c = try await client.customer("Payer Ltd")
            let invoice = try await client.invoice(c, "2000.00", due: "2026-01-01")
            let assignment = try await client.result("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [invoice],
                                                                            "customer_notified_on": "2026-02-01"])
            let id = try #require(assignment["id"])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "1234.57", "method": "bank_transfer",
                                                            "received_on": "2026-02-10", "via_assignment_id": id])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "10.10", "method": "cash",
                                                            "received_on": "2026-03-10", "via_assignment_id": id])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "5.00", "method": "cash", "received_on": "2026-03-11"])
            // 1244.67 × 17.5 % = 217.81725 → 217.82; net 1026.85; recovery 1244.67 / 2000 = 62.2 %.
            let shown = try await client.result("assignments.get", ["id": id])
            #expect(shown["collected"] == "1244.67" && shown["commission"] == "217.82" && shown["net"] == "1026.85")
            #expect(shown["open_amount"] == "750.33")
            let statement = try await client.result("agencies.statement", ["agency_id": agency])
            #expect(statement["collected"] == "1244.67" && statement["commission"] == "217.82" && statement["net"] == "1026.85")
            #expect(statement["assigned"] == "2000.00" && statement["recovery_rate"] == "62.2")
            // A period: only February's payment. 1234.57 × 17.5 % = 216.04975 → 216.05.
            let february = try await client.result("agencies.statement", ["agency_id": agency, "from": "2026-02-01", "to": "2026-02-28"])
            #expect(february["collected"] == "1234.57" && february["commission"] == "216.05")
            // Only an active assignment of this customer takes payments.
            let other = try await client.customer("Someone")
            #expect(try await client.call("payments.record", ["customer_id": other, "amount": "1.00", "method": "cash", "received_on": "2026-03-01",
                                                              "via_assignment_id": id])["error"]?["data"]?["field"] == "via_assignment_id")
            _ = try await client.result("assignments.settle", ["id": id])
            #expect(try await client.call("payments.record", ["customer_id": c, "amount": "1.00", "method": "cash", "received_on": "2026-03-01",
                                                              "via_assignment_id": id])["error"]?["data"]?["field"] == "via_assignment_id")
        }
    }
}
