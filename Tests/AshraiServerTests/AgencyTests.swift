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

@Suite("staff training")
struct TrainingTests {
    @Test("compliance per user with expiry at the boundary day; a clerk reads only their own records")
    func compliance() async throws {
        try await withCollections("training") { port, client, _ in
            _ = try await client.result("training.courses.create", ["code": "COLL-1", "title": "Collections conversations", "topic": "collections",
                                                                    "required_for_roles": ["clerk", "manager"], "validity_months": 12])
            _ = try await client.result("training.courses.create", ["code": "SYS-1", "title": "Using Ashrai", "topic": "systems",
                                                                    "required_for_roles": ["clerk"]])
            #expect(try await client.call("training.courses.create", ["code": "coll-1", "title": "dup", "topic": "other"]).errorCode == 409)
            let clerk = try await TrainingTests.user(&client, port: port, role: "clerk")
            let other = try await TrainingTests.user(&client, port: port, role: "clerk")
            _ = try await client.result("training.records.add", ["user_id": .int(clerk.id), "course_code": "COLL-1", "completed_on": "2025-03-31", "score": "92"])
            _ = try await client.result("training.records.add", ["user_id": .int(clerk.id), "course_code": "SYS-1", "completed_on": "2025-01-10"])
            #expect(try await client.call("training.records.add", ["user_id": .int(clerk.id), "course_code": "NOPE", "completed_on": "2025-01-10"]).errorCode == 404)
            func status(_ asOf: String, _ user: Int, _ code: String) async throws -> JSONValue? {
                let report = try await client.result("training.compliance", ["as_of": .string(asOf)])
                let person = report["users"]?.arrayValue?.first { $0["user_id"]?.intValue == user }
                return person?["courses"]?.arrayValue?.first { $0["code"]?.stringValue == code }?["status"]
            }
            #expect(try await status("2026-02-27", clerk.id, "COLL-1") == "current")    // 32 days left
            #expect(try await status("2026-03-01", clerk.id, "COLL-1") == "expiring")   // 30 days left
            #expect(try await status("2026-03-30", clerk.id, "COLL-1") == "expiring")   // the last valid day
            #expect(try await status("2026-03-31", clerk.id, "COLL-1") == "expired")    // a year to the day
            #expect(try await status("2026-03-31", clerk.id, "SYS-1") == "current")     // no expiry
            #expect(try await status("2026-03-31", other.id, "COLL-1") == "missing")
            let report = try await client.result("training.compliance", ["as_of": "2026-03-01"])
            // clerk compliant (expiring still counts), the other clerk not, the boss (admin) has no required courses
            #expect(report["compliance_rate"] == "50")
            try await LineClient.with(port: port) { own in
                _ = try await own.login(clerk.username, clerk.password)
                #expect(try await own.result("training.records.list")["records"]?.arrayValue?.count == 2)
                #expect(try await own.call("training.records.list", ["user_id": .int(other.id)]).errorCode == 403)
                #expect(try await own.call("training.compliance").errorCode == 403)
            }
        }
    }

    @Test("the training gate refuses a method without a current course, naming it, and allows it with one")
    func gate() async throws {
        try await withCollections("training_gate", configure: { $0.training.gates = ["dunning.run": "collections"] }) { port, client, _ in
            #expect(try await client.call("dunning.run", ["dry_run": true])["error"]?["data"]?["reason"] == "training_required")
            let refused = try await client.call("dunning.run", ["dry_run": true])
            #expect(refused.errorCode == 403 && refused["error"]?["data"]?["course"] == "collections")
            _ = try await client.result("training.courses.create", ["code": "COLL-1", "title": "Collections", "topic": "collections", "validity_months": 12])
            let me = try #require(try await client.result("auth.whoami")["user"]?["id"])
            _ = try await client.result("training.records.add", ["user_id": me, "course_code": "COLL-1", "completed_on": "2026-11-01"])
            #expect(try await client.call("dunning.run", ["dry_run": true])["result"] != nil)
            // Other methods are not gated.
            #expect(try await client.call("letters.list")["result"] != nil)
        }
    }

    static func user(_ client: inout LineClient, port: Int, role: String) async throws -> (id: Int, username: String, password: String) {
        let username = Shared.unique(role), initial = "initial password 12345", final = "chosen password 12345"
        let id = try #require(try await client.result("users.create", ["username": .string(username), "password": .string(initial), "role": .string(role)])["id"]?.intValue)
        try await LineClient.with(port: port) { person in
            _ = try await person.login(username, initial)
            _ = try await person.result("auth.change_password", ["old_password": .string(initial), "new_password": .string(final)])
        }
        return (id, username, final)
    }
}
