import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Logging
import Postgres
import Testing

/// The tests' SMTP server (Scripts/smtp-test-server, started by `make test`): what it received,
/// parsed back by Python's email package.
enum TestSMTP {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Settings for the server, or a failure that says how to start it.
    static func settings() throws -> SMTPSettings {
        guard let port = environment["ASHRAI_TEST_SMTP_PORT"], let ca = environment["ASHRAI_TEST_SMTP_CA"] else {
            throw TestSMTPMissing()
        }
        return SMTPSettings(url: "smtp://127.0.0.1:\(port)", username: environment["ASHRAI_TEST_SMTP_USER"],
                            password: environment["ASHRAI_TEST_SMTP_PASSWORD"], requireTLS: true, caFile: ca, timeoutSeconds: 60)
    }

    struct TestSMTPMissing: Error, CustomStringConvertible {
        var description: String {
            "no test SMTP server: run the tests with `make test`, or start one with eval \"$(Scripts/smtp-test-server /tmp/smtp-dev)\""
        }
    }

    /// Every message received so far (each a JSON summary).
    static func received() throws -> [JSONValue] {
        guard let directory = environment["ASHRAI_TEST_SMTP_DIR"] else { throw TestSMTPMissing() }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
        return try files.map { try JSONValue.parse(String(decoding: FileManager.default.contents(atPath: directory + "/" + $0) ?? Data(), as: UTF8.self)) }
    }

    /// The messages received with this Message-ID.
    static func received(messageID: String) throws -> [JSONValue] {
        try received().filter { $0["message_id"]?.stringValue == "<\(messageID)>" }
    }
}

@Suite("the outbox: letters that reach the customer")
struct OutboxTests {
    /// Sunday 29 November 2026, 10:00 in Israel: inside the default sending hours.
    static let sunday = instant("2026-11-29T08:00:00Z")

    /// `pdf`: attach the letter as a PDF (WeasyPrint takes about a second a letter: only the test that checks it).
    static func delivery(pdf: Bool = false) throws -> DeliverySettings {
        var delivery = DeliverySettings()
        delivery.attachPDF = pdf
        delivery.smtp = try TestSMTP.settings()
        delivery.fromAddress = "accounts@bakery.example"
        delivery.fromName = "מאפיית השכונה"
        delivery.replyTo = "collections@bakery.example"
        delivery.retry = RetryPolicy(maxAttempts: 3)
        return delivery
    }

    /// A worker on the test's database with the same settings as its server, at `now`.
    static func worker(_ database: PostgresClient, now: Date = sunday, jobs: PostgresClient, staleAfter: Duration? = nil,
                       pdf: Bool = false, smtp: SMTPSettings? = nil) throws -> OutboxWorker {
        var settings = ServerSettings().withRepositoryPaths()
        settings.collections.business.name = "Ashrai Test Bakery Supplies"
        settings.delivery = try delivery(pdf: pdf)
        if let staleAfter { settings.delivery.sendingStaleAfter = staleAfter }
        if let smtp { settings.delivery.smtp = smtp }
        let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: jobs,
                                now: { now })
        return OutboxWorker(services: services, logger: makeTestLogger())
    }

    static func messages(_ database: PostgresClient, customer: JSONValue) async throws -> [JSONValue] {
        let id = Int64(customer.intValue ?? 0)
        return try await database.asSystem("""
            SELECT json_build_object('id', id, 'state', state, 'channel', channel, 'message_id', message_id, 'recipient', recipient,
                                     'last_error', last_error, 'cancel_reason', cancel_reason, 'attempts', attempts,
                                     'retry_later', next_attempt_at > now())::text
            FROM messages WHERE customer_id = \(id) ORDER BY id
            """).map { try JSONValue.parse(try $0.decode(String.self, at: 0)) }
    }

    /// A Hebrew-speaking customer with an e-mail address and one overdue invoice of 1,234.50, dunned on Sunday.
    static func dunnedCustomer(_ client: inout LineClient, email: String) async throws -> JSONValue {
        let customer = try await client.customer("מאפיית הדר", language: "he")
        _ = try await client.result("customers.update", ["id": customer, "version": 1, "email": .string(email)])
        _ = try await client.invoice(customer, "1234.50", due: "2026-11-01")
        let run = try await client.dunning("2026-11-29", delivered: false)
        #expect((run["letters"]?.arrayValue ?? []).contains { $0["customer_id"] == customer })
        return customer
    }

    @Test("a dunning letter is e-mailed once: STARTTLS and AUTH, the Hebrew subject decoded, text with amount and pay-by date, HTML right-to-left; logged as an interaction")
    func emailed() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_mail", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let customer = try await Self.dunnedCustomer(&client, email: "dana.\(UInt32.random(in: 0...UInt32.max))@example.com")
            let queued = try await Self.messages(database, customer: customer)
            #expect(queued.count == 1 && queued.first?["state"] == "queued")
            let jobs = database.jobsClient()
            let worker = try Self.worker(database, jobs: jobs, pdf: true)
            let pass = try await worker.drain()
            #expect(pass.sent == 1)
            let messageID = try #require(queued.first?["message_id"]?.stringValue)
            let received = try TestSMTP.received(messageID: messageID)
            #expect(received.count == 1)
            let mail = try #require(received.first)
            #expect(mail["tls"] == true && mail["authenticated"] == true)
            #expect(mail["content_type"] == "multipart/mixed")   // the text and HTML as alternatives, then the PDF
            let subject = try #require(mail["subject"]?.stringValue)
            #expect(subject.unicodeScalars.contains { (0x05D0...0x05EA).contains($0.value) }, "a Hebrew subject, decoded: \(subject)")
            let text = try #require(mail["text"]?.stringValue)
            #expect(text.contains("1,234.50") && text.contains("/2026"), "amount and pay-by date in the text part")
            #expect(mail["html"]?.stringValue?.contains("dir=\"rtl\"") == true)
            #expect(mail["reply_to"]?.stringValue?.contains("collections@bakery.example") == true)
            #expect(mail["from"]?.stringValue?.contains("מאפיית השכונה") == true)
            // The letter as a PDF that opens (pdfinfo counts its pages), recorded by its SHA-256.
            let attachment = try #require(mail["attachments"]?.arrayValue?.first)
            #expect(attachment["content_type"] == "application/pdf" && (attachment["pages"]?.intValue ?? 0) >= 1)
            let recorded = try await database.asSystem("SELECT attachments->0->>'sha256' FROM messages WHERE message_id = \(messageID)")
            #expect(try recorded.scalar(String.self) == attachment["sha256"]?.stringValue)
            #expect(try await Self.messages(database, customer: customer).first?["state"] == "sent")
            // Nothing twice: a second pass sends nothing, and the server saw the Message-ID once.
            #expect(try await worker.drain().sent == 0)
            #expect(try TestSMTP.received(messageID: messageID).count == 1)
            let interactions = try await client.result("interactions.list", ["customer_id": customer])["interactions"]?.arrayValue ?? []
            #expect(interactions.contains { $0["kind"] == "email" && ($0["summary"]?.stringValue?.contains(messageID) ?? false) })
            await jobs.shutdown()
        }
    }

    @Test("a letter whose invoice was paid before the hand-off is cancelled with the reason, and nothing is sent")
    func paidBeforeSending() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_paid", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let customer = try await Self.dunnedCustomer(&client, email: "paid.\(UInt32.random(in: 0...UInt32.max))@example.com")
            _ = try await client.result("payments.record", ["customer_id": customer, "amount": "1234.50", "method": "bank_transfer",
                                                            "received_on": "2026-11-29"])
            let jobs = database.jobsClient()
            let pass = try await Self.worker(database, jobs: jobs).drain()
            #expect(pass.cancelled == 1 && pass.sent == 0)
            let message = try #require(try await Self.messages(database, customer: customer).first)
            #expect(message["state"] == "cancelled" && message["cancel_reason"]?.stringValue?.contains("no longer open") == true)
            #expect(try TestSMTP.received(messageID: message["message_id"]?.stringValue ?? "").isEmpty)
            await jobs.shutdown()
        }
    }

    @Test("a 5xx at RCPT fails for good, flags the address (no more e-mail to it) and the letter falls back to post; a 4xx is retried later")
    func refusedAndBusy() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_refused", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let bounced = try await Self.dunnedCustomer(&client, email: "bounce.\(UInt32.random(in: 0...UInt32.max))@example.com")
            let busy = try await Self.dunnedCustomer(&client, email: "busy.\(UInt32.random(in: 0...UInt32.max))@example.com")
            let jobs = database.jobsClient()
            let pass = try await Self.worker(database, jobs: jobs).drain()
            #expect(pass.failed == 1 && pass.retrying == 1)
            let bouncedMessages = try await Self.messages(database, customer: bounced)
            let failed = try #require(bouncedMessages.first)
            #expect(failed["state"] == "failed" && failed["last_error"]?.stringValue?.contains("550") == true)
            // The letter is not lost: the permanent failure queued it for the post, in the same transaction.
            #expect(bouncedMessages.count == 2 && bouncedMessages.last?["channel"] == "post" && bouncedMessages.last?["state"] == "queued")
            // Someone has to fix the address: a task, made in the same transaction as the failure.
            let tasks = try await client.result("tasks.list", ["kind": "failed_message"])["tasks"]?.arrayValue ?? []
            #expect(tasks.count == 1 && tasks.first?["customer_id"] == bounced && tasks.first?["source"] == .string("message:\(failed["id"]?.intValue ?? 0)"),
                    "\(tasks)")
            let taskNote = tasks.first?["note"]?.stringValue ?? ""
            #expect(taskNote.contains("550"), "\(taskNote)")
            let flagged = try await database.asSystem("SELECT email_refused_at IS NOT NULL FROM customers WHERE id = \(Int64(bounced.intValue ?? 0))")
            #expect(try flagged.scalar(Bool.self))
            let retrying = try #require(try await Self.messages(database, customer: busy).first)
            #expect(retrying["state"] == "retrying" && retrying["retry_later"] == true && retrying["attempts"] == 1)
            // The periodic review counts them.
            let review = try await client.result("reports.review", [:])
            #expect(review["messages"]?["failed"] == 1 && review["messages"]?["retrying"] == 1 && review["messages"]?["refused_addresses"] == 1)
            // The next run writes the flagged customer a letter, and sends it by post, not to the refused address.
            _ = try await client.invoice(bounced, "50.00", due: "2026-11-02")
            _ = try await client.dunning("2026-11-29", delivered: false)
            let after = try await Self.messages(database, customer: bounced)
            #expect(after.count == 3 && after.last?["channel"] == "post")
            // A new address clears the flag.
            let version = try #require(try await client.result("customers.get", ["id": bounced])["version"])
            _ = try await client.result("customers.update", ["id": bounced, "version": version, "email": "fixed@example.com"])
            let cleared = try await database.asSystem("SELECT email_refused_at IS NULL FROM customers WHERE id = \(Int64(bounced.intValue ?? 0))")
            #expect(try cleared.scalar(Bool.self))
            await jobs.shutdown()
        }
    }

    @Test("without e-mail, letters go by post: one PDF, a page each, the address in the window; printed letters are sent; a paid one is not printed")
    func post() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_post", configure: { $0.delivery = delivery }, now: { Self.sunday }) { port, client, database in
            var customers: [JSONValue] = []
            for (index, language) in ["he", "en", "he"].enumerated() {
                let customer = try await client.customer(language == "he" ? "לקוח בדואר \(index)" : "Post Customer \(index)", language: language)
                _ = try await client.result("customers.update", ["id": customer, "version": 1,
                                                                 "address": .string(language == "he" ? "רחוב הרצל \(index), תל אביב" : "\(index) Herzl Street, Tel Aviv")])
                _ = try await client.invoice(customer, "100.00", due: "2026-11-01")
                customers.append(customer)
            }
            _ = try await client.dunning("2026-11-29", delivered: false)
            _ = try await client.result("payments.record", ["customer_id": customers[2], "amount": "100.00", "method": "cash", "received_on": "2026-11-29"])
            let cli = CLI(port: port, configHome: FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("post") + ".pdf").path
            let printed = try await cli.run(["letters", "print", "--out", out])
            #expect(printed.status == 0 && printed.stdout.contains("2 letters") && printed.stdout.contains("not printed"), "\(printed.stdout)\(printed.stderr)")
            #expect(try Self.pdfPages(out) == 2)
            for customer in customers.prefix(2) {
                let message = try #require(try await Self.messages(database, customer: customer).first)
                #expect(message["channel"] == "post" && message["state"] == "sent")
            }
            #expect(try await Self.messages(database, customer: customers[2]).first?["state"] == "cancelled")
            let again = try await cli.run(["letters", "print", "--out", out + ".2"])
            #expect(again.stdout.contains("no letters waiting"))
        }
    }

    /// The page count `pdfinfo` (Debian poppler-utils) reports.
    static func pdfPages(_ path: String) throws -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pdfinfo")
        process.arguments = [path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    @Test("a mail server that refuses the connection, or answers too slowly, is a temporary failure: retried later, nothing lost")
    func unreachableAndTimeout() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_unreachable", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let down = try await Self.dunnedCustomer(&client, email: "down.\(UInt32.random(in: 0...UInt32.max))@example.com")
            let jobs = database.jobsClient()
            var closed = try TestSMTP.settings()
            closed.url = "smtp://127.0.0.1:1"   // nothing listens there
            let refused = try await Self.worker(database, jobs: jobs, smtp: closed).drain()
            #expect(refused.retrying == 1 && refused.sent == 0)
            let message = try #require(try await Self.messages(database, customer: down).first)
            #expect(message["state"] == "retrying" && message["retry_later"] == true && !(message["last_error"]?.stringValue ?? "").isEmpty)
            // A slow server (3 s at RCPT) against a 1 s timeout.
            let slow = try await Self.dunnedCustomer(&client, email: "slow.t.\(UInt32.random(in: 0...UInt32.max))@example.com")
            var impatient = try TestSMTP.settings()
            impatient.timeoutSeconds = 1
            let timedOut = try await Self.worker(database, jobs: jobs, smtp: impatient).drain()
            #expect(timedOut.retrying == 1 && timedOut.sent == 0)
            #expect(try await Self.messages(database, customer: slow).first?["state"] == "retrying")
            await jobs.shutdown()
        }
    }

    @Test("outside the sending hours (03:00 in Israel, or Saturday) nothing is claimed")
    func sendingHours() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_hours", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            let customer = try await Self.dunnedCustomer(&client, email: "night.\(UInt32.random(in: 0...UInt32.max))@example.com")
            let jobs = database.jobsClient()
            for night in [instant("2026-11-29T01:00:00Z"), instant("2026-11-28T10:00:00Z")] {
                let pass = try await Self.worker(database, now: night, jobs: jobs).drain()
                #expect(pass.closed && pass.sent == 0)
            }
            #expect(try await Self.messages(database, customer: customer).first?["state"] == "queued")
            await jobs.shutdown()
        }
    }

    @Test("two workers draining one outbox at once send every message exactly once")
    func twoWorkers() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_two", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            var customers: [JSONValue] = []
            for index in 0..<8 {
                let customer = try await client.customer("לקוח \(index)", language: "he")
                _ = try await client.result("customers.update", ["id": customer, "version": 1, "email": .string("many.\(index).\(UInt32.random(in: 0...UInt32.max))@example.com")])
                _ = try await client.invoice(customer, "100.00", due: "2026-11-01")
                customers.append(customer)
            }
            _ = try await client.dunning("2026-11-29", delivered: false)
            let jobsA = database.jobsClient()
            let jobsB = database.jobsClient()
            let (a, b) = (try Self.worker(database, jobs: jobsA), try Self.worker(database, jobs: jobsB))
            async let first = a.drain()
            async let second = b.drain()
            let passes = try await [first, second]
            #expect(passes.map(\.sent).reduce(0, +) == customers.count)
            for customer in customers {
                let message = try #require(try await Self.messages(database, customer: customer).first)
                #expect(try TestSMTP.received(messageID: message["message_id"]?.stringValue ?? "").count == 1)
            }
            await jobsA.shutdown()
            await jobsB.shutdown()
        }
    }

    @Test("kill -9 of a daemon in the middle of a batch: what went out stays sent, what was in flight is unknown (not resent by itself); retried, every Message-ID arrives exactly once")
    func killedMidBatch() async throws {
        let delivery = try Self.delivery()
        let smtp = try TestSMTP.settings()
        try await withCollections("outbox_kill", configure: { $0.delivery = delivery }, now: { Self.sunday }) { _, client, database in
            // Three customers whose mail server answers slowly (3 s at RCPT): the batch takes 9 s.
            var customers: [JSONValue] = []
            for index in 0..<3 {
                customers.append(try await Self.dunnedCustomer(&client, email: "slow.\(index).\(UInt32.random(in: 0...UInt32.max))@example.com"))
            }
            // A real daemon on the same database, delivering at any hour, polling every second.
            let ashraid = CLI.binary.deletingLastPathComponent().appendingPathComponent("ashraid")
            let process = Process()
            process.executableURL = ashraid
            process.arguments = ["serve", "--listen", "127.0.0.1:0"]
            let config = database.configuration
            var environment = ProcessInfo.processInfo.environment
            environment["ASHRAI_DATABASE_URL"] = config.parameters.map { "\($0.keyword)='\($0.value)'" }.joined(separator: " ")
            environment["ASHRAI_DATABASE_MIGRATIONS"] = TestDatabase.migrationsDirectory
            environment["ASHRAI_DUNNING_TEMPLATES"] = TestDatabase.repositoryRootPath + "/Config/templates"
            environment["ASHRAI_DUNNING_DEFAULT_POLICY"] = TestDatabase.repositoryRootPath + "/Config/dunning-policy.json"
            environment["ASHRAI_DELIVERY_SMTP_URL"] = smtp.url
            environment["ASHRAI_DELIVERY_SMTP_USERNAME"] = smtp.username
            environment["ASHRAI_SMTP_PASSWORD"] = smtp.password
            environment["ASHRAI_DELIVERY_SMTP_CA_FILE"] = smtp.caFile
            environment["ASHRAI_DELIVERY_FROM"] = "accounts@bakery.example"
            environment["ASHRAI_DELIVERY_HOURS"] = "00:00-24:00"
            environment["ASHRAI_DELIVERY_DAYS"] = "sun,mon,tue,wed,thu,fri,sat"
            environment["ASHRAI_DELIVERY_POLL_SECONDS"] = "1"
            environment["ASHRAI_DELIVERY_ATTACH_PDF"] = "false"
            environment["ASHRAI_DELIVERY_CONCURRENCY"] = "1"   // one hand-off at a time: the batch is mid-way for 6 s
            environment["ASHRAI_LOG_LEVEL"] = "warning"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill it once the first message is sent and the others are still being handed over.
            var states: [String] = []
            for _ in 0..<300 {
                states = []
                for customer in customers {
                    states.append(try await Self.messages(database, customer: customer).first?["state"]?.stringValue ?? "")
                }
                if states.contains("sent") && states.contains("sending") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            kill(process.processIdentifier, SIGKILL)
            #expect(states.contains("sent") && states.contains("sending"), "\(states)")
            // After the crash: a worker finds the interrupted ones and does not send them on its own.
            let jobs = database.jobsClient()
            let worker = try Self.worker(database, jobs: jobs, staleAfter: .zero)
            let pass = try await worker.drain()
            #expect(pass.sent == 0 && pass.recovered == states.filter { $0 == "sending" }.count)
            let unknown = try await client.result("outbox.list", ["state": "unknown"])["messages"]?.arrayValue ?? []
            #expect(unknown.count == states.filter { $0 == "sending" }.count)
            for message in unknown { _ = try await client.result("outbox.retry", ["id": message["id"]!]) }
            _ = try await worker.drain()
            for customer in customers {
                let message = try #require(try await Self.messages(database, customer: customer).first)
                #expect(message["state"] == "sent")
                #expect(try TestSMTP.received(messageID: message["message_id"]?.stringValue ?? "").count == 1)
            }
            await jobs.shutdown()
        }
    }

    @Test("a message left `sending` by a crash becomes unknown, is not resent by the worker, and a manager's retry sends it with the same Message-ID")
    func crashRecovery() async throws {
        let delivery = try Self.delivery()
        try await withCollections("outbox_crash", configure: { $0.delivery = delivery }, now: { Self.sunday }) { port, client, database in
            let customer = try await Self.dunnedCustomer(&client, email: "crash.\(UInt32.random(in: 0...UInt32.max))@example.com")
            let message = try #require(try await Self.messages(database, customer: customer).first)
            let id = try #require(message["id"]?.intValue)
            _ = try await database.asSystem("""
                UPDATE messages SET state = 'sending', sending_at = now() - interval '1 hour', attempts = 1 WHERE id = \(Int64(id))
                """)
            let jobs = database.jobsClient()
            let worker = try Self.worker(database, jobs: jobs)
            let pass = try await worker.drain()
            #expect(pass.recovered == 1 && pass.sent == 0)
            #expect(try await Self.messages(database, customer: customer).first?["state"] == "unknown")
            let listed = try await client.result("outbox.list", ["state": "unknown"])["messages"]?.arrayValue ?? []
            #expect(listed.contains { $0["id"]?.intValue == id })
            // The staff's view and retry, through the CLI.
            let cli = CLI(port: port, configHome: FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let unknown = try await cli.run(["outbox", "--state", "unknown"])
            #expect(unknown.status == 0 && unknown.stdout.contains("unknown") && unknown.stdout.contains("interrupted"), "\(unknown.stdout)\(unknown.stderr)")
            let retried = try await cli.run(["outbox", "retry", String(id)])
            #expect(retried.status == 0 && retried.stdout.contains("queued again"), "\(retried.stderr)")
            #expect(try await worker.drain().sent == 1)
            let messageID = try #require(message["message_id"]?.stringValue)
            #expect(try TestSMTP.received(messageID: messageID).count == 1)
            await jobs.shutdown()
        }
    }
}
