import AshraiCore
import AshraiProtocol
@testable import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

/// A real HTTP gateway on loopback (`Scripts/http-test-gateway`, Python's standard library):
/// every POST is kept as a file; a number ending in 422 is refused, one ending in 503 is busy.
final class TestGateway: Sendable {
    let process: Process
    let port: Int
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "ashrai-gateway-\(UInt32.random(in: 0...UInt32.max))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestDatabase.repositoryRootPath + "/Scripts/http-test-gateway")
        process.arguments = [directory]
        let output = Pipe()
        process.standardOutput = output
        // Not the test runner's stderr: a child holding it open would keep `swift test` waiting.
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = [UInt8]()
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 10 { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw TestFailure() }
        self.process = process
        self.port = port
    }

    deinit { process.terminate() }

    func settings(path: String = "/sms") -> GatewaySettings {
        var gateway = GatewaySettings(url: "http://127.0.0.1:\(port)\(path)")
        gateway.authHeader = "X-Api-Key"
        gateway.token = "test-gateway-key"
        gateway.idField = "data.message_id"
        gateway.sender = "Bakery"
        return gateway
    }

    /// Every request received (path, headers, body, the status it was answered with).
    func received() throws -> [JSONValue] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return try files.filter { $0.hasSuffix(".json") }.sorted().map {
            try JSONValue.parse(String(decoding: FileManager.default.contents(atPath: directory + "/" + $0) ?? Data(), as: UTF8.self))
        }
    }
}

@Suite("channels: SMS through a gateway, fallback, courtesy reminders")
struct ChannelsTests {
    static let sunday = OutboxTests.sunday

    static func delivery(_ gateway: TestGateway) throws -> DeliverySettings {
        var delivery = try OutboxTests.delivery()
        delivery.sms = gateway.settings()
        return delivery
    }

    static func worker(_ database: PostgresClient, delivery: DeliverySettings, jobs: PostgresClient) -> OutboxWorker {
        var settings = ServerSettings().withRepositoryPaths()
        settings.collections.business.name = "Ashrai Test Bakery Supplies"
        settings.collections.business.phone = "03-000-0000"
        settings.delivery = delivery
        let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: jobs,
                                now: { sunday })
        return OutboxWorker(services: services, logger: makeTestLogger())
    }

    /// A policy whose first level goes by e-mail and SMS.
    static let emailAndSMS: JSONValue = [
        ["level": 1, "days_overdue": 3, "action": "reminder", "template": "reminder", "channels": ["email", "sms"]],
        ["level": 2, "days_overdue": 30, "action": "final_notice", "template": "final_notice", "fee": "25.00", "channels": ["email", "post"]],
    ]

    @Test("a level that names e-mail and SMS sends both: the SMS is short (amount, pay-by date, a number to call), posted with the header credential, the gateway's id kept, the exact bytes kept and linked from the interaction")
    func emailAndSMSBoth() async throws {
        let gateway = try TestGateway()
        var delivery = try Self.delivery(gateway)
        delivery.headers = [("X-Account-Ref", "bakery-17")]
        try await withCollections("channels_sms", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            _ = try await client.result("dunning.policy.set", ["levels": Self.emailAndSMS, "reason": "SMS too"])
            let customer = try await client.customer("מאפיית הדר", language: "he")
            _ = try await client.result("customers.update", ["id": customer, "version": 1, "email": "hadar.\(UInt32.random(in: 0...UInt32.max))@example.com",
                                                             "phone": "+972501234567"])
            _ = try await client.invoice(customer, "1234.50", due: "2026-11-20")
            _ = try await client.dunning("2026-11-29", delivered: false)
            let queued = try await OutboxTests.messages(database, customer: customer)
            #expect(queued.map { $0["channel"] } == ["email", "sms"])
            let jobs = database.jobsClient()
            let pass = try await Self.worker(database, delivery: delivery, jobs: jobs).drain()
            #expect(pass.sent == 2)
            let posted = try gateway.received()
            #expect(posted.count == 1)
            let request = try #require(posted.first)
            #expect(request["headers"]?["x-api-key"] == "test-gateway-key" && request["path"] == "/sms")
            let body = try JSONValue.parse(try #require(request["body"]?.stringValue))
            #expect(body["to"] == "+972501234567" && body["from"] == "Bakery")
            let text = try #require(body["text"]?.stringValue)
            #expect(text.contains("1,234.50 ₪") && text.contains("09/12/2026") && text.contains("03-000-0000"), "\(text)")
            #expect(text.count < 200)
            // The gateway's id is the message's provider id; the interaction points at the message, whose bytes are what was posted.
            let sms = try #require(try await client.result("outbox.list", ["channel": "sms"])["messages"]?.arrayValue?.first)
            #expect(sms["state"] == "sent" && sms["provider_id"] == "gw-\(request["n"]?.intValue ?? 0)")
            let withRaw = try await client.result("outbox.get", ["id": try #require(sms["id"]), "raw": true])
            let raw = Data(base64Encoded: withRaw["raw_base64"]?.stringValue ?? "") ?? Data()
            #expect(String(decoding: raw, as: UTF8.self) == request["body"]?.stringValue)
            let interactions = try #require(try await client.result("interactions.list", ["customer_id": customer])["interactions"]?.arrayValue)
            #expect(interactions.contains { $0["kind"] == "sms" && $0["message_id"] == sms["id"] })
            // The e-mail's exact bytes are the RFC 5322 message the SMTP server received.
            let email = try #require(try await client.result("outbox.list", ["channel": "email"])["messages"]?.arrayValue?.first)
            let emailRaw = try await client.result("outbox.get", ["id": try #require(email["id"]), "raw": true])
            let mime = String(decoding: Data(base64Encoded: emailRaw["raw_base64"]?.stringValue ?? "") ?? Data(), as: UTF8.self)
            #expect(mime.contains("Message-ID: <\(email["message_id"]?.stringValue ?? "?")>"))
            // The business's headers: its name as Organization, and the configured ones.
            #expect(mime.contains("\r\nOrganization: Ashrai Test Bakery Supplies\r\n") && mime.contains("\r\nX-Account-Ref: bakery-17\r\n"))
            #expect(interactions.contains { $0["kind"] == "email" && $0["message_id"] == email["id"] })
            await jobs.shutdown()
        }
    }

    @Test("a number the gateway refuses fails for good, is flagged, and the letter falls back to post; a busy gateway is retried")
    func refusedNumber() async throws {
        let gateway = try TestGateway()
        var delivery = try Self.delivery(gateway)
        delivery.smtp = nil   // SMS only: the e-mail channel is unusable, so the level's letter goes by SMS (and post as its fallback)
        try await withCollections("channels_refused", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            _ = try await client.result("dunning.policy.set", ["levels": [
                ["level": 1, "days_overdue": 3, "action": "reminder", "template": "reminder", "channels": ["sms"]],
            ]])
            let refused = try await client.customer("Wrong Number Ltd")
            _ = try await client.result("customers.update", ["id": refused, "version": 1, "phone": "+972500000422"])
            let busy = try await client.customer("Busy Line Ltd")
            _ = try await client.result("customers.update", ["id": busy, "version": 1, "phone": "+972500000503"])
            for customer in [refused, busy] { _ = try await client.invoice(customer, "100.00", due: "2026-11-20") }
            _ = try await client.dunning("2026-11-29", delivered: false)
            let jobs = database.jobsClient()
            let pass = try await Self.worker(database, delivery: delivery, jobs: jobs).drain()
            #expect(pass.failed == 1 && pass.retrying == 1)
            let refusedMessages = try await OutboxTests.messages(database, customer: refused)
            #expect(refusedMessages.map { $0["channel"] } == ["sms", "post"] && refusedMessages.first?["state"] == "failed")
            #expect(refusedMessages.first?["last_error"]?.stringValue?.contains("422") == true && refusedMessages.last?["state"] == "queued")
            let flagged = try await database.asSystem("SELECT phone_refused_at IS NOT NULL FROM customers WHERE id = \(Int64(refused.intValue ?? 0))")
            #expect(try flagged.scalar(Bool.self))
            let busyMessages = try await OutboxTests.messages(database, customer: busy)
            #expect(busyMessages.count == 1 && busyMessages.first?["state"] == "retrying" && busyMessages.first?["retry_later"] == true)
            // A gateway that does not answer at all is a temporary failure too.
            var down = delivery
            down.sms = GatewaySettings(url: "http://127.0.0.1:1/sms")
            down.sms?.timeoutSeconds = 2   // AsyncHTTPClient keeps trying to connect until the request's deadline
            _ = try await database.asSystem("UPDATE messages SET next_attempt_at = now() WHERE state = 'retrying'")
            let downPass = try await Self.worker(database, delivery: down, jobs: jobs).drain()
            #expect(downPass.retrying == 1 && downPass.sent == 0)
            await jobs.shutdown()
        }
    }

    @Test("a courtesy reminder goes three days before the due date to a customer who asked for one, with no fee and no consequences; not to others, not twice, and the first overdue reminder does not call it an earlier reminder")
    func courtesy() async throws {
        let delivery = try OutboxTests.delivery()
        try await withCollections("channels_courtesy", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            _ = try await client.result("dunning.policy.set", ["levels": [
                ["level": 1, "days_overdue": -3, "action": "reminder", "template": "courtesy"],
                ["level": 2, "days_overdue": 3, "action": "reminder", "template": "reminder"],
                ["level": 3, "days_overdue": 30, "action": "final_notice", "template": "final_notice", "fee": "25.00"],
            ], "reason": "courtesy reminders"])
            // A fee on a courtesy level, or another action, is refused.
            let refused = try await client.call("dunning.policy.set", ["levels": [
                ["level": 1, "days_overdue": -3, "action": "reminder", "template": "courtesy", "fee": "5.00"],
                ["level": 2, "days_overdue": 3, "action": "reminder", "template": "reminder"],
            ]])
            #expect(refused["error"]?["code"] == -32602)
            let wants = try await client.customer("Early Bird Ltd")
            let customerJSON = try await client.result("customers.update", ["id": wants, "version": 1, "courtesy_reminders": true,
                                                                           "email": "early.\(UInt32.random(in: 0...UInt32.max))@example.com"])
            #expect(customerJSON["courtesy_reminders"] == true)
            let others = try await client.customer("Plain Ltd")
            for customer in [wants, others] { _ = try await client.invoice(customer, "500.00", due: "2026-12-02", issued: "2026-11-02") }
            let run = try await client.dunning("2026-11-29", delivered: false)
            let letters = try #require(run["letters"]?.arrayValue)
            if letters.count != 1 { Issue.record("\(run.encoded())") }
            #expect(letters.count == 1 && letters.first?["customer_id"] == wants && letters.first?["level"] == 1)
            let letter = try await client.result("letters.get", ["id": try #require(letters.first?["letter_id"])])
            let text = try #require(letter["text"]?.stringValue)
            #expect(text.contains("due soon") && text.contains("2 Dec 2026") && letter["fee"] == "0.00" && letter["last_date_to_pay"] == "2026-12-02")
            #expect(!text.contains("hold") && !text.contains("fee") && !text.contains("agency"))
            // Not twice; and a later run before the due date writes nothing.
            let again = try await client.dunning("2026-11-30", delivered: false)
            #expect(again["letters"]?.arrayValue?.isEmpty == true)
            // Sent; once overdue the reminder follows, and does not say "despite our previous reminder".
            let jobs = database.jobsClient()
            _ = try await OutboxTests.worker(database, jobs: jobs).drain()
            let overdue = try await client.dunning("2026-12-06", delivered: false)
            let reminders = try #require(overdue["letters"]?.arrayValue)
            #expect(reminders.count == 2 && reminders.allSatisfy { $0["level"] == 2 })
            for reminder in reminders {
                let reminderID = try #require(reminder["letter_id"])
                let body = try #require(try await client.result("letters.get", ["id": reminderID])["text"]?.stringValue)
                #expect(!body.lowercased().contains("despite") && body.contains("formal"))
            }
            await jobs.shutdown()
        }
    }

    @Test("the agency referral notice: written in the customer's language when the assignment is made, e-mailed by the outbox; the assignment stays pending until it is sent, then is active, notified on the day it was sent")
    func referralNotice() async throws {
        let delivery = try OutboxTests.delivery()
        try await withCollections("channels_referral", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let customer = try await client.customer("מאפיית הגליל", language: "he")
            let address = "galil.\(UInt32.random(in: 0...UInt32.max))@example.com"
            _ = try await client.result("customers.update", ["id": customer, "version": 1, "email": .string(address)])
            let invoice = try await client.invoice(customer, "2500.00", due: "2026-09-01")
            let agency = try #require(try await client.result("agencies.create", ["name": "גביה בע\"מ", "commission_rate": "15", "phone": "03-555-1234"])["id"])
            let assignment = try await client.result("assignments.create", ["agency_id": agency, "customer_id": customer, "invoice_ids": [invoice]])
            #expect(assignment["status"] == "pending" && assignment["customer_notified_on"] == .null)
            let letterID = try #require(assignment["notice_letter_id"])
            let letter = try await client.result("letters.get", ["id": letterID])
            let text = try #require(letter["text"]?.stringValue)
            #expect(letter["kind"] == "agency_referral" && letter["language"] == "he" && letter["level"] == .null)
            #expect(text.contains("גביה בע\"מ") && text.contains("03-555-1234") && text.contains("2,500.00 ₪"), "\(text)")
            // Both languages exist; a plain `customer_notified_on` (a notice given outside Ashrai) still works and writes none.
            let english = try await client.result("letters.list", ["kind": "agency_referral"])
            #expect(english["letters"]?.arrayValue?.count == 1)
            // Sent by the worker on Sunday: the assignment becomes active, notified that day, pointing at the notice's interaction.
            let jobs = database.jobsClient()
            let pass = try await OutboxTests.worker(database, jobs: jobs).drain()
            #expect(pass.sent == 1)
            let after = try await client.result("assignments.get", ["id": try #require(assignment["id"])])
            #expect(after["status"] == "active" && after["customer_notified_on"] == "2026-11-29" && after["notification_interaction_id"] != .null)
            let received = try TestSMTP.received().filter { ($0["to"]?.stringValue ?? "").contains(address) }
            #expect(received.count == 1)
            await jobs.shutdown()
        }
    }

    @Test("an agreed plan is confirmed to the customer with its schedule; a statement goes on demand (ashrai statement N --send)")
    func planConfirmationAndStatement() async throws {
        let delivery = try OutboxTests.delivery()
        try await withCollections("channels_plan", configure: { $0.delivery = delivery }, now: { Self.sunday }) { port, client, database in
            let customer = try await client.customer("Plan Bakery Ltd")
            _ = try await client.result("customers.update", ["id": customer, "version": 1, "email": "plan.\(UInt32.random(in: 0...UInt32.max))@example.com"])
            let invoice = try await client.invoice(customer, "900.00", due: "2026-10-01")
            let other = try await client.invoice(customer, "100.00", due: "2026-12-20", issued: "2026-11-20")
            let plan = try await client.result("plans.create", [
                "customer_id": customer, "invoice_ids": [invoice], "installments": 3, "frequency": "monthly", "first_due_on": "2026-12-15",
                "agreed_on": "2026-11-29", "agreement_ref": "signed 29/11", "signed_by": "Noa, owner"])
            #expect(plan["status"] == "active")
            let confirmations = try #require(try await client.result("letters.list", ["kind": "plan_confirmation"])["letters"]?.arrayValue)
            #expect(confirmations.count == 1)
            let confirmation = try await client.result("letters.get", ["id": try #require(confirmations.first?["id"])])
            let text = try #require(confirmation["text"]?.stringValue)
            #expect(text.contains("15 Dec 2026") && text.contains("15 Jan 2026") == false && text.contains("15 Feb 2027") && text.contains("ILS 300.00"), "\(text)")
            #expect(confirmation["html"]?.stringValue?.contains("<td>15 Jan 2027</td>") == true)
            // A statement on demand, from the CLI.
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let sent = try await cli.run(["statement", customer.intValue.map(String.init) ?? "0", "--send"])
            #expect(sent.status == 0 && sent.stdout.contains("queued for delivery"), "\(sent.stderr)")
            let statements = try #require(try await client.result("letters.list", ["kind": "statement"])["letters"]?.arrayValue)
            let statement = try await client.result("letters.get", ["id": try #require(statements.first?["id"])])
            let statementText = try #require(statement["text"]?.stringValue)
            #expect(statementText.contains("ILS 1,000.00") && statementText.contains("Of which overdue: ILS 900.00") && statementText.contains("as of 29 Nov 2026"),
                    "\(statementText)")
            _ = other
            // Both go out by e-mail.
            let jobs = database.jobsClient()
            let pass = try await OutboxTests.worker(database, jobs: jobs).drain()
            #expect(pass.sent == 2)
            await jobs.shutdown()
        }
    }

    @Test("implicit TLS (smtps://, the port-465 way) delivers as STARTTLS does, authenticated")
    func implicitTLS() async throws {
        var delivery = try OutboxTests.delivery()
        let port = try #require(ProcessInfo.processInfo.environment["ASHRAI_TEST_SMTPS_PORT"], "start the SMTP test server with Scripts/smtp-test-server")
        delivery.smtp?.url = "smtps://127.0.0.1:\(port)"
        try await withCollections("channels_smtps", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let address = "tls.\(UInt32.random(in: 0...UInt32.max))@example.com"
            let customer = try await OutboxTests.dunnedCustomer(&client, email: address)
            let jobs = database.jobsClient()
            var settings = ServerSettings().withRepositoryPaths()
            settings.delivery = delivery
            let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: jobs,
                                    now: { Self.sunday })
            let pass = try await OutboxWorker(services: services, logger: makeTestLogger()).drain()
            #expect(pass.sent == 1)
            let received = try TestSMTP.received().filter { ($0["to"]?.stringValue ?? "").contains(address) }
            #expect(received.count == 1 && received.first?["implicit_tls"] == true && received.first?["authenticated"] == true)
            _ = customer
            await jobs.shutdown()
        }
    }
}
