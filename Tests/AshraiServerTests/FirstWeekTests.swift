import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// An instant from RFC 3339 text.
func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

@Suite("the business's clock")
struct BusinessClockServerTests {
    @Test("at 00:30 Israel time (22:30 UTC the day before, and across both daylight-saving switches) today is the Israeli day")
    func israeliMidnight() async throws {
        for (now, today) in [("2026-11-30T22:30:00Z", "2026-12-01"), ("2026-03-26T22:30:00Z", "2026-03-27"),
                             ("2026-03-27T21:30:00Z", "2026-03-28"), ("2026-10-24T21:30:00Z", "2026-10-25"),
                             ("2026-10-25T22:30:00Z", "2026-10-26")] {
            let fixed = instant(now)
            try await withCollections("clock", now: { fixed }) { _, client, _ in
                // An invoice due yesterday (Israeli time) is overdue today, though UTC still shows yesterday.
                let c = try await client.customer("Clock Ltd")
                let due = PostgresDate(daysSinceEpoch: PostgresDate(iso: today)!.daysSinceEpoch - 1).description
                _ = try await client.invoice(c, "100.00", due: due)
                let aging = try await client.result("reports.aging", [:])
                #expect(aging["as_of"]?.stringValue == today, "at \(now)")
                #expect(aging["totals"]?["amounts"]?["1-30"]?.stringValue == "100.00", "at \(now): \(aging)")
                let statement = try await client.result("statements.get", ["customer_id": c])
                #expect(statement["as_of"]?.stringValue == today)
                // The dunning run's default day is the same day.
                let run = try await client.result("dunning.run", ["dry_run": true])
                #expect(run["as_of"]?.stringValue == today)
                // server.info says which day that is, and in which zone.
                let info = try await client.result("server.info")
                #expect(info["today"]?.stringValue == today && info["time_zone"]?.stringValue == "Asia/Jerusalem")
                #expect(info["time"]?.stringValue.flatMap(parseRFC3339) == fixed)
            }
        }
    }

    @Test("the daily run happens at the configured local hour: not at 00:30 for 01:00, at 00:30 for 00:15, once, dated the local day")
    func localHour() async throws {
        let fixed = instant("2026-11-30T22:30:00Z")   // 00:30 on 1 December in Israel
        try await withCollections("clock_schedule", now: { fixed }) { _, client, database in
            let c = try await client.customer("Early Bird Ltd")
            _ = try await client.invoice(c, "60.00", due: "2026-11-20")
            let services = Services(database: database, secrets: Shared.secrets, settings: ServerSettings().withRepositoryPaths(),
                                    version: "test", jobsDatabase: database.jobsClient(), now: { fixed })
            #expect(await DunningScheduler(services: services, minuteOfDay: 60, logger: makeTestLogger()).runIfDue() == false)
            let scheduler = DunningScheduler(services: services, minuteOfDay: 15, logger: makeTestLogger())
            #expect(await scheduler.runIfDue() == true)
            #expect(await scheduler.runIfDue() == false)
            let runs = try await database.asSystem("SELECT as_of FROM dunning_runs WHERE scheduled").map { try $0.decode(PostgresDate.self, at: 0) }
            #expect(runs.map(\.description) == ["2026-12-01"])
        }
    }

    @Test("a timestamp becomes the business's day in SQL too: a promise logged at 23:30 UTC is dated the next Israeli day")
    func promiseDay() async throws {
        try await withCollections("clock_promise") { _, client, _ in
            let c = try await client.customer("Promise Ltd")
            let logged = try await client.result("interactions.log", [
                "customer_id": c, "kind": "call", "summary": "will pay", "occurred_at": "2026-06-14T23:30:00Z",
                "promise": ["amount": "50.00", "due_on": "2026-06-20"],
            ])
            #expect(logged["promise"]?["promised_on"]?.stringValue == "2026-06-15")
            let promises = try await client.result("promises.list", ["customer_id": c, "as_of": "2026-06-16"])
            let promise = try #require(promises["promises"]?.arrayValue?.first)
            #expect(promise["promised_on"]?.stringValue == "2026-06-15", "\(promise)")
        }
    }
}

@Suite("Israeli terms: שוטף + N")
struct TermsBasisServerTests {
    @Test("end-of-month terms: the due date, the snapshot on the invoice, and the text on terms, statement and letter")
    func endOfMonth() async throws {
        try await withCollections("terms_basis") { _, client, _ in
            let c = try #require(try await client.result("customers.create", ["name": "מאפיית השכונה", "language": "he"])["id"])
            let terms = try await client.result("credit.terms.set", [
                "customer_id": c, "credit_limit": "50000", "net_days": 60, "terms_basis": "end_of_month",
                "late_interest_rate": "0", "reason": "שוטף + 60 as agreed",
            ])
            #expect(terms["terms_basis"] == "end_of_month")
            #expect(terms["description"]?.stringValue == "שוטף + 60")
            // Issued 15 Jan 2026: end of January + 60 days = 1 April 2026.
            let invoice = try await client.result("invoices.create", [
                "customer_id": c, "number": .string(Shared.unique("EOM")), "issue_date": "2026-01-15", "amount": "1000.00",
            ])
            #expect(invoice["due_date"]?.stringValue == "2026-04-01")
            #expect(invoice["terms"]?["terms_basis"] == "end_of_month")
            // Issued 10 February (a common year): 28 Feb + 60 = 29 April.
            let february = try await client.result("invoices.create", [
                "customer_id": c, "number": .string(Shared.unique("EOM")), "issue_date": "2026-02-10", "amount": "500.00",
            ])
            #expect(february["due_date"]?.stringValue == "2026-04-29")
            // Changing the terms later does not move an issued invoice: the basis is snapshotted.
            _ = try await client.result("credit.terms.set", [
                "customer_id": c, "credit_limit": "50000", "net_days": 30, "late_interest_rate": "0", "reason": "back to net 30",
            ])
            let again = try await client.result("invoices.get", ["id": invoice["id"]!])
            #expect(again["due_date"]?.stringValue == "2026-04-01" && again["terms"]?["terms_basis"] == "end_of_month")
            let net = try await client.result("invoices.create", [
                "customer_id": c, "number": .string(Shared.unique("NET")), "issue_date": "2026-01-15", "amount": "10.00",
            ])
            #expect(net["due_date"]?.stringValue == "2026-02-14" && net["terms"]?["terms_basis"] == "net")
            let statement = try await client.result("statements.get", ["customer_id": c])
            #expect(statement["terms"]?["description"]?.stringValue == "נטו 30")
            // The letter names each invoice's own terms.
            let run = try await client.result("dunning.run", ["as_of": "2026-04-20"])
            let letterID = try #require(run["letters"]?.arrayValue?.first?["letter_id"])
            let letter = try await client.result("letters.get", ["id": letterID])
            #expect(letter["text"]?.stringValue?.contains("שוטף + 60") == true, "\(letter["text"] ?? .null)")
        }
    }

    @Test("English customers read end of month + N; the basis is refused when it is not net or end_of_month")
    func english() async throws {
        try await withCollections("terms_basis_en") { _, client, _ in
            let c = try #require(try await client.result("customers.create", ["name": "Corner Bakery", "language": "en"])["id"])
            let terms = try await client.result("credit.terms.set", [
                "customer_id": c, "credit_limit": "100", "net_days": 90, "terms_basis": "end_of_month", "late_interest_rate": "0", "reason": "x",
            ])
            #expect(terms["description"]?.stringValue == "end of month + 90")
            let bad = try await client.call("credit.terms.set", [
                "customer_id": c, "credit_limit": "100", "net_days": 90, "terms_basis": "shotef", "late_interest_rate": "0", "reason": "x",
            ])
            #expect(bad.errorCode == -32602 && bad["error"]?["data"]?["field"] == "terms_basis")
        }
    }
}

@Suite("legal identifiers")
struct LegalIDServerTests {
    @Test("a real company number is stored as 9 digits; one changed digit is -32602 naming the check; a duplicate is 409 unless allowed with a reason")
    func israeli() async throws {
        try await withCollections("legal_id") { _, client, _ in
            let teva = try await client.result("customers.create", ["name": "Teva", "legal_id": "52-001395-4"])
            #expect(teva["legal_id"]?.stringValue == "520013954")
            let wrong = try await client.call("customers.create", ["name": "Typo Ltd", "legal_id": "520013955"])
            #expect(wrong.errorCode == -32602)
            #expect(wrong["error"]?["data"]?["field"] == "legal_id")
            #expect(wrong["error"]?["message"]?.stringValue?.contains("check digit") == true)
            let letters = try await client.call("customers.create", ["name": "Letters Ltd", "legal_id": "52001395A"])
            #expect(letters.errorCode == -32602 && letters["error"]?["message"]?.stringValue?.contains("only digits") == true)
            // A short identity number is padded on the left.
            let padded = try await client.result("customers.create", ["name": "Sole trader", "legal_id": "12345674"])
            #expect(padded["legal_id"]?.stringValue == "012345674")

            let duplicate = try await client.call("customers.create", ["name": "Teva again", "legal_id": "520013954"])
            #expect(duplicate.errorCode == 409 && duplicate["error"]?["data"]?["field"] == "legal_id")
            let noReason = try await client.call("customers.create", ["name": "Teva branch", "legal_id": "520013954", "allow_duplicate_legal_id": true])
            #expect(noReason.errorCode == -32602 && noReason["error"]?["data"]?["field"] == "duplicate_reason")
            let branch = try await client.result("customers.create", [
                "name": "Teva branch", "legal_id": "520013954", "allow_duplicate_legal_id": true, "duplicate_reason": "the Jerusalem plant is billed apart",
            ])
            let audit = try await client.result("audit.list", ["entity": "customer", "entity_id": .string(String(branch["id"]!.intValue!))])
            let entry = try #require(audit["entries"]?.arrayValue?.first)
            #expect(entry["context"]?["duplicate_legal_id"]?["reason"]?.stringValue == "the Jerusalem plant is billed apart")
            #expect(entry["context"]?["duplicate_legal_id"]?["other_customer_ids"]?.arrayValue?.first == teva["id"])

            // Changing another customer's id to an existing one is refused the same way.
            let update = try await client.call("customers.update", ["id": padded["id"]!, "version": padded["version"]!, "legal_id": "520013954"])
            #expect(update.errorCode == 409)
        }
    }

    @Test("two clients creating the same legal id at once: exactly one succeeds")
    func race() async throws {
        try await withCollections("legal_id_race") { port, _, _ in
            let results = try await withThrowingTaskGroup(of: Int?.self) { group in
                for n in 0..<6 {
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            _ = try await client.login("boss", "collections admin password")
                            return try await client.call("customers.create", ["name": .string("Racer \(n)"), "legal_id": "520018078"]).errorCode
                        }
                    }
                }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            #expect(results.filter { $0 == nil }.count == 1)
            #expect(results.filter { $0 == 409 }.count == 5)
        }
    }

    @Test("outside Israel (business.country) the legal id is kept as given")
    func otherCountry() async throws {
        try await withCollections("legal_id_de", configure: { $0.country = "DE" }) { _, client, _ in
            let c = try await client.result("customers.create", ["name": "GmbH", "legal_id": " DE 123 456 789 "])
            #expect(c["legal_id"]?.stringValue == "DE 123 456 789")
        }
    }
}

@Suite("bringing existing receivables in")
struct OpeningBalanceTests {
    @Test("customers.import with terms: version 1, reason import, the importer as approver; a clerk's terms are refused")
    func customersWithTerms() async throws {
        try await withCollections("import_terms") { port, client, _ in
            let imported = try await client.result("customers.import", ["rows": [
                ["code": "B-1", "name": "מאפייה", "legal_id": "520000118", "credit_limit": "20000", "net_days": 60,
                 "terms_basis": "end_of_month", "late_interest_rate": "4", "early_discount_rate": "2", "early_discount_days": 10],
                ["code": "B-2", "name": "No terms"],
                ["code": "B-3", "name": "Bad basis", "credit_limit": "1", "terms_basis": "weekly"],
                ["code": "B-4", "name": "Unknown column", "colour": "blue"],
            ]])
            let results = imported["results"]?.arrayValue ?? []
            #expect(results.map { $0["ok"] } == [true, true, false, false])
            #expect(results[2]["error"]?["data"]?["field"] == "terms_basis")
            #expect(results[3]["error"]?["data"]?["field"] == "colour")
            let first = try #require(results[0]["id"])
            let terms = try await client.result("credit.terms.get", ["customer_id": first])
            #expect(terms["version"] == 1 && terms["reason"] == "import" && terms["set_by"] == "boss")
            #expect(terms["credit_limit"] == "20000.00" && terms["net_days"] == 60 && terms["terms_basis"] == "end_of_month")
            #expect(terms["early_discount_rate"] == "2" && terms["early_discount_days"] == 10)
            let none = try await client.result("credit.terms.get", ["customer_id": results[1]["id"]!])
            #expect(none["is_default"] == true)

            let user = try await makeUser(port: port, role: .clerk, admin: ("boss", "collections admin password"))
            try await LineClient.with(port: port) { clerk in
                try await clerk.login(user.username, user.password)
                let clerkImport = try await clerk.result("customers.import", ["rows": [["name": "Clerk's", "credit_limit": "100"], ["name": "Plain"]]])
                #expect(clerkImport["results"]?.arrayValue?.map { $0["error"]?["code"] } == [403, nil])
            }
        }
    }

    @Test("opening invoices: over the limit and on hold, no credit decision, flagged and audited; paid_amount is a settled part dated on import")
    func openingInvoices() async throws {
        let fixed = instant("2026-11-30T10:00:00Z")
        try await withCollections("opening", now: { fixed }) { port, client, _ in
            let c = try #require(try await client.result("customers.create", ["name": "Old debtor", "code": "OLD-1"])["id"])
            _ = try await client.result("holds.place", ["customer_id": c, "reason": "was on hold in the old books"])
            let rows: JSONValue = [
                ["customer_code": "OLD-1", "number": "OLD-100", "issue_date": "2026-08-01", "due_date": "2026-08-31", "amount": "1000.00",
                 "paid_amount": "400.00"],
                ["customer_code": "OLD-1", "number": "OLD-101", "issue_date": "2026-10-01", "due_date": "2026-10-31", "amount": "2500.00"],
                ["customer_code": "OLD-1", "number": "OLD-102", "issue_date": "2026-10-01", "amount": "50.00", "paid_amount": "50.00"],
            ]
            // Not as opening balances: refused (on hold, limit 0); paid_amount is not a column then.
            let ordinary = try await client.result("invoices.import", ["rows": rows])
            #expect(ordinary["created"] == 0)
            #expect(ordinary["results"]?.arrayValue?[1]["error"]?["data"]?["rule"] != nil)
            #expect(ordinary["results"]?.arrayValue?[0]["error"]?["data"]?["field"] == "paid_amount")

            let opening = try await client.result("invoices.import", ["rows": rows, "opening": true])
            #expect(opening["created"] == 2, "\(opening)")
            let results = opening["results"]?.arrayValue ?? []
            #expect(results[2]["error"]?["data"]?["field"] == "paid_amount")   // fully paid is not an open debt
            let old = try await client.result("invoices.get", ["id": results[0]["id"]!])
            #expect(old["opening"] == true && old["status"] == "partially_paid")
            #expect(old["paid_amount"] == "400.00" && old["open_amount"] == "600.00")
            // The settled part: a payment of its own kind, dated on the day of the import, allocated to the invoice.
            let payments = try await client.result("payments.list", ["customer_id": c])["payments"]?.arrayValue ?? []
            #expect(payments.count == 1)
            #expect(payments.first?["method"] == "opening_balance" && payments.first?["received_on"] == "2026-11-30"
                    && payments.first?["amount"] == "400.00" && payments.first?["unapplied"] == "0.00")
            // Audited as an opening balance.
            let audit = try await client.result("audit.list", ["entity": "invoice", "entity_id": .string(String(old["id"]!.intValue!))])
            #expect(audit["entries"]?.arrayValue?.first?["method"] == "invoices.import_opening")
            #expect(audit["entries"]?.arrayValue?.first?["after"]?["paid_amount"] == "400.00")
            // Ordinary everywhere else: aging, statement, dunning.
            let aging = try await client.result("reports.aging", ["customer_id": c])
            #expect(aging["totals"]?["total"] == "3100.00")
            #expect(aging["totals"]?["amounts"]?["90+"] == "600.00" && aging["totals"]?["amounts"]?["1-30"] == "2500.00")   // 91 and 30 days
            let statement = try await client.result("statements.get", ["customer_id": c])
            #expect(statement["closing_balance"] == "3100.00")
            let dry = try await client.result("dunning.run", ["dry_run": true])
            #expect(Set(dry["letters"]?.arrayValue?.flatMap { $0["invoice_ids"]?.arrayValue ?? [] } ?? []) == [results[0]["id"]!, results[1]["id"]!])

            let user = try await makeUser(port: port, role: .clerk, admin: ("boss", "collections admin password"))
            try await LineClient.with(port: port) { clerk in
                try await clerk.login(user.username, user.password)
                let refused = try await clerk.call("invoices.import", ["rows": [["customer_id": c, "number": "X-1", "issue_date": "2026-01-01", "amount": "1.00"]],
                                                                       "opening": true])
                #expect(refused.errorCode == 403)
            }
        }
    }

    @Test("payments.import: good rows kept, bad rows reported by index, idempotency keys replay, atomic keeps nothing")
    func paymentsImport() async throws {
        try await withCollections("payments_import") { _, client, database in
            let c = try await client.customer("Payer Ltd")
            let code = try #require(try await client.result("customers.get", ["id": c])["code"])
            _ = try await client.invoice(c, "300.00", due: "2026-10-01")
            let rows: JSONValue = [
                ["customer_code": code, "amount": "100.00", "method": "cheque", "received_on": "2026-10-05", "idempotency_key": "pay-1"],
                ["customer_code": code, "amount": "-5", "method": "cash", "received_on": "2026-10-05"],
                ["customer_code": "NO-SUCH", "amount": "5.00", "method": "cash", "received_on": "2026-10-05"],
                ["customer_id": c, "amount": "50.00", "method": "barter", "received_on": "2026-10-06"],
                ["customer_id": c, "amount": "20.00", "method": "bank_transfer", "received_on": "2026-10-07"],
            ]
            let first = try await client.result("payments.import", ["rows": rows])
            let results = first["results"]?.arrayValue ?? []
            #expect(results.map { $0["ok"] } == [true, false, false, false, true])
            #expect(results[1]["error"]?["data"]?["field"] == "amount")
            #expect(results[2]["error"]?["data"]?["field"] == "customer_code")
            #expect(results[3]["error"]?["data"]?["field"] == "method")
            #expect(first["created"] == 2 && first["failed"] == 3 && first["committed"] == true)
            // The same file again: the keyed row replays (same payment), the unkeyed one is new.
            let second = try await client.result("payments.import", ["rows": rows])
            #expect(second["results"]?.arrayValue?[0]["id"] == results[0]["id"])
            let count = try await database.asSystem("SELECT count(*) FROM payments WHERE customer_id = \(Int64(c.intValue!))").scalar(Int.self)
            #expect(count == 3)
            // Atomic: one bad row, nothing kept.
            let atomic = try await client.result("payments.import", ["rows": rows, "atomic": true])
            #expect(atomic["committed"] == false && atomic["created"] == 0)
            let after = try await database.asSystem("SELECT count(*) FROM payments WHERE customer_id = \(Int64(c.intValue!))").scalar(Int.self)
            #expect(after == 3)
            // A key reused with other params is a conflict for that row.
            let reused = try await client.result("payments.import", ["rows": [
                ["customer_code": code, "amount": "999.00", "method": "cheque", "received_on": "2026-10-05", "idempotency_key": "pay-1"],
            ]])
            #expect(reused["results"]?.arrayValue?.first?["error"]?["code"] == 409)
        }
    }
}
