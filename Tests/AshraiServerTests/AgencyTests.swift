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

@Suite("the agency partner's view")
struct AgencyViewTests {
    /// Ids of one fixture: what agency A may see and what it may not.
    struct Fixture {
        var agencyA: JSONValue, agencyB: JSONValue
        var assigned: JSONValue, assignedInvoice: JSONValue, otherInvoiceOfAssigned: JSONValue
        var pendingCustomer: JSONValue, pendingInvoice: JSONValue, recalledCustomer: JSONValue, recalledInvoice: JSONValue
        var foreignCustomer: JSONValue, foreignInvoice: JSONValue
        var activeAssignment: JSONValue, pendingAssignment: JSONValue, recalledAssignment: JSONValue, foreignAssignment: JSONValue
        var visibleInteraction: JSONValue, hiddenInteraction: JSONValue, letter: JSONValue, hiddenLetter: JSONValue
        var agencyUser: (id: Int, username: String, password: String)
    }

    static func fixture(_ client: inout LineClient, port: Int) async throws -> Fixture {
        let a = try #require(try await client.result("agencies.create", ["name": "Agency A", "commission_rate": "15"])["id"])
        let b = try #require(try await client.result("agencies.create", ["name": "Agency B", "commission_rate": "15"])["id"])
        let x = try await client.customer("Assigned Ltd")
        _ = try await client.result("customers.update", ["id": x, "version": 1, "notes": "internal: owner is difficult"])
        let x1 = try await client.invoice(x, "100.00", due: "2026-01-01")
        let x2 = try await client.invoice(x, "200.00", due: "2026-01-01")
        let y = try await client.customer("Pending Ltd"), y1 = try await client.invoice(y, "300.00", due: "2026-01-01")
        let z = try await client.customer("Recalled Ltd"), z1 = try await client.invoice(z, "400.00", due: "2026-01-01")
        let w = try await client.customer("Foreign Ltd"), w1 = try await client.invoice(w, "500.00", due: "2026-01-01")
        let seen = try await client.result("interactions.log", ["customer_id": x, "kind": "call", "summary": "about x1", "invoice_ids": [x1]])
        let unseen = try await client.result("interactions.log", ["customer_id": x, "kind": "note", "summary": "about x2 only", "invoice_ids": [x2]])
        _ = try await client.dunning("2026-01-20")   // letters for every customer (level 2)
        let letters = try await client.result("letters.list")["letters"]?.arrayValue ?? []
        let letter = try #require(letters.first { $0["customer_id"] == x }?["id"])
        let hiddenLetter = try #require(letters.first { $0["customer_id"] == w }?["id"])
        let active = try #require(try await client.result("assignments.create", ["agency_id": a, "customer_id": x, "invoice_ids": [x1],
                                                                                  "customer_notified_on": "2026-02-01"])["id"])
        let pending = try #require(try await client.result("assignments.create", ["agency_id": a, "customer_id": y, "invoice_ids": [y1]])["id"])
        let recalled = try #require(try await client.result("assignments.create", ["agency_id": a, "customer_id": z, "invoice_ids": [z1],
                                                                                    "customer_notified_on": "2026-02-01"])["id"])
        _ = try await client.result("assignments.recall", ["id": recalled, "reason": "test"])
        let foreign = try #require(try await client.result("assignments.create", ["agency_id": b, "customer_id": w, "invoice_ids": [w1],
                                                                                   "customer_notified_on": "2026-02-01"])["id"])
        let user = try await makeAgencyUser(&client, port: port, agency: a)
        return Fixture(agencyA: a, agencyB: b, assigned: x, assignedInvoice: x1, otherInvoiceOfAssigned: x2, pendingCustomer: y, pendingInvoice: y1,
                       recalledCustomer: z, recalledInvoice: z1, foreignCustomer: w, foreignInvoice: w1, activeAssignment: active,
                       pendingAssignment: pending, recalledAssignment: recalled, foreignAssignment: foreign,
                       visibleInteraction: seen["interaction"]!["id"]!, hiddenInteraction: unseen["interaction"]!["id"]!,
                       letter: letter, hiddenLetter: hiddenLetter, agencyUser: user)
    }

    static func makeAgencyUser(_ client: inout LineClient, port: Int, agency: JSONValue) async throws -> (id: Int, username: String, password: String) {
        let username = Shared.unique("agent"), initial = "initial password 12345", final = "agent chosen password 1"
        let id = try #require(try await client.result("users.create", ["username": .string(username), "password": .string(initial), "role": "agency",
                                                                       "agency_id": agency])["id"]?.intValue)
        try await LineClient.with(port: port) { agent in
            _ = try await agent.login(username, initial)
            _ = try await agent.result("auth.change_password", ["old_password": .string(initial), "new_password": .string(final)])
        }
        return (id, username, final)
    }

    @Test("every method × the agency role × assigned, unassigned, pending and recalled rows: reads show only its active assignments, writes are 403, the rest is not found")
    func matrix() async throws {
        try await withCollections("agency_view") { port, client, _ in
            let f = try await Self.fixture(&client, port: port)
            try await LineClient.with(port: port) { agent in
                _ = try await agent.login(f.agencyUser.username, f.agencyUser.password)
                // Reads: what is visible, and what is not found.
                let ok: [(String, JSONObject)] = [
                    ("customers.get", ["id": f.assigned]), ("customers.contacts.list", ["customer_id": f.assigned]),
                    ("invoices.get", ["id": f.assignedInvoice]), ("interactions.list", ["customer_id": f.assigned]),
                    ("assignments.get", ["id": f.activeAssignment]), ("agencies.get", ["id": f.agencyA]),
                ]
                for (method, params) in ok {
                    #expect(try await agent.call(method, params)["result"] != nil, "\(method) \(params)")
                }
                let hidden: [(String, JSONObject)] = [
                    ("customers.get", ["id": f.pendingCustomer]), ("customers.get", ["id": f.recalledCustomer]), ("customers.get", ["id": f.foreignCustomer]),
                    ("customers.get", ["id": 999_999]), ("customers.contacts.list", ["customer_id": f.foreignCustomer]),
                    ("invoices.get", ["id": f.otherInvoiceOfAssigned]), ("invoices.get", ["id": f.pendingInvoice]),
                    ("invoices.get", ["id": f.recalledInvoice]), ("invoices.get", ["id": f.foreignInvoice]),
                    ("interactions.list", ["customer_id": f.pendingCustomer]), ("letters.get", ["id": f.hiddenLetter]),
                    // The assigned customer's letter also names x2, which is not assigned: refused whole.
                    ("letters.get", ["id": f.letter]),
                    ("assignments.get", ["id": f.pendingAssignment]), ("assignments.get", ["id": f.recalledAssignment]),
                    ("assignments.get", ["id": f.foreignAssignment]), ("agencies.get", ["id": f.agencyB]),
                ]
                for (method, params) in hidden {
                    #expect(try await agent.call(method, params).errorCode == 404, "\(method) \(params)")
                }
                // Lists: only what the active assignment covers.
                func ids(_ method: String, _ key: String, _ params: JSONObject = [:]) async throws -> Set<JSONValue> {
                    Set(try await agent.result(method, params)[key]?.arrayValue?.compactMap { $0["id"] } ?? [])
                }
                #expect(try await ids("customers.list", "customers") == [f.assigned])
                #expect(try await ids("invoices.list", "invoices") == [f.assignedInvoice])
                #expect(try await ids("invoices.list", "invoices", ["customer_id": f.foreignCustomer]) == [])
                #expect(try await ids("interactions.list", "interactions", ["customer_id": f.assigned]).contains(f.visibleInteraction))
                #expect(try await !ids("interactions.list", "interactions", ["customer_id": f.assigned]).contains(f.hiddenInteraction))
                #expect(try await ids("letters.list", "letters") == [])
                #expect(try await ids("assignments.list", "assignments") == [f.activeAssignment])
                // Contact data, not internal notes or scores; amounts, not credit terms.
                let customer = try await agent.result("customers.get", ["id": f.assigned])
                #expect(customer["notes"] == .null && customer["score"] == .null && customer["name"] == "Assigned Ltd")
                #expect(try await agent.result("invoices.get", ["id": f.assignedInvoice])["terms"] == nil)
                // Every method the agency may not call is 403, whatever the row.
                for spec in MethodCatalog.all {
                    guard case .roles(let roles) = spec.access, !roles.contains(.agency) else { continue }
                    #expect(try await agent.call(spec.name, ["id": f.assigned])["error"]?["code"] == 403, "\(spec.name)")
                }
            }
            // Recall ends access at once: the next request is not found.
            _ = try await client.result("assignments.recall", ["id": f.activeAssignment, "reason": "back in house"])
            try await LineClient.with(port: port) { agent in
                _ = try await agent.login(f.agencyUser.username, f.agencyUser.password)
                #expect(try await agent.call("customers.get", ["id": f.assigned]).errorCode == 404)
                #expect(try await agent.result("customers.list")["customers"] == [])
            }
        }
    }

    @Test("row-level security alone holds: the agency's queries without the server's filters see no foreign rows; nobody set sees nothing; the setting never outlives its transaction")
    func rowLevelSecurity() async throws {
        try await withCollections("agency_rls") { port, client, database in
            let f = try await Self.fixture(&client, port: port)
            func visible(_ table: String, as user: String?) async throws -> Set<Int64> {
                try await database.withTransaction { tx in
                    if let user { try await tx.query("SELECT set_config('ashrai.user_id', \(user), true)") }
                    return Set(try await tx.query("SELECT id FROM \(identifier: table)").map { try $0.decode(Int64.self, at: 0) })
                }
            }
            // The daemon's role is neither superuser nor BYPASSRLS nor the owner of any table, and every
            // table the agency can reach forces row-level security.
            let role = try await database.query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").one()
            #expect(try role.decode(Bool.self, column: "rolsuper") == false && role.decode(Bool.self, column: "rolbypassrls") == false)
            #expect(try await database.query("SELECT count(*) FROM pg_tables WHERE tableowner = current_user").scalar(Int.self) == 0)
            let forced = try await database.query("""
                SELECT count(*) FROM pg_class WHERE relname IN ('customers', 'customer_contacts', 'invoices', 'interactions', 'letters',
                    'assignments', 'assignment_invoices', 'agencies') AND relrowsecurity AND relforcerowsecurity
                """).scalar(Int.self)
            #expect(forced == 8)
            let agent = String(f.agencyUser.id)
            #expect(try await visible("customers", as: agent) == [Int64(f.assigned.intValue!)])
            #expect(try await visible("invoices", as: agent) == [Int64(f.assignedInvoice.intValue!)])
            #expect(try await visible("assignments", as: agent) == [Int64(f.activeAssignment.intValue!)])
            #expect(try await visible("agencies", as: agent) == [Int64(f.agencyA.intValue!)])
            #expect(try await visible("letters", as: agent) == [])   // its letter also names an unassigned invoice
            let interactions = try await visible("interactions", as: agent)
            #expect(interactions.contains(Int64(f.visibleInteraction.intValue!)) && !interactions.contains(Int64(f.hiddenInteraction.intValue!)))
            // The agency cannot write even where it can read.
            await #expect(throws: PostgresError.self) {
                try await database.withTransaction { tx in
                    try await tx.query("SELECT set_config('ashrai.user_id', \(agent), true)")
                    try await tx.query("INSERT INTO customers (name) VALUES ('smuggled')")
                }
            }
            // Staff see everything; nobody set sees nothing.
            #expect(try await visible("invoices", as: "1").count == 5)
            #expect(try await visible("invoices", as: nil).isEmpty)
            #expect(try await visible("customers", as: "").isEmpty)
            // After requests as the agency, no pooled connection still carries its id.
            try await LineClient.with(port: port) { agentClient in
                _ = try await agentClient.login(f.agencyUser.username, f.agencyUser.password)
                for _ in 0..<8 { _ = try await agentClient.result("customers.list") }
            }
            for _ in 0..<8 {
                let setting = try await database.query("SELECT coalesce(current_setting('ashrai.user_id', true), '')").scalar(String.self)
                #expect(setting == "")
            }
        }
    }

    @Test("a pending assignment shows the agency nothing until the customer is told")
    func pendingInvisible() async throws {
        try await withCollections("agency_pending") { port, client, _ in
            let agency = try #require(try await client.result("agencies.create", ["name": "Patient Agency", "commission_rate": "10"])["id"])
            let c = try await client.customer("Not Yet Told Ltd")
            let invoice = try await client.invoice(c, "90.00", due: "2026-01-01")
            let assignment = try #require(try await client.result("assignments.create", ["agency_id": agency, "customer_id": c, "invoice_ids": [invoice]])["id"])
            let user = try await Self.makeAgencyUser(&client, port: port, agency: agency)
            try await LineClient.with(port: port) { agent in
                _ = try await agent.login(user.username, user.password)
                #expect(try await agent.result("customers.list")["customers"] == [])
                #expect(try await agent.call("invoices.get", ["id": invoice]).errorCode == 404)
            }
            _ = try await client.result("assignments.notify", ["id": assignment, "customer_notified_on": "2026-02-01"])
            try await LineClient.with(port: port) { agent in
                _ = try await agent.login(user.username, user.password)
                #expect(try await agent.result("customers.list")["customers"]?.arrayValue?.count == 1)
                #expect(try await agent.call("invoices.get", ["id": invoice])["result"] != nil)
            }
        }
    }
}
