import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// Logs in as a fresh user of `role` and runs `body`.
func asRole<T>(_ role: Role, port: Int, _ body: (inout LineClient) async throws -> T) async throws -> T {
    let user = try await makeUser(port: port, role: role)
    return try await LineClient.with(port: port) { client in
        try await client.login(user.username, user.password)
        return try await body(&client)
    }
}

@Suite("customers and credit")
struct CustomerCreditTests {
    @Test("create, get and update with optimistic concurrency: a stale version is 409 and changes nothing")
    func optimisticConcurrency() async throws {
        try await withServer { port in
            try await asRole(.clerk, port: port) { client in
                let code = Shared.unique("C")
                let created = try await client.result("customers.create", [
                    "code": .string(code), "name": "מאפיית השכונה בע״מ", "email": "office@bakery.example", "language": "he",
                ])
                let id = try #require(created["id"]?.intValue)
                #expect(created["status"] == "active" && created["version"] == 1)
                let updated = try await client.result("customers.update", ["id": .int(id), "version": 1, "phone": "03-5551234"])
                #expect(updated["version"] == 2 && updated["phone"] == "03-5551234")
                let stale = try await client.call("customers.update", ["id": .int(id), "version": 1, "phone": "000"])
                #expect(stale.errorCode == 409)
                #expect(stale["error"]?["data"]?["current_version"] == 2)
                #expect(try await client.result("customers.get", ["id": .int(id)])["phone"] == "03-5551234")
                let duplicate = try await client.call("customers.create", ["code": .string(code.lowercased()), "name": "Other"])
                #expect(duplicate.errorCode == 409 && duplicate["error"]?["data"]?["field"] == "code")
                // Clearing an optional field with null.
                let cleared = try await client.result("customers.update", ["id": .int(id), "version": 2, "phone": .null])
                #expect(cleared["phone"] == .null)
            }
        }
    }

    @Test("search finds Hebrew names, codes, legal ids and e-mails; pagination is stable under inserts")
    func searchAndPaging() async throws {
        try await withServer { port in
            try await asRole(.clerk, port: port) { client in
                let tag = Shared.unique("tag").replacingOccurrences(of: "-", with: "")
                var ids: [Int] = []
                for n in 1...5 {
                    let customer = try await client.result("customers.create", [
                        "name": .string("חנות הפרחים \(tag) \(n)"), "legal_id": .string(israeliID("51\(n)\(tag.suffix(4))0")),
                    ])
                    ids.append(customer["id"]!.intValue!)
                }
                let hebrew = try await client.result("customers.list", ["query": "חנות הפרחים \(tag)"])
                #expect(hebrew["customers"]?.arrayValue?.count == 5)
                let byLegalID = try await client.result("customers.list", ["query": .string("513\(tag.suffix(4))")])
                // Substring search: another test's random code may contain the same digits, so look
                // at this test's customers only.
                let found = Set(byLegalID["customers"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? [])
                #expect(found.intersection(ids) == [ids[2]])
                let wildcard = try await client.result("customers.list", ["query": "%"])
                #expect(wildcard["customers"]?.arrayValue?.allSatisfy { $0["name"]?.stringValue?.contains("%") == true } == true)

                let first = try await client.result("customers.list", ["query": .string(tag), "limit": 2])
                #expect(first["customers"]?.arrayValue?.compactMap { $0["id"]?.intValue } == Array(ids[0...1]))
                let after = try #require(first["next_after"]?.intValue)
                // A customer added between pages does not shift or repeat anything.
                _ = try await client.result("customers.create", ["name": .string("חנות הפרחים \(tag) 6")])
                let second = try await client.result("customers.list", ["query": .string(tag), "limit": 2, "after": .int(after)])
                #expect(second["customers"]?.arrayValue?.compactMap { $0["id"]?.intValue } == Array(ids[2...3]))
            }
        }
    }

    @Test("contacts are added, listed and removed")
    func contacts() async throws {
        try await withServer { port in
            try await asRole(.clerk, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": "Contacted Ltd"])["id"])
                let contact = try await client.result("customers.contacts.add", [
                    "customer_id": id, "name": "יוסי לוי", "role": "accounts payable", "email": "yossi@example.com", "preferred_channel": "phone",
                ])
                let listed = try await client.result("customers.contacts.list", ["customer_id": id])
                #expect(listed["contacts"]?.arrayValue?.count == 1)
                _ = try await client.result("customers.contacts.remove", ["id": contact["id"]!])
                #expect(try await client.result("customers.contacts.list", ["customer_id": id])["contacts"]?.arrayValue?.isEmpty == true)
                #expect(try await client.call("customers.contacts.remove", ["id": contact["id"]!]).errorCode == 404)
            }
        }
    }

    @Test("assessment from stored data matches the hand-computed scorecard (77 → B) and is kept in history")
    func assessment() async throws {
        try await withServer { port in
            let customerID = try await asRole(.clerk, port: port) { client -> JSONValue in
                let id = try #require(try await client.result("customers.create", ["name": "Healthy Firm"])["id"])
                _ = try await client.result("credit.financials.add", [
                    "customer_id": id, "period_end": "2025-12-31", "current_assets": "400000.00", "current_liabilities": "200000",
                    "total_assets": "1000000", "total_liabilities": "500000", "retained_earnings": "300000", "ebit": "150000",
                    "equity": "500000", "revenue": "2000000",
                ])
                for rating in [5, 4, 4] {
                    _ = try await client.result("credit.references.add", [
                        "customer_id": id, "kind": "trade_reference", "source": "Supplier \(rating)", "received_on": "2026-01-10",
                        "rating": .int(rating),
                    ])
                }
                return id
            }
            // Make the customer exactly one year old on the assessment date.
            let owner = try await Shared.ownerClient.value
            try await owner.query("UPDATE customers SET created_at = '2025-11-29 12:00:00+00' WHERE id = \(customerID.intValue!)")
            try await asRole(.manager, port: port) { client in
                let result = try await client.result("credit.assess", ["customer_id": customerID, "as_of": "2026-11-29"])
                #expect(result["score"] == 77)
                #expect(result["grade"] == "B")
                #expect(result["z_score"] == "4.348")
                #expect(result["z_zone"] == "safe")
                #expect(result["suggested_terms"]?["credit_limit"] == "25000.00")
                #expect(result["suggested_terms"]?["net_days"] == 45)
                let reasons = result["reasons"]?.arrayValue ?? []
                #expect(reasons.count == 6 && reasons.allSatisfy { ($0["note"]?.stringValue ?? "").count > 10 })
                let customer = try await client.result("customers.get", ["id": customerID])
                #expect(customer["grade"] == "B" && customer["score"] == 77)
                #expect(customer["next_review_on"] == "2027-05-29")   // B: every 6 months
                let history = try await client.result("credit.assessments", ["customer_id": customerID])
                #expect(history["assessments"]?.arrayValue?.count == 1)
            }
        }
    }

    @Test("a new customer with no data gets a cautious E, not an error")
    func newCustomerAssessment() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": "Brand New"])["id"])
                let result = try await client.result("credit.assess", ["customer_id": id])
                #expect(result["grade"] == "E")
                #expect(result["suggested_terms"]?["credit_limit"] == "0.00")
            }
        }
    }

    @Test("terms are versioned with who and why; defaults apply before any are set; check follows limit and hold")
    func termsCheckAndHold() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": "Terms Test"])["id"])
                let defaults = try await client.result("credit.terms.get", ["customer_id": id])
                #expect(defaults["is_default"] == true && defaults["credit_limit"] == "0.00" && defaults["net_days"] == 30)
                let cashOnly = try await client.result("credit.check", ["customer_id": id, "amount": "1.00"])
                #expect(cashOnly["allowed"] == false)

                _ = try await client.result("credit.terms.set", [
                    "customer_id": id, "credit_limit": "10000", "net_days": 30, "late_interest_rate": "12",
                    "reason": "first order",
                ])
                let v2 = try await client.result("credit.terms.set", [
                    "customer_id": id, "credit_limit": "15000.50", "net_days": 45, "late_interest_rate": "10.5",
                    "early_discount_rate": "2", "early_discount_days": 10, "reason": "good first quarter",
                ])
                #expect(v2["version"] == 2 && v2["credit_limit"] == "15000.50")
                let history = try await client.result("credit.terms.history", ["customer_id": id])
                #expect(history["versions"]?.arrayValue?.map { $0["reason"]?.stringValue ?? "" } == ["good first quarter", "first order"])
                #expect(history["versions"]?.arrayValue?.first?["set_by"] != .null)

                let ok = try await client.result("credit.check", ["customer_id": id, "amount": "15000.50"])
                #expect(ok["allowed"] == true && ok["available"] == "15000.50" && ok["exposure"] == "0.00")
                let over = try await client.result("credit.check", ["customer_id": id, "amount": "15000.51"])
                #expect(over["allowed"] == false)

                let hold = try await client.result("holds.place", ["customer_id": id, "reason": "cheque bounced twice; no answer"])
                #expect(hold["active"] == true)
                #expect(try await client.result("customers.get", ["id": id])["status"] == "on_hold")
                let held = try await client.result("credit.check", ["customer_id": id, "amount": "1.00"])
                #expect(held["allowed"] == false)
                #expect(held["reasons"]?.arrayValue?.contains("customer is on credit hold") == true)
                #expect(try await client.call("holds.place", ["customer_id": id, "reason": "again"]).errorCode == 409)
                _ = try await client.result("holds.release", ["customer_id": id, "reason": "paid in full"])
                #expect(try await client.result("credit.check", ["customer_id": id, "amount": "1.00"])["allowed"] == true)
                let holds = try await client.result("holds.list", ["customer_id": id])
                #expect(holds["holds"]?.arrayValue?.count == 1 && holds["holds"]?.arrayValue?.first?["active"] == false)

                _ = try await client.result("customers.close", ["id": id, "reason": "moved abroad"])
                let closed = try await client.result("credit.check", ["customer_id": id, "amount": "1.00"])
                #expect(closed["allowed"] == false)
                #expect(try await client.call("holds.place", ["customer_id": id, "reason": "x"])["error"]?["data"]?["rule"] == "customer_closed")
            }
        }
    }

    @Test("invalid params give -32602 naming the field (or 404) and write nothing")
    func invalidParamsWriteNothing() async throws {
        try await withServer { port in
            try await asRole(.manager, port: port) { client in
                let id = try #require(try await client.result("customers.create", ["name": "Strict"])["id"])
                let cases: [(JSONObject, String)] = [
                    (["credit_limit": "-1", "net_days": 30, "late_interest_rate": "5", "reason": "r"], "credit_limit"),
                    (["credit_limit": 100, "net_days": 30, "late_interest_rate": "5", "reason": "r"], "credit_limit"),
                    (["credit_limit": "100.001", "net_days": 30, "late_interest_rate": "5", "reason": "r"], "credit_limit"),
                    (["credit_limit": "100", "net_days": 366, "late_interest_rate": "5", "reason": "r"], "net_days"),
                    (["credit_limit": "100", "net_days": -1, "late_interest_rate": "5", "reason": "r"], "net_days"),
                    (["credit_limit": "100", "net_days": 30, "late_interest_rate": "101", "reason": "r"], "late_interest_rate"),
                    (["credit_limit": "100", "net_days": 30, "late_interest_rate": "5", "early_discount_rate": "2", "reason": "r"], "early_discount_days"),
                    (["credit_limit": "100", "net_days": 30, "late_interest_rate": "5", "reason": "  "], "reason"),
                ]
                for (params, field) in cases {
                    var all = params
                    all["customer_id"] = id
                    let reply = try await client.call("credit.terms.set", all)
                    #expect(reply.errorCode == -32602, "\(field)")
                    #expect(reply["error"]?["data"]?["field"]?.stringValue == field)
                }
                #expect(try await client.result("credit.terms.history", ["customer_id": id])["versions"]?.arrayValue?.isEmpty == true)
                let unknown = try await client.call("credit.terms.set", [
                    "customer_id": 999_999_999, "credit_limit": "1", "net_days": 1, "late_interest_rate": "1", "reason": "r",
                ])
                #expect(unknown.errorCode == 404)
                #expect(try await client.call("customers.create", ["name": "", "code": "X"]).errorCode == -32602)
                #expect(try await client.call("customers.create", ["name": "A", "language": "fr"])["error"]?["data"]?["field"] == "language")
                #expect(try await client.call("customers.create", ["name": "A", "email": "not-an-email"])["error"]?["data"]?["field"] == "email")
            }
            let owner = try await Shared.ownerClient.value
            #expect(try await owner.query("SELECT count(*) FROM customers WHERE name = 'A'").scalar(Int.self) == 0)
        }
    }

    @Test("clerks cannot set terms, place holds or assess; reviews are recorded and due lists the overdue, worst first")
    func clerkLimitsAndReviews() async throws {
        try await withServer { port in
            let id = try await asRole(.clerk, port: port) { client -> JSONValue in
                let id = try #require(try await client.result("customers.create", ["name": "Review Me"])["id"])
                #expect(try await client.call("credit.terms.set", ["customer_id": id, "credit_limit": "1", "net_days": 1,
                                                                   "late_interest_rate": "1", "reason": "r"]).errorCode == 403)
                #expect(try await client.call("holds.place", ["customer_id": id, "reason": "r"]).errorCode == 403)
                #expect(try await client.call("credit.assess", ["customer_id": id]).errorCode == 403)
                return id
            }
            try await asRole(.manager, port: port) { client in
                let due = try await client.result("reviews.due", ["as_of": "2099-01-01"])
                let entry = due["due"]?.arrayValue?.first { $0["customer"]?["id"] == id }
                #expect(entry != nil)
                let review = try await client.result("reviews.record", [
                    "customer_id": id, "findings": "pays late but always pays", "decision": "keep terms", "reviewed_on": "2026-11-29",
                ])
                #expect(review["next_review_on"] == "2026-12-29")   // ungraded counts as E: monthly
                let later = try await client.result("reviews.due", ["as_of": "2026-12-01"])
                #expect(later["due"]?.arrayValue?.contains { $0["customer"]?["id"] == id } == false)
                let overdue = try await client.result("reviews.due", ["as_of": "2027-01-08"])
                let mine = overdue["due"]?.arrayValue?.first { $0["customer"]?["id"] == id }
                #expect(mine?["days_overdue"] == 10)
            }
        }
    }
}
