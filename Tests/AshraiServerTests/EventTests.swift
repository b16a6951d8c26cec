import AshraiCore
import AshraiProtocol
@testable import AshraiServer
import Foundation
import Postgres
import Testing

/// `events.subscribe`: notifications on the connection's own line stream, written by triggers in the change's
/// transaction and fanned out by LISTEN/NOTIFY.
@Suite("live events")
struct EventTests {
    /// No polling to fall back on within a test's time limit: every event here must come by NOTIFY.
    static func listenOnly(_ settings: inout ServerSettings) { settings.eventsPollInterval = .seconds(600) }

    /// The next `count` notifications, each checked against the documented event schema.
    static func next(_ count: Int, on client: inout LineClient) async throws -> [JSONValue] {
        var received: [JSONValue] = []
        while received.count < count {
            let message = try #require(try await client.notification(), "the connection closed before \(count) events came")
            for problem in SchemaCheck.problems(message["params"] ?? .null, against: Schema.event, strict: true) {
                Issue.record("event departs from its documented schema: \(problem)")
            }
            received.append(message)
        }
        return received
    }

    /// Nothing is told within half a second (a NOTIFY takes milliseconds), checked with a round trip after it.
    static func expectNothingTold(on client: inout LineClient) async throws {
        try await Task.sleep(for: .milliseconds(500))
        _ = try await client.result("server.ping")
        #expect(client.notifications.isEmpty)
    }

    @Test("staff hear every topic as it happens, written in the change's transaction: the notification names the topic, the customer, who did it, and the data", .timeLimit(.minutes(2)))
    func everyTopic() async throws {
        try await withCollections("events_topics", configure: Self.listenOnly) { port, client, database in
            let manager = try await makeUser(port: port, role: .manager, admin: OwnerTests.boss)
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login(manager.username, manager.password)
                let subscribed = try await watcher.result("events.subscribe")
                #expect(subscribed["topics"]?.arrayValue?.count == EventTopic.allCases.count)
                #expect(subscribed["missed"] == false)

                let c = try await client.customer("Watched Ltd")
                let invoice = try await client.invoice(c, "500.00", due: "2026-01-01")
                let created = try await Self.next(1, on: &watcher)[0]
                #expect(created["method"] == "events.invoice_created")
                #expect(created["params"]?["topic"] == "invoice.created")
                #expect(created["params"]?["customer"]?["id"] == c && created["params"]?["customer"]?["name"] == "Watched Ltd")
                #expect(created["params"]?["by"] == "boss")
                #expect(created["params"]?["data"]?["invoice_id"] == invoice && created["params"]?["data"]?["amount"] == "500.00")

                _ = try await client.result("payments.record", ["customer_id": c, "amount": "120.50", "method": "cash", "received_on": "2026-01-05"])
                let paid = try await Self.next(1, on: &watcher)[0]
                #expect(paid["method"] == "events.payment_recorded" && paid["params"]?["data"]?["amount"] == "120.50")
                #expect(paid["params"]?["data"]?["method"] == "cash")

                _ = try await client.result("holds.place", ["customer_id": c, "reason": "no answer to three calls"])
                _ = try await client.result("holds.release", ["customer_id": c, "reason": "paid up"])
                let holds = try await Self.next(2, on: &watcher)
                #expect(holds.map { $0["method"] } == ["events.hold_placed", "events.hold_lifted"])
                #expect(holds[1]["params"]?["data"]?["reason"] == "paid up")

                _ = try await client.result("disputes.open", ["invoice_id": invoice, "reason": "two items missing", "amount": "50.00"])
                let disputed = try await Self.next(1, on: &watcher)[0]
                #expect(disputed["method"] == "events.dispute_opened" && disputed["params"]?["data"]?["reason"] == "two items missing")

                let d = try await client.customer("Dunned Ltd")
                let dInvoice = try await client.invoice(d, "300.00", due: "2026-01-01")
                _ = try await Self.next(1, on: &watcher)   // its invoice
                _ = try await client.dunning("2026-01-20", delivered: false)
                let letter = try await Self.next(1, on: &watcher)[0]
                #expect(letter["method"] == "events.letter_created" && letter["params"]?["customer"]?["id"] == d)

                // A message that fails for good (the outbox's UPDATE, made here as the daemon).
                let dID = try #require(d.intValue)
                let message = try await database.asSystem("""
                    INSERT INTO messages (customer_id, channel, recipient, subject, body_text, message_id)
                    VALUES (\(dID), 'email', 'ap@example.com', 'Reminder', 'text', \(Shared.unique("mid"))) RETURNING id
                    """).scalar(Int64.self)
                _ = try await database.asSystem("UPDATE messages SET state = 'failed', last_error = '550 no such user' WHERE id = \(message)")
                let failed = try await Self.next(1, on: &watcher)[0]
                #expect(failed["method"] == "events.message_failed" && failed["params"]?["data"]?["error"] == "550 no such user")
                #expect(failed["params"]?["by"] == .null)

                // A promise that fell due unpaid: told when the rules notice it (once, however often they run).
                let promised = try await client.result("interactions.log", ["customer_id": d, "kind": "call", "summary": "will pay",
                                                                            "promise": ["amount": "300.00", "due_on": "2026-12-05"]])
                let jobs = database.jobsClient()
                let services = Services(database: database, secrets: Shared.secrets, settings: ServerSettings(), version: "test", jobsDatabase: jobs)
                _ = try await MaintenanceService.makeDueTasks(services: services, asOf: PostgresDate(year: 2026, month: 12, day: 10))
                _ = try await MaintenanceService.makeDueTasks(services: services, asOf: PostgresDate(year: 2026, month: 12, day: 11))
                await jobs.shutdown()
                let broken = try await Self.next(1, on: &watcher)[0]
                #expect(broken["method"] == "events.promise_broken")
                #expect(broken["params"]?["data"]?["promise_id"] == promised["promise"]?["id"] && broken["params"]?["data"]?["amount"] == "300.00")

                let agency = try #require(try await client.result("agencies.create", ["name": "Collectors Ltd", "commission_rate": "15"])["id"])
                let assignment = try #require(try await client.result("assignments.create", ["agency_id": agency, "customer_id": d,
                                                                                              "invoice_ids": [dInvoice]])["id"])
                _ = try await client.result("assignments.notify", ["id": assignment, "customer_notified_on": "2026-02-15"])
                _ = try await client.result("assignments.recall", ["id": assignment, "reason": "paid us directly"])
                let told = try await Self.next(4, on: &watcher)
                // Telling the customer of the transfer is a letter too.
                #expect(told[1]["method"] == "events.letter_created" && told[1]["params"]?["data"]?["kind"] == "agency_referral")
                let changes = [told[0], told[2], told[3]]
                #expect(changes.allSatisfy { $0["method"] == "events.assignment_changed" })
                #expect(changes.map { $0["params"]?["data"]?["status"] } == ["pending", "active", "recalled"])
                #expect(changes.map { $0["params"]?["data"]?["previous_status"] } == [.null, "pending", "active"])
                // Cursors only grow.
                let cursors = changes.compactMap { $0["params"]?["cursor"]?.stringValue.flatMap(EventCursor.init) }
                #expect(cursors.count == 3 && cursors == cursors.sorted())
            }
        }
    }

    @Test("a role hears what it may read: a clerk not assignments; an agency only its own assignments once the customer is told — not another agency's, not payments, not invoices outside them", .timeLimit(.minutes(2)))
    func rolesAndRowLevelSecurity() async throws {
        try await withCollections("events_roles", configure: Self.listenOnly) { port, client, _ in
            let clerk = try await makeUser(port: port, role: .clerk, admin: OwnerTests.boss)
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login(clerk.username, clerk.password)
                #expect(try await watcher.call("events.subscribe", ["topics": ["assignment.changed"]]).errorCode == 403)
                let heard = try await watcher.result("events.subscribe")["topics"]?.arrayValue ?? []
                #expect(!heard.contains("assignment.changed") && heard.contains("payment.recorded") && heard.count == EventTopic.allCases.count - 1)
            }
            let a = try #require(try await client.result("agencies.create", ["name": "Agency A", "commission_rate": "15"])["id"])
            let b = try #require(try await client.result("agencies.create", ["name": "Agency B", "commission_rate": "15"])["id"])
            let agent = try await AgencyViewTests.makeAgencyUser(&client, port: port, agency: a)
            let x = try await client.customer("Assigned Ltd"), x1 = try await client.invoice(x, "100.00", due: "2026-01-01")
            let y = try await client.customer("Foreign Ltd"), y1 = try await client.invoice(y, "200.00", due: "2026-01-01")
            let z = try await client.customer("Later Ltd"), z1 = try await client.invoice(z, "300.00", due: "2026-01-01")
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login(agent.username, agent.password)
                let heard = try await watcher.result("events.subscribe")["topics"]?.arrayValue ?? []
                #expect(Set(heard) == ["invoice.created", "letter.created", "assignment.changed"])
                #expect(try await watcher.call("events.subscribe", ["topics": ["payment.recorded"]]).errorCode == 403)
                // Assignments only here (telling the customer writes a referral letter, which the agency may read while
                // the assignment is active).
                _ = try await watcher.result("events.subscribe", ["topics": ["assignment.changed"]])
                // Not heard: its assignment while pending, another agency's, a payment, an invoice no assignment covers.
                let mine = try #require(try await client.result("assignments.create", ["agency_id": a, "customer_id": x, "invoice_ids": [x1]])["id"])
                let theirs = try #require(try await client.result("assignments.create", ["agency_id": b, "customer_id": y, "invoice_ids": [y1],
                                                                                          "customer_notified_on": "2026-02-01"])["id"])
                _ = try await client.result("payments.record", ["customer_id": x, "amount": "10.00", "method": "cash", "received_on": "2026-02-02"])
                _ = try await client.invoice(x, "50.00", due: "2026-03-01")
                _ = try await client.result("assignments.recall", ["id": theirs, "reason": "test"])
                // Heard: its own, once the customer was told, and what becomes of it.
                _ = try await client.result("assignments.notify", ["id": mine, "customer_notified_on": "2026-02-03"])
                _ = try await client.result("assignments.recall", ["id": mine, "reason": "paid us directly"])
                let later = try #require(try await client.result("assignments.create", ["agency_id": a, "customer_id": z, "invoice_ids": [z1],
                                                                                         "customer_notified_on": "2026-02-04"])["id"])
                let events = try await Self.next(3, on: &watcher)
                #expect(events.map { $0["params"]?["data"]?["assignment_id"] } == [mine, mine, later])
                #expect(events.map { $0["params"]?["data"]?["status"] } == ["active", "recalled", "active"])
                #expect(events.allSatisfy { $0["params"]?["customer"]?["id"] != y })
            }
        }
    }

    @Test("a new subscription is not told what committed before it, even while an older transaction still runs (which holds the cursor back); it is told what comes after", .timeLimit(.minutes(2)))
    func startsNow() async throws {
        try await withCollections("events_start", configure: Self.listenOnly) { port, client, database in
            let c = try await client.customer("Before Ltd")
            // An older transaction that has an id, still running: no event after it can be taken until it ends.
            let (opened, signal) = AsyncStream<Void>.makeStream()
            let older = Task {
                try await database.withTransaction { tx in
                    _ = try await tx.query("SELECT pg_current_xact_id()")
                    signal.yield()
                    _ = try await tx.query("SELECT pg_sleep(1.5)")
                }
            }
            for await _ in opened { break }
            _ = try await client.invoice(c, "1.00", due: "2026-01-01")   // committed before the subscription
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login("boss", "collections admin password")
                _ = try await watcher.result("events.subscribe", ["topics": ["invoice.created"]])
                try await older.value
                let after = try await client.invoice(c, "2.00", due: "2026-01-01")
                #expect(try await Self.next(1, on: &watcher)[0]["params"]?["data"]?["invoice_id"] == after)
                try await Self.expectNothingTold(on: &watcher)
            }
        }
    }

    @Test("the listener's connection cut by the database: the daemon connects again and LISTENs, and events still come by NOTIFY", .timeLimit(.minutes(2)))
    func listenerReconnects() async throws {
        try await withCollections("events_listener", configure: Self.listenOnly) { port, client, database in
            let c = try await client.customer("Cut Ltd")
            func listeners() async throws -> [Int] {
                try await database.query("""
                    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ashrai_events' ORDER BY pid
                    """).map { try $0.decode(Int.self, at: 0) }
            }
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login("boss", "collections admin password")
                _ = try await watcher.result("events.subscribe", ["topics": ["invoice.created"]])
                let before = try await client.invoice(c, "1.00", due: "2026-01-01")
                #expect(try await Self.next(1, on: &watcher)[0]["params"]?["data"]?["invoice_id"] == before)
                let first = try await listeners()
                #expect(first.count == 1)
                _ = try await database.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY (\(PostgresArray(first.map(String.init)))::int[])")
                var again: [Int] = []
                for _ in 0..<100 {
                    again = try await listeners()
                    if again.count == 1, again != first { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(again.count == 1 && again != first)
                let after = try await client.invoice(c, "2.00", due: "2026-01-01")
                #expect(try await Self.next(1, on: &watcher)[0]["params"]?["data"]?["invoice_id"] == after)
            }
        }
    }

    @Test("a client that reconnects with the cursor of the last event it handled gets what it missed, in order, once, then the live ones; a cursor before pruned events is told it missed some", .timeLimit(.minutes(2)))
    func cursorAcrossReconnect() async throws {
        try await withCollections("events_cursor", configure: Self.listenOnly) { port, client, database in
            let c = try await client.customer("Cursor Ltd")
            let (start, first) = try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login("boss", "collections admin password")
                let start = try #require(try await watcher.result("events.subscribe", ["topics": ["invoice.created"]])["cursor"]?.stringValue)
                _ = try await client.invoice(c, "1.00", due: "2026-01-01")
                let first = try await Self.next(1, on: &watcher)[0]
                return (start, first)
            }
            // Away: three invoices, and a payment (another topic).
            var missed: [JSONValue] = []
            for amount in ["2.00", "3.00", "4.00"] {
                missed.append(try await client.invoice(c, amount, due: "2026-01-01"))
                if amount == "3.00" {
                    _ = try await client.result("payments.record", ["customer_id": c, "amount": "1.00", "method": "cash", "received_on": "2026-01-02"])
                }
            }
            let cursor = try #require(first["params"]?["cursor"]?.stringValue)
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login("boss", "collections admin password")
                let again = try await watcher.result("events.subscribe", ["topics": ["invoice.created"], "since": .string(cursor)])
                #expect(again["cursor"] == .string(cursor) && again["missed"] == false)
                let caughtUp = try await Self.next(3, on: &watcher)
                #expect(caughtUp.map { $0["params"]?["data"]?["invoice_id"] } == missed)
                let live = try await client.invoice(c, "5.00", due: "2026-01-01")
                #expect(try await Self.next(1, on: &watcher)[0]["params"]?["data"]?["invoice_id"] == live)
                // From the very start of the first subscription: all five, the first included.
                let whole = try await watcher.result("events.subscribe", ["topics": ["invoice.created"], "since": .string(start)])
                #expect(whole["missed"] == false)
                #expect(try await Self.next(5, on: &watcher).map { $0["params"]?["data"]?["amount"] } == ["1.00", "2.00", "3.00", "4.00", "5.00"])
            }
            // Pruned (as if a month had passed): a cursor from before is told.
            let jobs = database.jobsClient()
            let services = Services(database: database, secrets: Shared.secrets, settings: ServerSettings(), version: "test", jobsDatabase: jobs)
            #expect(try await EventFeed.prune(services: services, now: Date().addingTimeInterval(31 * 86_400)) == 6)
            await jobs.shutdown()
            #expect(try await client.result("events.subscribe", ["since": .string(cursor)])["missed"] == true)
            _ = try await client.result("events.unsubscribe")
        }
    }

    @Test("notifications are whole lines between replies: 200 pipelined pings are answered in order while 20 invoices are told; after unsubscribe nothing more comes", .timeLimit(.minutes(2)))
    func interleaving() async throws {
        try await withCollections("events_interleave", configure: Self.listenOnly) { port, client, _ in
            let c = try await client.customer("Busy Ltd")
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login("boss", "collections admin password")
                _ = try await watcher.result("events.subscribe", ["topics": ["invoice.created"]])
                async let writes: Void = {
                    try await LineClient.with(port: port) { writer in
                        _ = try await writer.login("boss", "collections admin password")
                        for _ in 0..<20 { _ = try await writer.invoice(c, "10.00", due: "2026-01-01") }
                    }
                }()
                for id in 1000..<1200 {
                    try await watcher.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"server.ping"}"#)
                }
                var replies: [Int] = [], events = 0
                while replies.count < 200 || events < 20 {
                    let line = try #require(try await watcher.receive())
                    if let id = line["id"]?.intValue {
                        #expect(line["result"]?["pong"] == true)
                        replies.append(id)
                    } else {
                        #expect(line["method"] == "events.invoice_created")
                        events += 1
                    }
                }
                try await writes
                #expect(replies == Array(1000..<1200))
                #expect(try await watcher.result("events.unsubscribe")["subscribed"] == false)
                _ = try await client.invoice(c, "11.00", due: "2026-01-01")
                try await Self.expectNothingTold(on: &watcher)
            }
        }
    }

    @Test("a watcher disabled by an admin is told events.ended at the next event and hears nothing more; logging out ends a subscription (a new login on the connection has none); bad params change nothing", .timeLimit(.minutes(2)))
    func endsWithTheSession() async throws {
        try await withCollections("events_session", configure: Self.listenOnly) { port, client, _ in
            let c = try await client.customer("Session Ltd")
            #expect(try await LineClient.with(port: port) { try await $0.call("events.subscribe") }.errorCode == 401)
            #expect(try await client.call("events.subscribe", ["topics": ["payment.made"]]).errorCode == -32602)
            #expect(try await client.call("events.subscribe", ["since": "12"]).errorCode == -32602)
            #expect(try await client.call("events.subscribe", ["since": "1:2:3"]).errorCode == -32602)
            let manager = try await makeUser(port: port, role: .manager, admin: OwnerTests.boss)
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login(manager.username, manager.password)
                _ = try await watcher.result("events.subscribe")
                _ = try await client.result("users.disable", ["id": .int(manager.id)])
                _ = try await client.invoice(c, "1.00", due: "2026-01-01")
                let ended = try #require(try await watcher.notification())
                #expect(ended["method"] == "events.ended" && ended["params"]?["reason"] == "unauthenticated")
                #expect(try await watcher.call("server.info")["result"] != nil)
                #expect(try await watcher.call("auth.whoami").errorCode == 401)
            }
            try await LineClient.with(port: port) { watcher in
                _ = try await watcher.login("boss", "collections admin password")
                _ = try await watcher.result("events.subscribe")
                _ = try await watcher.result("auth.logout")
                _ = try await client.invoice(c, "2.00", due: "2026-01-01")
                try await Self.expectNothingTold(on: &watcher)
                // Logged in again on the same connection: no subscription carried over.
                _ = try await watcher.login("boss", "collections admin password")
                _ = try await client.invoice(c, "3.00", due: "2026-01-01")
                try await Self.expectNothingTold(on: &watcher)
            }
        }
    }

    @Test("ashrai watch prints each event as a line — when, what, the customer, the details, who — and --json lines with their cursors; --since resumes", .timeLimit(.minutes(2)))
    func cliWatch() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("events_cli", configure: Self.listenOnly) { port, client, _ in
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let start = try #require(try await client.result("events.subscribe")["cursor"]?.stringValue)
            _ = try await client.result("events.unsubscribe")
            async let watched = cli.run(["watch", "--since", start, "--count", "3", "--topics", "invoice.created,payment.recorded,hold.placed"])
            let c = try await client.customer("Watch Me Ltd")
            _ = try await client.invoice(c, "250.00", due: "2026-03-01")
            _ = try await client.result("customers.update", ["id": c, "version": 1, "notes": "not an event"])
            _ = try await client.result("payments.record", ["customer_id": c, "amount": "100.00", "method": "bank_transfer",
                                                            "received_on": "2026-03-02", "reference": "TX-9"])
            _ = try await client.result("holds.place", ["customer_id": c, "reason": "cheque bounced"])
            let output = try await watched
            #expect(output.status == 0, "\(output.stderr)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(output.stdout)")
            #expect(lines[0].contains("invoice.created") && lines[0].contains("Watch Me Ltd") && lines[0].contains("250.00") && lines[0].hasSuffix("— boss"))
            #expect(lines[1].contains("payment.recorded") && lines[1].contains("100.00 ILS by bank_transfer ref TX-9"))
            #expect(lines[2].contains("hold.placed") && lines[2].contains("on hold: cheque bounced"))
            #expect(output.stderr.contains("watching invoice.created, payment.recorded, hold.placed"))
            // --json from the start again: the same three, each with its cursor; from the second's cursor, the third.
            let json = try await cli.run(["watch", "--since", start, "--count", "3", "--json", "--topics", "invoice.created,payment.recorded,hold.placed"])
            let events = try json.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
            #expect(events.map { $0["topic"] } == ["invoice.created", "payment.recorded", "hold.placed"])
            let second = try #require(events[1]["cursor"]?.stringValue)
            let resumed = try await cli.run(["watch", "--since", second, "--count", "1", "--json"])
            #expect(try JSONValue.parse(resumed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["topic"] == "hold.placed")
            #expect(try await cli.run(["watch", "--topics", "payments"]).status != 0)
        }
    }
}
