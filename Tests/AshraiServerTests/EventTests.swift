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

    @Test("staff hear every topic as it happens, written in the change's transaction: the notification names the topic, the customer, who did it, and the data", .timeLimit(.minutes(2)))
    func everyTopic() async throws {
        try await withCollections("events_topics") { port, client, database in
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
}
