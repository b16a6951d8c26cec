import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// A server on a database of its own (dunning runs over every invoice in the database, so
/// these tests must not share one), with a manager logged in.
func withCollections(_ prefix: String, configure: (inout ServerSettings) -> Void = { _ in }, now: (@Sendable () -> Date)? = nil,
                     _ body: (Int, inout LineClient, PostgresClient) async throws -> Void) async throws {
    let database = try await freshDatabase(prefix)
    let password = "collections admin password"
    _ = try await AdminBootstrap.createOrReset(username: "boss", password: password, mustChangePassword: false, onlyIfNone: false,
                                               database: database, secrets: Shared.secrets)
    var settings = ServerSettings()
    settings.collections.business.name = "Ashrai Test Bakery Supplies"
    settings.collections.business.phone = "03-000-0000"
    settings.collections.business.contactName = "Accounts"
    settings.collections.business.bankTransfer = "Bank Leumi (10), branch 800, account 123456"
    configure(&settings)
    try await withServer(settings: settings, database: database, now: now) { port in
        try await LineClient.with(port: port) { client in
            _ = try await client.login("boss", password)
            try await body(port, &client, database)
        }
    }
    await database.shutdown()
}

extension LineClient {
    /// A customer with terms (limit 100,000, net 0 days, the given interest) in a language.
    mutating func customer(_ name: String, language: String = "en", interest: String = "0") async throws -> JSONValue {
        let id = try #require(try await result("customers.create", ["name": .string(name), "language": .string(language),
                                                                    "code": .string(Shared.unique("C"))])["id"])
        _ = try await result("credit.terms.set", ["customer_id": id, "credit_limit": "100000", "net_days": 0,
                                                  "late_interest_rate": .string(interest), "reason": "test"])
        return id
    }

    /// An invoice issued on `issued` (default: its due date).
    mutating func invoice(_ customer: JSONValue, _ amount: String, due: String, issued: String? = nil) async throws -> JSONValue {
        try #require(try await result("invoices.create", ["customer_id": customer, "number": .string(Shared.unique("INV")),
                                                          "issue_date": .string(issued ?? due), "due_date": .string(due), "amount": .string(amount)])["id"])
    }

    /// A dunning run; `delivered` marks every letter it wrote as sent by post, as staff do after
    /// printing them (a sanction waits until the notice announcing it was sent).
    mutating func dunning(_ asOf: String, dryRun: Bool = false, delivered: Bool = true) async throws -> JSONValue {
        let run = try await result("dunning.run", ["as_of": .string(asOf), "dry_run": .bool(dryRun)])
        if delivered, !dryRun {
            for letter in run["letters"]?.arrayValue ?? [] {
                if let id = letter["letter_id"], !id.isNull { _ = try await result("letters.mark_sent", ["id": id, "channel": "post"]) }
            }
        }
        return run
    }
}

private func days(after start: String, _ n: Int) -> String {
    PostgresDate(daysSinceEpoch: PostgresDate(iso: start)!.daysSinceEpoch + n).description
}

private func levels(_ run: JSONValue, customer: JSONValue) -> [Int] {
    (run["letters"]?.arrayValue ?? []).filter { $0["customer_id"] == customer }.compactMap { $0["level"]?.intValue }
}

@Suite("dunning")
struct DunningTests {
    @Test("day by day every level fires exactly once on its day; a second run the same day does nothing; downtime catches up without resending")
    func timeline() async throws {
        try await withCollections("dun_timeline") { _, client, _ in
            let a = try await client.customer("Daily Ltd")
            _ = try await client.invoice(a, "1000.00", due: "2026-01-01")
            var fired: [Int: String] = [:]
            var holds: [String] = [], referrals: [String] = [], calls: [String] = []
            for n in 1...75 {
                let asOf = days(after: "2026-01-01", n)
                let run = try await client.dunning(asOf)
                for level in levels(run, customer: a) {
                    #expect(fired[level] == nil, "level \(level) fired twice")
                    fired[level] = asOf
                }
                if !(run["holds"]?.arrayValue ?? []).isEmpty { holds.append(asOf) }
                if !(run["referrals"]?.arrayValue ?? []).isEmpty { referrals.append(asOf) }
                if !(run["calls"]?.arrayValue ?? []).isEmpty { calls.append(asOf) }
                // The same day again: nothing new.
                let again = try await client.dunning(asOf)
                #expect(again["letters"] == [] && again["calls"] == [] && again["holds"] == [] && again["referrals"] == [])
            }
            // The default policy's call the day after the due date (a task, no letter); letters at 3, 15, 30 days overdue;
            // the hold at 45 (the final notice said "pay by 02-10"); the referral at 60.
            #expect(calls == ["2026-01-02"])
            #expect(fired == [2: "2026-01-04", 3: "2026-01-16", 4: "2026-01-31", 5: "2026-02-15"])
            let tasks = try await client.result("tasks.list", ["customer_id": a, "state": "open"])["tasks"]?.arrayValue ?? []
            #expect(tasks.map { $0["kind"] } == ["call"] && tasks.first?["due_on"] == "2026-01-02")
            #expect(holds == ["2026-02-15"] && referrals == ["2026-03-02"])
            let customer = try await client.result("customers.get", ["id": a])
            #expect(customer["status"] == "on_hold")
            let letters = try await client.result("letters.list", ["customer_id": a])["letters"]?.arrayValue ?? []
            #expect(letters.count == 4)
            let logged = try await client.result("interactions.list", ["customer_id": a, "kind": "letter"])["interactions"]?.arrayValue ?? []
            #expect(logged.count == 4 && logged.allSatisfy { $0["letter_id"] != .null })

            // Downtime: an invoice nobody dunned for 50 days gets the final notice at once (not the reminder or
            // the letter, and not the hold before a letter said so) …
            let b = try await client.customer("Late Starter Ltd")
            let invoice = try await client.invoice(b, "200.00", due: "2026-01-01")
            let first = try await client.dunning("2026-02-20")
            #expect(levels(first, customer: b) == [4])
            let skipped = first["skipped"]?.arrayValue ?? []
            #expect(skipped.isEmpty, "\(skipped)")
            // … and when its last date to pay has passed, hold and referral together (the referral does not skip the hold).
            let waiting = try await client.dunning("2026-03-02")
            #expect(waiting["skipped"]?.arrayValue?.first { $0["invoice_id"] == invoice }?["reason"] == "last_date_to_pay_not_passed")
            let later = try await client.dunning("2026-03-10")
            #expect(later["holds"]?.arrayValue?.map { $0["customer_id"] } == [b])
            #expect(later["referrals"]?.arrayValue?.map { $0["customer_id"] } == [b])
            #expect(levels(later, customer: b) == [5])
            #expect(try await client.dunning("2026-03-11")["letters"] == [])

            // A final notice that was written but never sent holds nothing back from the customer's
            // knowledge: no hold until it was sent (by e-mail, or marked sent by hand).
            let c = try await client.customer("Unsent Notice Ltd")
            let unsent = try await client.invoice(c, "300.00", due: "2026-01-01")
            let notice = try await client.dunning("2026-02-20", delivered: false)
            #expect(levels(notice, customer: c) == [4])
            let held = try await client.dunning("2026-03-10", delivered: false)
            #expect(held["holds"]?.arrayValue?.contains { $0["customer_id"] == c } == false)
            #expect(held["skipped"]?.arrayValue?.first { $0["invoice_id"] == unsent }?["reason"] == "notice_not_sent")
            let letterID = try #require(notice["letters"]?.arrayValue?.first { $0["customer_id"] == c }?["letter_id"])
            _ = try await client.result("letters.mark_sent", ["id": letterID, "channel": "post"])
            let afterSent = try await client.dunning("2026-03-11")
            #expect(afterSent["holds"]?.arrayValue?.map { $0["customer_id"] } == [c])
        }
    }

    @Test("two concurrent runs for the same day send each letter once")
    func concurrentRuns() async throws {
        try await withCollections("dun_concurrent") { port, client, _ in
            var customers: [JSONValue] = []
            for index in 0..<5 {
                let customer = try await client.customer("Concurrent \(index)")
                _ = try await client.invoice(customer, "100.00", due: "2026-05-01")
                customers.append(customer)
            }
            let token = try await client.result("auth.whoami")["user"]?["username"]
            #expect(token == "boss")
            let runs = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await LineClient.with(port: port) { other in
                            _ = try await other.login("boss", "collections admin password")
                            return try await other.result("dunning.run", ["as_of": "2026-05-20"])
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let sent = runs.flatMap { $0["letters"]?.arrayValue ?? [] }
            #expect(sent.count == 5)
            #expect(Set(sent.compactMap { $0["customer_id"] }) == Set(customers))
            let stored = try await client.result("letters.list")["letters"]?.arrayValue ?? []
            #expect(stored.count == 5)
        }
    }

    @Test("a run waits for another run to end as long as the jobs' bound allows, not the 1 s a request has; a plain request still has 1 s")
    func runWaitsForRun() async throws {
        try await withCollections("dun_wait", configure: { $0.databaseCallTimeout = .seconds(1) }) { _, client, database in
            let customer = try await client.customer("Patient Ltd")
            _ = try await client.invoice(customer, "100.00", due: "2026-05-01")
            // Another run (another daemon's) holds dunning's lock for 2.5 s.
            let holding = Task {
                try await database.withTransaction { tx in
                    try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.dunning.run'))")
                    try await tx.query("SELECT pg_sleep(2.5)")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let run = try await client.result("dunning.run", ["as_of": "2026-05-20"])
            #expect(run["letters"]?.arrayValue?.count == 1)
            try await holding.value
            // A request that is not a batch keeps its own bound: a statement past 1 s is cancelled, answered 503.
            let jobs = database.jobsClient()
            let blocked = Task {
                try await jobs.withTransaction { tx in
                    try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
                    let locked = try await tx.query("SELECT 1 FROM customers WHERE id = \(customer.intValue.map(Int64.init)) FOR UPDATE")
                    #expect(locked.count == 1)
                    try await tx.query("SELECT pg_sleep(2.5)")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let version = try await client.result("customers.get", ["id": customer])["version"] ?? .null
            // (Had it waited for the row, the update would have succeeded once the 2.5 s holder ended.)
            let refused = try await client.call("customers.update", ["id": customer, "version": version, "name": "Impatient Ltd"])
            #expect(refused["error"]?["code"] == 503)
            try await blocked.value
            await jobs.shutdown()
        }
    }

    @Test("disputes, active plans and open promises pause an invoice, with the reason; a proposed plan does not; the pause ends with them")
    func pauses() async throws {
        try await withCollections("dun_pauses") { _, client, _ in
            let c = try await client.customer("Paused Ltd")
            let disputed = try await client.invoice(c, "100.00", due: "2026-03-01")
            let planned = try await client.invoice(c, "200.00", due: "2026-03-01")
            let promised = try await client.invoice(c, "300.00", due: "2026-03-01")
            let plain = try await client.invoice(c, "400.00", due: "2026-03-01")
            let proposed = try await client.invoice(c, "500.00", due: "2026-03-01")
            let dispute = try await client.result("disputes.open", ["invoice_id": disputed, "reason": "goods arrived damaged"])
            _ = try await client.result("plans.create", ["customer_id": c, "invoice_ids": [planned], "installments": 2, "frequency": "monthly",
                                                         "first_due_on": "2026-04-01", "agreed_on": "2026-03-10", "agreement_ref": "signed PDF 17",
                                                         "signed_by": "Dana, CFO"])
            let proposal = try await client.result("plans.create", ["customer_id": c, "invoice_ids": [proposed], "installments": 2,
                                                                    "frequency": "monthly", "first_due_on": "2026-04-01"])
            #expect(proposal["status"] == "proposed")
            _ = try await client.result("interactions.log", ["customer_id": c, "kind": "call", "summary": "will pay the 300 by the 25th",
                                                             "occurred_at": "2026-03-10T09:00:00Z", "invoice_ids": [promised],
                                                             "promise": ["amount": "300.00", "due_on": "2026-03-25"]])
            let dry = try await client.dunning("2026-03-20", dryRun: true)
            #expect(dry["run_id"] == .null && dry["dry_run"] == true)
            let letter = try #require(dry["letters"]?.arrayValue?.first)
            #expect(Set(letter["invoice_ids"]?.arrayValue ?? []) == Set([plain, proposed]))
            let reasons = Dictionary(uniqueKeysWithValues: (dry["skipped"]?.arrayValue ?? []).map { ($0["invoice_id"]!, $0["reason"]!) })
            #expect(reasons == [disputed: "open_dispute", planned: "active_installment_plan", promised: "open_promise"])
            // A dry run writes nothing (the agreed plan's confirmation is the only letter).
            #expect(try await client.result("letters.list", ["kind": "dunning"])["letters"] == [])
            _ = try await client.dunning("2026-03-20")

            // The business was right; the promise was broken (nothing paid by the 25th): both come back.
            _ = try await client.result("disputes.resolve", ["id": dispute["id"]!, "resolution": "business_right"])
            let after = try await client.dunning("2026-03-26")
            let covered = Set(after["letters"]?.arrayValue?.flatMap { $0["invoice_ids"]?.arrayValue ?? [] } ?? [])
            #expect(covered == Set([disputed, promised]))
            let promises = try await client.result("promises.list", ["as_of": "2026-03-26", "customer_id": c])["promises"]?.arrayValue ?? []
            #expect(promises.map { $0["status"] } == ["broken"])
        }
    }

    @Test("a defaulted plan returns its invoices to dunning at the level they had")
    func planDefault() async throws {
        try await withCollections("dun_plan") { _, client, _ in
            let c = try await client.customer("Instalments Ltd")
            let invoice = try await client.invoice(c, "1000.00", due: "2026-01-01")
            #expect(levels(try await client.dunning("2026-01-20"), customer: c) == [3])
            let plan = try await client.result("plans.create", [
                "customer_id": c, "invoice_ids": [invoice], "installments": 3, "frequency": "monthly", "first_due_on": "2026-02-01",
                "agreed_on": "2026-01-21", "agreement_ref": "plan letter", "signed_by": "Avi", "grace_days": 5])
            #expect(plan["status"] == "active" && plan["total"] == "1000.00")
            #expect(plan["schedule"]?.arrayValue?.map { $0["amount"] } == ["333.33", "333.33", "333.34"])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "333.33", "method": "bank_transfer", "received_on": "2026-02-01"])
            // Paused while the plan holds; the second installment (03-01) is still within its grace on 03-06.
            let quiet = try await client.dunning("2026-03-06")
            #expect(levels(quiet, customer: c) == [] && quiet["plans_defaulted"] == [])
            let check = try await client.result("plans.check", ["as_of": "2026-03-06"])
            #expect(check["defaulted"] == [])
            let run = try await client.dunning("2026-03-07")
            #expect(run["plans_defaulted"] == [plan["id"]!])
            #expect(levels(run, customer: c) == [4])   // back where it was (3), on to the final notice it has earned
            let after = try await client.result("plans.get", ["id": plan["id"]!])
            #expect(after["status"] == "defaulted" && after["paid"] == "333.33")
        }
    }
}

@Suite("collections")
struct CollectionsTests {
    @Test("the first reminder already says what happens next: a formal notice (with its fee) and, later, a hold")
    func reminderSaysWhatNext() async throws {
        try await withCollections("reminder_next") { _, client, _ in
            let en = try await client.customer("Early Bird Ltd", language: "en")
            let he = try await client.customer("ציפור מוקדמת בע\"מ", language: "he")
            _ = try await client.invoice(en, "100.00", due: "2026-06-01")
            _ = try await client.invoice(he, "100.00", due: "2026-06-01")
            let run = try await client.dunning("2026-06-04", delivered: false)   // 3 days: the reminder
            for (customer, phrases) in [(en, ["formal notice", "on hold"]), (he, ["התראה רשמית", "יוקפא"])] {
                let letter = try #require(run["letters"]?.arrayValue?.first { $0["customer_id"] == customer })
                #expect(letter["level"] == 2)
                let text = try #require(try await client.result("letters.get", ["id": letter["letter_id"]!])["text"]?.stringValue)
                for phrase in phrases { #expect(text.contains(phrase), "\(phrase) in: \(text)") }
            }
        }
    }

    @Test("\"despite our earlier reminder\" only after a reminder the customer received; a letter reached by catch-up does not say it")
    func earlierReminderWording() async throws {
        try await withCollections("earlier_reminder") { _, client, _ in
            let caughtUp = try await client.customer("Caught Up Ltd")
            let reminded = try await client.customer("Reminded Ltd")
            _ = try await client.invoice(reminded, "100.00", due: "2026-06-10")
            _ = try await client.dunning("2026-06-13")   // Reminded: the reminder (3 days), marked sent
            _ = try await client.invoice(caughtUp, "100.00", due: "2026-06-01")   // brought in late: never reminded
            let run = try await client.dunning("2026-06-25", delivered: false)   // both at level 3, the letter (15+ days)
            func text(_ customer: JSONValue) async throws -> String {
                let letter = try #require(run["letters"]?.arrayValue?.first { $0["customer_id"] == customer && $0["level"] == 3 })
                return try #require(try await client.result("letters.get", ["id": letter["letter_id"]!])["text"]?.stringValue)
            }
            #expect(try await text(reminded).contains("Despite our earlier reminder"))
            let caughtUpText = try await text(caughtUp)
            #expect(!caughtUpText.contains("earlier reminder") && caughtUpText.contains("The following invoices remain unpaid"))
        }
    }

    @Test("letters in Hebrew and English state the amount, the last date to pay, the consequences and how to pay")
    func letters() async throws {
        try await withCollections("letters") { _, client, _ in
            let he = try await client.customer("מאפיית השכונה בע\"מ", language: "he", interest: "12")
            let en = try await client.customer("Corner Bakery Ltd", language: "en", interest: "12")
            _ = try await client.invoice(he, "1234.50", due: "2026-06-01")
            _ = try await client.invoice(en, "1234.50", due: "2026-06-01")
            let run = try await client.dunning("2026-07-01", delivered: false)   // 30 days: the final notice, with its 25.00 fee
            let ids = Dictionary(uniqueKeysWithValues: (run["letters"]?.arrayValue ?? []).map { ($0["customer_id"]!, $0["letter_id"]!) })
            let hebrew = try await client.result("letters.get", ["id": try #require(ids[he])])
            let text = try #require(hebrew["text"]?.stringValue)
            #expect(text.contains("מאפיית השכונה"))
            #expect(text.contains("1,234.50 ₪"))              // the open amount
            #expect(text.contains("12.18 ₪"))                 // 1234.50 × 12 % × 30 / 365 = 12.175… → 12.18
            #expect(text.contains("25.00 ₪"))                 // the level's fee
            #expect(text.contains("1,271.68 ₪"))              // the total
            #expect(text.contains("11/07/2026"))              // last date to pay: 10 days after the letter
            #expect(text.contains("מסגרת האשראי שלכם תוקפא"))   // the consequence
            #expect(text.contains("03-000-0000") && text.contains("Bank Leumi"))
            #expect(hebrew["html"]?.stringValue?.contains("dir=\"rtl\"") == true)
            #expect(hebrew["language"] == "he" && hebrew["total"] == "1271.68" && hebrew["last_date_to_pay"] == "2026-07-11")
            let english = try await client.result("letters.get", ["id": try #require(ids[en])])
            let englishText = try #require(english["text"]?.stringValue)
            #expect(englishText.contains("Corner Bakery Ltd") && englishText.contains("ILS 1,271.68") && englishText.contains("11 Jul 2026"))
            #expect(englishText.contains("your credit account will be put on hold"))
            #expect(english["html"]?.stringValue?.contains("<td>") == true)
            let sent = try await client.result("letters.mark_sent", ["id": try #require(ids[en]), "channel": "email"])
            #expect(sent["status"] == "sent" && sent["sent_channel"] == "email")
            #expect(try await client.call("letters.mark_sent", ["id": try #require(ids[en]), "channel": "email"]).errorCode == 409)
            #expect(try await client.result("letters.list", ["status": "pending"])["letters"]?.arrayValue?.count == 1)
        }
    }

    @Test("the policy is versioned, checked, and admin-only to set")
    func policy() async throws {
        try await withCollections("policy") { _, client, _ in
            let initial = try await client.result("dunning.policy.get")
            #expect(initial["version"] == 0 && initial["is_default"] == true && initial["levels"]?.arrayValue?.count == 6)
            let set = try await client.result("dunning.policy.set", ["levels": [
                ["level": 1, "days_overdue": 7, "action": "reminder", "template": "reminder"],
                ["level": 2, "days_overdue": 21, "action": "final_notice", "template": "final_notice", "fee": "10.00"],
            ], "reason": "gentler"])
            #expect(set["version"] == 1 && set["is_default"] == false)
            #expect(try await client.call("dunning.policy.set", ["levels": [["level": 1, "days_overdue": 7, "action": "hold", "template": "hold_notice"]]])
                .errorCode == -32602)
            #expect(try await client.call("dunning.policy.set", ["levels": [["level": 1, "days_overdue": 7, "action": "reminder", "template": "nonexistent"]]])
                .errorCode == -32602)
            #expect(try await client.result("dunning.policy.get")["version"] == 1)
        }
    }

    @Test("plans: schedule to the agora, proposal until signed, interest, bad input refused")
    func plans() async throws {
        try await withCollections("plans") { _, client, _ in
            let c = try await client.customer("Plan Co")
            let i1 = try await client.invoice(c, "600.00", due: "2026-02-01")
            let i2 = try await client.invoice(c, "400.00", due: "2026-02-01")
            let proposal = try await client.result("plans.create", ["customer_id": c, "invoice_ids": [i1, i2], "installments": 3,
                                                                    "frequency": "weekly", "first_due_on": "2026-03-02"])
            #expect(proposal["status"] == "proposed" && proposal["principal"] == "1000.00")
            #expect(proposal["schedule"]?.arrayValue?.map { $0["due_on"] } == ["2026-03-02", "2026-03-09", "2026-03-16"])
            #expect(try await client.call("plans.create", ["customer_id": c, "invoice_ids": [i1], "installments": 2, "frequency": "weekly",
                                                           "first_due_on": "2026-03-02"]).errorCode == 409)   // already in a plan
            #expect(try await client.call("plans.create", ["customer_id": c, "invoice_ids": [i1], "installments": 2, "frequency": "weekly",
                                                           "first_due_on": "2026-03-02", "agreed_on": "2026-03-01"])["error"]?["data"]?["field"] == "agreement_ref")
            let agreed = try await client.result("plans.agree", ["id": proposal["id"]!, "agreed_on": "2026-03-01", "agreement_ref": "scan 4",
                                                                 "signed_by": "Moshe"])
            #expect(agreed["status"] == "active")
            let log = try await client.result("interactions.list", ["customer_id": c, "kind": "agreement"])["interactions"]?.arrayValue ?? []
            #expect(log.count == 1)
            _ = try await client.result("plans.cancel", ["id": proposal["id"]!, "reason": "customer paid in full elsewhere"])
            // With interest and a down payment: 1000 − 100 = 900 financed at 12 % from 03-01 to the last installment (05-30).
            let withInterest = try await client.result("plans.create", [
                "customer_id": c, "invoice_ids": [i1, i2], "installments": 3, "frequency": "monthly", "first_due_on": "2026-03-30",
                "down_payment": "100.00", "interest_rate": "12", "agreed_on": "2026-03-01", "agreement_ref": "scan 5", "signed_by": "Moshe"])
            // 900 × 12 × 90 / 36500 = 26.63
            #expect(withInterest["interest_amount"] == "26.63" && withInterest["total"] == "1026.63")
            #expect(withInterest["schedule"]?.arrayValue?.map { $0["amount"] } == ["100.00", "308.87", "308.87", "308.89"])
            let other = try await client.customer("Someone Else")
            let foreign = try await client.invoice(other, "50.00", due: "2026-02-01")
            #expect(try await client.call("plans.create", ["customer_id": c, "invoice_ids": [foreign], "installments": 1, "frequency": "weekly",
                                                           "first_due_on": "2026-03-02"])["error"]?["data"]?["field"] == "invoice_ids")
        }
    }

    @Test("disputes: one open per invoice; customer_right issues a credit note that the ledger, statement and aging show")
    func disputes() async throws {
        try await withCollections("disputes") { _, client, _ in
            let c = try await client.customer("Disputer Ltd")
            let invoice = try await client.invoice(c, "500.00", due: "2026-04-01")
            let dispute = try await client.result("disputes.open", ["invoice_id": invoice, "reason": "two items missing", "amount": "120.00"])
            #expect(dispute["status"] == "open")
            #expect(try await client.call("disputes.open", ["invoice_id": invoice, "reason": "again"]).errorCode == 409)
            #expect(try await client.call("disputes.open", ["invoice_id": invoice, "reason": "x", "amount": "600.00"])["error"]?["data"]?["field"] == "amount")
            #expect(try await client.call("disputes.resolve", ["id": dispute["id"]!, "resolution": "partial"])["error"]?["data"]?["field"] == "credit_amount")
            let resolved = try await client.result("disputes.resolve", ["id": dispute["id"]!, "resolution": "customer_right", "note": "confirmed by driver"])
            #expect(resolved["credit_note"]?["amount"] == "120.00")
            #expect(resolved["invoice"]?["credited_amount"] == "120.00" && resolved["invoice"]?["open_amount"] == "380.00")
            let statement = try await client.result("statements.get", ["customer_id": c])
            #expect(statement["lines"]?.arrayValue?.contains { $0["kind"] == "credit_note" && $0["credit"] == "120.00" } == true)
            #expect(statement["closing_balance"] == "380.00")
            let aging = try await client.result("reports.aging", ["customer_id": c])
            #expect(aging["totals"]?["total"] == "380.00")
            // The credit note is dated today: an aging as of before it still shows the whole invoice.
            #expect(try await client.result("reports.aging", ["customer_id": c, "as_of": "2026-04-10"])["totals"]?["total"] == "500.00")
            let check = try await client.result("credit.check", ["customer_id": c, "amount": "0"])
            #expect(check["exposure"] == "380.00")
            // A second dispute, then the rest credited: the invoice is settled by credit.
            let second = try await client.result("disputes.open", ["invoice_id": invoice, "reason": "price was wrong"])
            let settled = try await client.result("disputes.resolve", ["id": second["id"]!, "resolution": "customer_right"])
            #expect(settled["invoice"]?["status"] == "credited" && settled["invoice"]?["open_amount"] == "0.00")
        }
    }

    @Test("interactions: append-only, validated, promises kept or broken at the boundary")
    func interactions() async throws {
        try await withCollections("interactions") { _, client, database in
            let c = try await client.customer("Talker Ltd")
            let other = try await client.customer("Other Ltd")
            let foreign = try await client.invoice(other, "10.00", due: "2026-01-01")
            let logged = try await client.result("interactions.log", [
                "customer_id": c, "kind": "call", "summary": "spoke to the owner", "reason_for_nonpayment": "cash flow",
                "occurred_at": "2026-02-01T10:00:00Z", "promise": ["amount": "150.00", "due_on": "2026-02-10"]])
            let promiseID = try #require(logged["promise"]?["id"])
            #expect(logged["interaction"]?["promise_id"] == promiseID)
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "100.00", "method": "cash", "received_on": "2026-02-05"])
            func status(_ asOf: String) async throws -> JSONValue? {
                try await client.result("promises.list", ["as_of": .string(asOf), "customer_id": c])["promises"]?.arrayValue?.first?["status"]
            }
            #expect(try await status("2026-02-10") == "open")     // 100 of 150 by its day
            #expect(try await status("2026-02-11") == "broken")
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "50.00", "method": "cash", "received_on": "2026-02-10"])
            #expect(try await status("2026-02-11") == "kept")     // 150 by the due day, counted from the day it was made
            #expect(try await client.result("promises.list", ["as_of": "2026-02-11", "status": "kept"])["promises"]?.arrayValue?.count == 1)
            // Bad input changes nothing.
            #expect(try await client.call("interactions.log", ["customer_id": c, "kind": "call", "summary": "x", "invoice_ids": [foreign]])["error"]?["data"]?["field"] == "invoice_ids")
            #expect(try await client.call("interactions.log", ["customer_id": c, "kind": "fax", "summary": "x"])["error"]?["data"]?["field"] == "kind")
            #expect(try await client.call("interactions.log", ["customer_id": c, "kind": "call", "summary": "x", "occurred_at": "2099-01-01T00:00:00Z"])["error"]?["data"]?["field"] == "occurred_at")
            #expect(try await client.call("interactions.log", ["customer_id": c, "kind": "call", "summary": "x", "promise": ["amount": "-5", "due_on": "2026-03-01"]])["error"]?["data"]?["field"] == "promise")
            #expect(try await client.call("interactions.log", ["customer_id": c, "kind": "call", "summary": "x", "corrects_id": 999999])["error"]?["data"]?["field"] == "corrects_id")
            let correction = try await client.result("interactions.log", ["customer_id": c, "kind": "note", "summary": "it was the manager, not the owner",
                                                                          "corrects_id": logged["interaction"]!["id"]!])
            #expect(correction["interaction"]?["corrects_id"] == logged["interaction"]?["id"])
            #expect(try await client.result("interactions.list", ["customer_id": c])["interactions"]?.arrayValue?.count == 2)
            // Append-only even for the application's own role.
            await #expect(throws: PostgresError.self) {
                try await database.query("UPDATE interactions SET summary = 'rewritten'")
            }
        }
    }
}

@Suite("collections and risk")
struct CollectionsRiskTests {
    @Test("a broken promise costs 3 points of payment history in the assessment; disputes are counted")
    func brokenPromiseInScore() async throws {
        try await withCollections("risk") { _, client, _ in
            let c = try await client.customer("Promiser Ltd")
            _ = try await client.invoice(c, "100.00", due: "2026-02-01")
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "100.00", "method": "cash", "received_on": "2026-02-01"])
            func historyPoints(_ asOf: String) async throws -> (Int?, String?) {
                let assessment = try await client.result("credit.assess", ["customer_id": c, "as_of": .string(asOf)])
                let reason = assessment["reasons"]?.arrayValue?.first { $0["factor"] == "payment_history" }
                return (reason?["points"]?.intValue, reason?["note"]?.stringValue)
            }
            let before = try await historyPoints("2026-03-01")
            #expect(before.0 == 15)   // all paid on time: the full weight
            let open = try await client.invoice(c, "50.00", due: "2026-02-15")
            _ = try await client.result("interactions.log", ["customer_id": c, "kind": "call", "summary": "will pay the 50 on Friday",
                                                             "occurred_at": "2026-02-20T10:00:00Z", "promise": ["amount": "50.00", "due_on": "2026-02-27"]])
            _ = try await client.result("disputes.open", ["invoice_id": open, "reason": "price"])
            #expect(try await historyPoints("2026-02-27").0 == 15)   // not broken yet on its day
            let after = try await historyPoints("2026-03-01")
            #expect(after.0 == 12)
            #expect(after.1?.contains("1 broken promise(s)") == true)
        }
    }
}

@Suite("maintenance")
struct MaintenanceTests {
    @Test("idempotency keys are kept 30 days and pruned after")
    func pruneKeys() async throws {
        let database = try await freshDatabase("maintenance")
        let jobs = database.jobsClient()
        let services = Services(database: database, secrets: Shared.secrets, settings: ServerSettings(), version: "test", jobsDatabase: jobs)
        let now = Date()
        for (key, age) in [("old", 31.0), ("edge", 29.9), ("new", 0.0)] {
            _ = try await database.asSystem("""
                INSERT INTO idempotency_keys (method, key, request_hash, created_at)
                VALUES ('payments.record', \(key), 'h', \(now.addingTimeInterval(-age * 86_400)))
                """)
        }
        #expect(try await MaintenanceService.pruneIdempotencyKeys(services: services, now: now) == 1)
        let left = try await database.asSystem("SELECT key FROM idempotency_keys ORDER BY key").map { try $0.decode(String.self, at: 0) }
        #expect(left == ["edge", "new"])
        await jobs.shutdown()
        await database.shutdown()
    }
}

@Suite("scheduled dunning")
struct SchedulerTests {
    @Test("the daily run happens once a day however often the scheduler wakes, and is recorded as scheduled")
    func once() async throws {
        try await withCollections("scheduler") { _, client, database in
            let services = Services(database: database, secrets: Shared.secrets, settings: ServerSettings().withRepositoryPaths(), version: "test",
                                    jobsDatabase: database.jobsClient())
            let today = services.today()
            let c = try await client.customer("Scheduled Ltd")
            _ = try await client.invoice(c, "75.00", due: PostgresDate(daysSinceEpoch: today.daysSinceEpoch - 10).description)
            let scheduler = DunningScheduler(services: services, minuteOfDay: 0, logger: makeTestLogger())
            await scheduler.runIfDue()
            await scheduler.runIfDue()
            let runs = try await database.asSystem("SELECT count(*) FROM dunning_runs WHERE scheduled AND as_of = \(today)").scalar(Int.self)
            #expect(runs == 1)
            let letters = try await client.result("letters.list", ["customer_id": c])["letters"]?.arrayValue ?? []
            #expect(letters.map { $0["level"] } == [2])
        }
    }
}

@Suite("collections roles")
struct CollectionsRoleTests {
    @Test("a clerk logs interactions and opens disputes; only a manager resolves, plans and runs dunning")
    func clerk() async throws {
        try await withServer { port in
            let customer = try await asRole(.manager, port: port) { manager in
                let id = try await manager.customer(Shared.unique("Roles"))
                return (id, try await manager.invoice(id, "10.00", due: "2026-01-01"))
            }
            try await asRole(.clerk, port: port) { clerk in
                _ = try await clerk.result("interactions.log", ["customer_id": customer.0, "kind": "email", "summary": "sent a copy of the invoice"])
                let dispute = try await clerk.result("disputes.open", ["invoice_id": customer.1, "reason": "wrong address"])
                #expect(try await clerk.call("disputes.resolve", ["id": dispute["id"]!, "resolution": "business_right"]).errorCode == 403)
                #expect(try await clerk.call("dunning.run", ["dry_run": true]).errorCode == 403)
                #expect(try await clerk.call("plans.create", ["customer_id": customer.0, "invoice_ids": [customer.1], "installments": 1,
                                                              "frequency": "weekly", "first_due_on": "2026-03-01"]).errorCode == 403)
                #expect(try await clerk.call("dunning.policy.set", ["levels": []]).errorCode == 403)
            }
        }
    }
}
