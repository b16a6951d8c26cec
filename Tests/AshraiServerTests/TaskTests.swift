import AshraiCore
@testable import AshraiServer
import Postgres
import AshraiProtocol
import AshraiTestSupport
import Foundation
import Testing

@Suite("tasks: the collector's work")
struct TaskTests {
    @Test("a task written by hand goes to the customer's owner; a clerk sees their own and the unowned; completing logs the contact and its promise in the same transaction, once; a bad interaction changes nothing; cancel says why")
    func manualTasks() async throws {
        try await withCollections("tasks_manual") { port, client, database in
            let clerk = try await makeUser(port: port, role: .clerk, admin: OwnerTests.boss)
            let other = try await makeUser(port: port, role: .clerk, admin: OwnerTests.boss)
            let owned = try await client.customer("Owned By Clerk")
            let theirs = try await client.customer("Owned By Other")
            let nobodys = try await client.customer("Owned By Nobody")
            _ = try await client.result("customers.assign_owner", ["customer_ids": [owned], "owner_id": .int(clerk.id)])
            _ = try await client.result("customers.assign_owner", ["customer_ids": [theirs], "owner_id": .int(other.id)])
            let invoice = try await client.invoice(owned, "500.00", due: "2026-11-01", issued: "2026-10-01")
            let call = try await client.result("tasks.create", ["customer_id": owned, "due_on": "2026-12-02", "note": "call about the October invoice",
                                                                "invoice_ids": [invoice]])
            #expect(call["owner_id"] == .int(clerk.id) && call["kind"] == "manual" && call["state"] == "open" && call["invoice_ids"] == [invoice])
            let hidden = try await client.result("tasks.create", ["customer_id": theirs, "due_on": "2026-12-01", "note": "the other clerk's"])
            let pool = try await client.result("tasks.create", ["customer_id": nobodys, "due_on": "2026-12-03", "note": "anyone's"])
            // A manager sees all three, soonest first.
            let all = try await client.result("tasks.list")["tasks"]?.arrayValue ?? []
            #expect(all.compactMap { $0["id"] } == [hidden["id"], call["id"], pool["id"]].compactMap { $0 })
            // Pages keep that order: two, then the one after the second.
            let page = try await client.result("tasks.list", ["limit": 2])
            #expect(page["tasks"]?.arrayValue?.compactMap { $0["id"] } == [hidden["id"], call["id"]].compactMap { $0 } && page["next_after"] == call["id"])
            let rest = try await client.result("tasks.list", ["limit": 2, "after": try #require(page["next_after"])])
            #expect(rest["tasks"]?.arrayValue?.compactMap { $0["id"] } == [pool["id"]].compactMap { $0 } && rest["next_after"] == .null)
            try await LineClient.with(port: port) { me in
                try await me.login(clerk.username, clerk.password)
                let mine = try await me.result("tasks.list")["tasks"]?.arrayValue ?? []
                #expect(mine.compactMap { $0["id"] } == [call["id"], pool["id"]].compactMap { $0 })
                #expect(try await me.call("tasks.list", ["owner_id": .int(other.id)])["error"]?["code"] == 403)
                #expect(try await me.call("tasks.complete", ["id": try #require(hidden["id"]), "outcome": "done"])["error"]?["code"] == 404)
                // A bad interaction is named, and the task stays open.
                let bad = try await me.call("tasks.complete", ["id": try #require(call["id"]), "outcome": "reached",
                                                               "interaction": ["kind": "call", "summary": "x", "promise": ["amount": "500.00", "due_on": "2020-01-01"]]])
                #expect(bad["error"]?["code"] == -32602 && bad["error"]?["data"]?["field"] == "interaction", "\(bad.encoded())")
                #expect(try await me.result("tasks.list")["tasks"]?.arrayValue?.count == 2)
                let done = try await me.result("tasks.complete", ["id": try #require(call["id"]), "outcome": "reached the owner",
                                                                  "interaction": ["kind": "call", "summary": "spoke with the owner; pays on the 15th",
                                                                                  "promise": ["amount": "500.00", "due_on": "2026-12-15"]]])
                #expect(done["task"]?["state"] == "done" && done["task"]?["outcome"] == "reached the owner")
                #expect(done["task"]?["interaction_id"] == done["interaction"]?["id"] && done["interaction"]?["invoice_ids"] == [invoice])
                #expect(done["promise"]?["amount"] == "500.00" && done["promise"]?["due_on"] == "2026-12-15")
                #expect(try await me.call("tasks.complete", ["id": try #require(call["id"]), "outcome": "again"])["error"]?["code"] == 409)
                let cancelled = try await me.result("tasks.cancel", ["id": try #require(pool["id"]), "reason": "paid meanwhile"])
                #expect(cancelled["state"] == "cancelled" && cancelled["outcome"] == "paid meanwhile")
                #expect(try await me.result("tasks.list")["tasks"]?.arrayValue?.isEmpty == true)
            }
            let logged = try await client.result("interactions.list", ["customer_id": owned])["interactions"]?.arrayValue ?? []
            #expect(logged.count == 1 && logged.first?["promise_id"] != .null)
            let audited = try await database.asSystem("""
                SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE action LIKE 'tasks.%' OR action = 'interactions.log'
                """).scalar(String.self)
            #expect(audited == "tasks.create,tasks.create,tasks.create,interactions.log,tasks.complete,tasks.cancel")
        }
    }

    @Test("ashrai tasks add, ashrai tasks (soonest first), ashrai tasks done --log call --promise, ashrai tasks cancel")
    func cli() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("tasks_cli") { port, client, _ in
            let customer = try #require(try await client.customer("Tasked Customer").intValue)
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let added = try await cli.run(["tasks", "add", String(customer), "call the bookkeeper", "--due", "2026-12-03"])
            #expect(added.status == 0 && added.stdout.contains("call the bookkeeper"), "\(added.stdout) \(added.stderr)")
            _ = try await cli.run(["tasks", "add", String(customer), "send the statement", "--due", "2026-12-02"])
            let listed = try await cli.run(["tasks"])
            let first = try #require(listed.stdout.range(of: "send the statement")), second = try #require(listed.stdout.range(of: "call the bookkeeper"))
            #expect(first.lowerBound < second.lowerBound, "\(listed.stdout)")
            let json = try await cli.run(["tasks", "--json"])
            let ids = try JSONValue.parse(Array(json.stdout.utf8))["tasks"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
            #expect(ids.count == 2)
            let noKind = try await cli.run(["tasks", "done", String(ids[1]), "reached", "--promise", "100.00@2026-12-20"])
            #expect(noKind.status != 0 && noKind.stderr.contains("--log"))
            let done = try await cli.run(["tasks", "done", String(ids[1]), "reached the bookkeeper", "--log", "call", "--promise", "100.00@2026-12-20"])
            #expect(done.status == 0 && done.stdout.contains("promise to pay 100.00 by 2026-12-20"), "\(done.stdout) \(done.stderr)")
            let cancelled = try await cli.run(["tasks", "cancel", String(ids[0]), "--reason", "sent by post instead"])
            #expect(cancelled.status == 0 && cancelled.stdout.contains("cancelled"), "\(cancelled.stdout) \(cancelled.stderr)")
            #expect(try await cli.run(["tasks"]).stdout.contains("Tasked Customer") == false)
        }
    }

    @Test("a call level makes a task for the owner and no letter, once across two runs at once; the customer's later invoices join it; a letter that requires a call waits until one was made")
    func dunningCall() async throws {
        try await withCollections("tasks_dunning_call") { port, client, database in
            let clerk = try await makeUser(port: port, role: .clerk, admin: OwnerTests.boss)
            _ = try await client.result("dunning.policy.set", ["levels": [
                ["level": 1, "days_overdue": 2, "action": "call"],
                ["level": 2, "days_overdue": 10, "action": "letter", "template": "letter", "requires_call": true],
            ], "reason": "call first"])
            let got = try await client.result("dunning.policy.get")
            #expect(got["levels"]?.arrayValue?.first?["template"] == "call" && got["levels"]?.arrayValue?.last?["requires_call"] == true)
            // requires_call without a call level before it is refused.
            let refused = try await client.call("dunning.policy.set", ["levels": [
                ["level": 1, "days_overdue": 10, "action": "letter", "template": "letter", "requires_call": true]]])
            #expect(refused["error"]?["code"] == -32602 && refused["error"]?["data"]?["field"] == "levels")

            let c = try await client.customer("Call Me First Ltd")
            _ = try await client.result("customers.assign_owner", ["customer_ids": [c], "owner_id": .int(clerk.id)])
            let first = try await client.invoice(c, "400.00", due: "2026-03-01", issued: "2026-02-01")
            // Two daemons run the same day at once: one task, no letter.
            let settings = ServerSettings().withRepositoryPaths()
            let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: database.jobsClient())
            let services2 = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: database.jobsClient())
            @Sendable func run(_ services: Services) async throws -> DunningRun.Outcome {
                let context = CallContext(connectionID: 0, clientAddress: "test", logger: makeTestLogger()).asDaemon
                return try await services.transaction(context) { tx in
                    try await DunningRun.execute(services: services, context: context, asOf: PostgresDate(year: 2026, month: 3, day: 3),
                                                 dryRun: false, scheduled: false, on: tx)
                }
            }
            async let runA = run(services)
            async let runB = run(services2)
            let outcomes = try await [runA, runB]
            #expect(outcomes.map(\.calls).sorted() == [0, 1] && outcomes.map(\.letters) == [0, 0])
            var tasks = try await client.result("tasks.list", ["customer_id": c])["tasks"]?.arrayValue ?? []
            #expect(tasks.count == 1 && tasks.first?["kind"] == "call" && tasks.first?["owner_id"] == .int(clerk.id))
            #expect(tasks.first?["invoice_ids"] == [first] && tasks.first?["due_on"] == "2026-03-03")
            let note = tasks.first?["note"]?.stringValue ?? ""
            #expect(note.contains("400.00"), "\(note)")
            #expect(try await client.result("letters.list", ["customer_id": c])["letters"] == [])

            // A second invoice reaches the call level while the task is open: it joins the task.
            let second = try await client.invoice(c, "100.00", due: "2026-03-05", issued: "2026-02-05")
            let joined = try await client.dunning("2026-03-07")
            #expect(joined["calls"]?.arrayValue?.first?["task_id"] == tasks.first?["id"] && joined["letters"] == [])
            tasks = try await client.result("tasks.list", ["customer_id": c])["tasks"]?.arrayValue ?? []
            #expect(tasks.count == 1 && tasks.first?["invoice_ids"] == [first, second])

            // The letter is due on the 11th but nobody has called: it waits.
            let waiting = try await client.dunning("2026-03-11")
            #expect(waiting["letters"] == [] && waiting["skipped"]?.arrayValue?.first?["reason"] == "call_not_attempted")
            try await LineClient.with(port: port) { me in
                try await me.login(clerk.username, clerk.password)
                _ = try await me.result("tasks.complete", ["id": try #require(tasks.first?["id"]), "outcome": "no answer",
                                                           "interaction": ["kind": "call", "summary": "rang, no answer", "occurred_at": "2026-03-11T09:00:00Z"]])
            }
            let sent = try await client.dunning("2026-03-12")
            #expect(sent["letters"]?.arrayValue?.map { $0["level"] } == [2] && sent["letters"]?.arrayValue?.first?["invoice_ids"] == [first])
            let steps = try await database.asSystem("SELECT string_agg(invoice_id || ':' || level || ':' || action, ',' ORDER BY invoice_id, level) FROM dunning_steps")
                .scalar(String.self)
            #expect(steps == "\(first.intValue!):1:call,\(first.intValue!):2:letter,\(second.intValue!):1:call")

            // A new call task, then the customer pays everything: the hourly housekeeping closes it, audited; a manual task stays.
            let third = try await client.invoice(c, "60.00", due: "2026-03-20", issued: "2026-02-20")
            let calledAgain = try #require(try await client.dunning("2026-03-22")["calls"]?.arrayValue?.first?["task_id"])
            let manual = try await client.result("tasks.create", ["customer_id": c, "due_on": "2026-03-25", "note": "send a thank-you", "invoice_ids": [third]])
            #expect(try await MaintenanceService.closeSettledTasks(services: services) == 0)
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "560.00", "method": "bank_transfer", "received_on": "2026-03-23"])
            #expect(try await MaintenanceService.closeSettledTasks(services: services) == 1)
            #expect(try await MaintenanceService.closeSettledTasks(services: services) == 0)
            let open = try await client.result("tasks.list", ["customer_id": c])["tasks"]?.arrayValue ?? []
            #expect(open.compactMap { $0["id"] } == [manual["id"]].compactMap { $0 } && !open.contains { $0["id"] == calledAgain })
            let settled = try await database.asSystem("SELECT count(*) FROM audit_log WHERE action = 'tasks.settled'").scalar(Int.self)
            #expect(settled == 1)
        }
    }

    @Test("the rules make a task for a broken promise, an old dispute, a failed message, a defaulted plan and a review due — each once, however many runs at once, given to the customer's owner and audited")
    func rulesMakeTasksOnce() async throws {
        try await withCollections("tasks_rules") { port, client, database in
            let clerk = try await makeUser(port: port, role: .clerk, admin: OwnerTests.boss)
            let owned = try await client.customer("Rule Customer")
            let other = try await client.customer("Other Rule Customer")
            _ = try await client.result("customers.assign_owner", ["customer_ids": [owned], "owner_id": .int(clerk.id)])
            let invoice = try await client.invoice(owned, "800.00", due: "2026-11-01", issued: "2026-10-01")
            let otherInvoice = try await client.invoice(other, "300.00", due: "2026-11-01", issued: "2026-10-01")
            let promised = try await client.result("interactions.log", ["customer_id": owned, "kind": "call", "summary": "will pay on the 5th",
                                                                        "invoice_ids": [invoice], "promise": ["amount": "800.00", "due_on": "2026-12-05"]])
            let promiseID = try #require(promised["promise"]?["id"]?.intValue)
            let dispute = try #require(try await client.result("disputes.open", ["invoice_id": otherInvoice, "reason": "goods damaged"])["id"]?.intValue)
            let ownedID = try #require(owned.intValue), otherID = try #require(other.intValue)
            let message = try await database.asSystem("""
                INSERT INTO messages (customer_id, channel, recipient, subject, body_text, message_id, state, last_error)
                VALUES (\(ownedID), 'email', 'ap@example.com', 'Reminder', 'text', \(Shared.unique("mid")), 'failed', '550 no such user')
                RETURNING id
                """).scalar(Int64.self)
            let plan = try await database.asSystem("""
                INSERT INTO plans (customer_id, status, principal, total, installments, frequency, first_due_on, grace_days, agreed_on,
                                   agreement_ref, signed_by, ended_on, end_reason)
                VALUES (\(otherID), 'defaulted', 300, 300, 3, 'monthly', '2026-11-01', 5, '2026-10-15', 'A-1', 'the owner', '2026-12-01', 'installment 1 unpaid')
                RETURNING id
                """).scalar(Int64.self)
            _ = try await database.asSystem("UPDATE customers SET next_review_on = '2026-12-15' WHERE id = \(otherID)")
            var settings = ServerSettings()
            settings.taskDisputeReviewDays = 14
            let jobs = database.jobsClient()
            let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: jobs)
            let asOf = PostgresDate(year: 2026, month: 12, day: 21)
            // Too early for all but nothing: the promise is not yet due, the dispute young, the review not due.
            #expect(try await MaintenanceService.makeDueTasks(services: services, asOf: PostgresDate(year: 2026, month: 12, day: 2)) == 2)
            // Three daemons at once, then once more: each of the five made once.
            async let a = MaintenanceService.makeDueTasks(services: services, asOf: asOf)
            async let b = MaintenanceService.makeDueTasks(services: services, asOf: asOf)
            async let c = MaintenanceService.makeDueTasks(services: services, asOf: asOf)
            let made = try await [a, b, c]
            #expect(made.reduce(0, +) == 3, "\(made)")
            #expect(try await MaintenanceService.makeDueTasks(services: services, asOf: asOf) == 0)
            await jobs.shutdown()
            let tasks = try await client.result("tasks.list", ["limit": 500])["tasks"]?.arrayValue ?? []
            let bySource = Dictionary(uniqueKeysWithValues: tasks.compactMap { task in task["source"]?.stringValue.map { ($0, task) } })
            #expect(Set(bySource.keys) == ["promise:\(promiseID)", "dispute:\(dispute)", "message:\(message)", "plan:\(plan)", "review:\(otherID):2026-12-15"])
            let promiseTask = try #require(bySource["promise:\(promiseID)"])
            #expect(promiseTask["kind"] == "follow_up_promise" && promiseTask["owner_id"] == .int(clerk.id) && promiseTask["invoice_ids"] == [invoice])
            #expect(bySource["dispute:\(dispute)"]?["invoice_ids"] == [otherInvoice] && bySource["dispute:\(dispute)"]?["owner_id"] == .null)
            let messageNote = bySource["message:\(message)"]?["note"]?.stringValue ?? ""
            #expect(messageNote.contains("550 no such user"), "\(messageNote)")
            #expect(bySource["plan:\(plan)"]?["kind"] == "plan_missed" && bySource["review:\(otherID):2026-12-15"]?["due_on"] == "2026-12-15")
            let audited = try await database.asSystem("SELECT count(*) FROM audit_log WHERE action = 'tasks.made'").scalar(Int.self)
            #expect(audited == 5)
        }
    }

    @Test("ashrai contact shows the customer's screen, asks what happened and logs it with the promise; --task closes the task with it")
    func contact() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("tasks_contact") { port, client, _ in
            let customer = try await client.customer("Contact Screen Ltd")
            let id = try #require(customer.intValue)
            _ = try await client.invoice(customer, "750.00", due: "2026-11-01", issued: "2026-10-01")
            let task = try #require(try await client.result("tasks.create", ["customer_id": customer, "due_on": "2026-12-01", "note": "call"])["id"]?.intValue)
            let cli = CLI(port: port, configHome: FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let first = try await cli.run(["contact", String(id)], stdin: "left a message with the bookkeeper\nno answer\n\n")
            #expect(first.status == 0 && first.stdout.contains("balance 750.00") && first.stdout.contains("open tasks: #\(task) manual due 2026-12-01"),
                    "\(first.stdout) \(first.stderr)")
            #expect(first.stdout.contains("logged as interaction #") && !first.stdout.contains("promise to pay"))
            let second = try await cli.run(["contact", String(id), "--task", String(task)], stdin: "spoke with the owner\nreached\n750.00@2026-12-20\n")
            #expect(second.status == 0 && second.stdout.contains("left a message with the bookkeeper"), "\(second.stdout) \(second.stderr)")
            #expect(second.stdout.contains("promise to pay 750.00 by 2026-12-20 recorded") && second.stdout.contains("task #\(task) done"), "\(second.stdout)")
            let logged = try await client.result("interactions.list", ["customer_id": customer])["interactions"]?.arrayValue ?? []
            #expect(logged.count == 2 && logged.first?["outcome"] == "reached")
            let shown = try await cli.run(["contact", String(id), "--show-only"])
            #expect(shown.stdout.contains("promises running: 750.00 by 2026-12-20") && shown.stdout.contains("open tasks: none"), "\(shown.stdout)")
        }
    }

    @Test("reports.collectors counts each collector's tasks done, those followed by a payment within 60 days, and the average days to it")
    func collectorKPIs() async throws {
        try await withCollections("tasks_kpis") { _, client, _ in
            let customer = try await client.customer("Pays After The Call")
            let quiet = try await client.customer("Pays Nothing")
            _ = try await client.invoice(customer, "400.00", due: "2026-11-01", issued: "2026-10-01")
            let today = try #require(try await client.result("worklist.today")["as_of"]?.stringValue)
            for who in [customer, quiet] {
                let task = try #require(try await client.result("tasks.create", ["customer_id": who, "due_on": .string(today), "note": "call"])["id"])
                _ = try await client.result("tasks.complete", ["id": task, "outcome": "reached",
                                                               "interaction": ["kind": "call", "summary": "asked for payment"]])
            }
            _ = try await client.result("payments.record", ["customer_id": customer, "amount": "400.00", "method": "bank_transfer",
                                                            "received_on": .string(today)])
            let report = try await client.result("reports.collectors", ["from": .string(today), "to": .string(today)])
            let boss = try #require(report["collectors"]?.arrayValue?.first { $0["username"] == "boss" })
            #expect(boss["tasks_done"] == 2 && boss["tasks_followed_by_payment"] == 1 && boss["average_days_task_to_payment"] == .number("0"),
                    "\(boss.encoded())")
        }
    }
}
