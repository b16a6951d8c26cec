import AshraiCore
import AshraiProtocol
@testable import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("bank statements in")
struct BankImportTests {
    static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: TestDatabase.repositoryRootPath + "/Tests/fixtures/bank/" + name, encoding: .utf8)
    }

    @Test("camt.053 .001.02 and .001.08: booked entries become lines (batched entries one per transaction, pending left out, reversals money out); a second import adds nothing")
    func camt() async throws {
        try await withCollections("bank_camt") { _, client, database in
            let v02 = try await client.result("bank.statements.import", ["format": "camt053", "content": .string(try Self.fixture("camt053-v02.xml"))])
            #expect(v02["lines"] == 4 && v02["new"] == 4 && v02["duplicates"] == 0 && v02["credits"] == "1734.50" && v02["debits"] == "12.90")
            let lines = try #require(v02["transactions"]?.arrayValue)
            let first = try #require(lines.first)
            #expect(first["account"] == "IL620108000000099999999" && first["amount"] == "1234.50" && first["counterparty_name"] == "מאפיית הדר בע\"מ")
            #expect(first["counterparty_account"] == "IL170126000000012345678" && first["remittance"] == "תשלום חשבונית INV-1001")
            #expect(first["booking_date"] == "2026-11-29" && first["bank_reference"] == "LEU-778001" && first["status"] == "unmatched")
            #expect(lines.map { $0["amount"] } == ["1234.50", "300.00", "200.00", "-12.90"])
            #expect(lines[2]["remittance"] == "INV-2002" && lines[1]["location"] == "Stmt[1]/Ntry[2]/TxDtls[1]")
            let again = try await client.result("bank.statements.import", ["format": "camt053", "content": .string(try Self.fixture("camt053-v02.xml"))])
            #expect(again["new"] == 0 && again["duplicates"] == 4)
            let v08 = try await client.result("bank.statements.import", ["format": "camt053", "content": .string(try Self.fixture("camt053-v08.xml"))])
            let v08Lines = try #require(v08["transactions"]?.arrayValue)
            #expect(v08Lines.map { $0["amount"] } == ["2500.00", "-800.00"] && v08Lines.first?["account"] == "12-600-123456")
            #expect(v08Lines.first?["counterparty_name"] == "Tel Aviv Bistro" && v08Lines.last?["counterparty_name"] == "Haifa Deli")
            #expect(v08Lines.first?["booking_date"] == "2026-11-29")
            let stored = try await database.asSystem("SELECT count(*) FROM bank_transactions").scalar(Int.self)
            #expect(stored == 6)
            let worklist = try await client.result("bank.transactions.list", ["status": "unmatched"])
            #expect(worklist["transactions"]?.arrayValue?.count == 6)
        }
    }

    @Test("MT940 and the banks' CSV exports: identical lines stay two, a re-import adds nothing, total rows are skipped")
    func mt940AndCSV() async throws {
        try await withCollections("bank_mt940") { _, client, _ in
            let mt940 = try await client.result("bank.statements.import", ["format": "mt940", "content": .string(try Self.fixture("statement.mt940"))])
            #expect(mt940["lines"] == 4 && mt940["new"] == 4)
            #expect(try await client.result("bank.statements.import", ["format": "mt940", "content": .string(try Self.fixture("statement.mt940"))])["new"] == 0)
            let profiles = try await client.result("bank.profiles.list")
            let names = Set((profiles["profiles"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
            #expect(names.isSuperset(of: ["leumi", "hapoalim", "generic"]))
            let leumi = try await client.result("bank.statements.import", ["format": "csv", "profile": "leumi", "account": "10-800-99999",
                                                                          "content": .string(try Self.fixture("leumi.csv"))])
            #expect(leumi["lines"] == 3 && leumi["credits"] == "2034.50" && leumi["debits"] == "12.90")
            let hapoalim = try await client.result("bank.statements.import", ["format": "csv", "profile": "hapoalim", "account": "12-600-123456",
                                                                             "content": .string(try Self.fixture("hapoalim.csv"))])
            let lines = try #require(hapoalim["transactions"]?.arrayValue)
            #expect(lines.first?["counterparty_name"] == "Tel Aviv Bistro" && lines.first?["counterparty_account"] == "10-800-555555")
            #expect(lines.map { $0["amount"] } == ["2500.00", "-800.00"])
            // A dry run reads and counts, and writes nothing.
            let dry = try await client.result("bank.statements.import", ["format": "csv", "profile": "hapoalim", "account": "12-600-777",
                                                                        "content": .string(try Self.fixture("hapoalim.csv")), "dry_run": true])
            #expect(dry["new"] == 2 && dry["statement_id"] == .null)
            #expect(try await client.result("bank.statements.import", ["format": "csv", "profile": "hapoalim", "account": "12-600-777",
                                                                      "content": .string(try Self.fixture("hapoalim.csv"))])["new"] == 2)
        }
    }

    @Test("a camt.053 file over 10 MB is refused with what to do, not a parser's error")
    func hugeCamt() async throws {
        try await withCollections("bank_huge", configure: { $0.maxLineBytes = 16 << 20 }) { _, client, database in
            let entry = try Self.fixture("camt053-v02.xml")
            let big = entry.replacingOccurrences(of: "<Stmt>", with: "<Stmt><!--" + String(repeating: "x", count: 10_100_000) + "-->")
            let reply = try await client.call("bank.statements.import", ["format": "camt053", "content": .string(big)])
            #expect(reply.errorCode == -32602 && (reply["error"]?["message"]?.stringValue ?? "").contains("a day (or a few) at a time"), "\(reply.encoded().prefix(300))")
            #expect(try await database.asSystem("SELECT count(*) FROM bank_statements").scalar(Int.self) == 0)
        }
    }

    @Test("a file that does not read is refused naming the line or element, and nothing is written")
    func badFiles() async throws {
        try await withCollections("bank_bad") { port, client, database in
            func refusal(_ params: JSONObject) async throws -> String {
                let reply = try await client.call("bank.statements.import", params)
                #expect(reply["error"]?["code"] == -32602, "\(reply.encoded())")
                return reply["error"]?["message"]?.stringValue ?? ""
            }
            // A broken amount in the second entry: nothing of the first is kept.
            let camt = try Self.fixture("camt053-v02.xml").replacingOccurrences(of: "<Amt Ccy=\"ILS\">500.00</Amt>", with: "<Amt Ccy=\"ILS\">5x0</Amt>")
            #expect(try await refusal(["format": "camt053", "content": .string(camt)]).contains("Stmt[1]/Ntry[2]/Amt"))
            #expect(try await refusal(["format": "camt053", "content": "<Document><BkToCstmrStmt><Stmt>"]).contains("line"))
            #expect(try await refusal(["format": "camt053", "content": "<Other/>"]).contains("not an ISO 20022 Document"))
            let mt940 = try Self.fixture("statement.mt940").replacingOccurrences(of: "D12,90", with: "X12,90")
            #expect(try await refusal(["format": "mt940", "content": .string(mt940)]).contains("line 7"))
            let csv = try Self.fixture("leumi.csv").replacingOccurrences(of: "30/11/2026,30/11/2026", with: "31/11/2026,30/11/2026")
            #expect(try await refusal(["format": "csv", "profile": "leumi", "account": "1", "content": .string(csv)]).contains("line 4"))
            #expect(try await refusal(["format": "csv", "profile": "../etc/passwd", "account": "1", "content": "x"]).contains("no bank profile"))
            #expect(try await refusal(["format": "csv", "account": "1", "content": "x"]).contains("profile"))
            let stored = try await database.asSystem("SELECT (SELECT count(*) FROM bank_transactions) + (SELECT count(*) FROM bank_statements)").scalar(Int.self)
            #expect(stored == 0)
            _ = port
        }
    }

    @Test("ashrai bank import FILE tells the format by itself, counts what is new; ashrai bank list shows the worklist")
    func cli() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("bank_cli") { port, _, _ in
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let fixtures = TestDatabase.repositoryRootPath + "/Tests/fixtures/bank/"
            let camt = try await cli.run(["bank", "import", fixtures + "camt053-v08.xml"])
            #expect(camt.status == 0 && camt.stdout.contains("camt053: 2 lines, 2 new"), "\(camt.stdout) \(camt.stderr)")
            let mt940 = try await cli.run(["bank", "import", fixtures + "statement.mt940", "--dry-run"])
            #expect(mt940.status == 0 && mt940.stdout.contains("mt940: 4 lines, 4 new") && mt940.stdout.contains("dry run"), "\(mt940.stdout)")
            let csv = try await cli.run(["bank", "import", fixtures + "leumi.csv", "--profile", "leumi", "--account", "10-800-1"])
            #expect(csv.status == 0 && csv.stdout.contains("csv: 3 lines, 3 new"), "\(csv.stdout) \(csv.stderr)")
            let list = try await cli.run(["bank", "list"])
            #expect(list.status == 0 && list.stdout.contains("Tel Aviv Bistro") && list.stdout.contains("2500.00"), "\(list.stdout)")
            let unmatched = try await cli.run(["bank", "unmatched"])
            #expect(unmatched.status == 0 && unmatched.stdout.contains("Haifa Deli"), "\(unmatched.stdout)")
            let listed = try JSONValue.parse(try await cli.run(["bank", "unmatched", "--json"]).stdout)
            let fee = try #require(listed["transactions"]?.arrayValue?.first { $0["amount"] == "-12.90" }?["id"]?.intValue)
            let ignored = try await cli.run(["bank", "ignore", String(fee), "--reason", "bank fee"])
            #expect(ignored.status == 0 && ignored.stdout.contains("ignored"), "\(ignored.stderr)")
            let bad = try await cli.run(["bank", "import", fixtures + "leumi.csv"])
            #expect(bad.status != 0 && bad.stderr.contains("profile"), "\(bad.stderr)")
        }
    }

    @Test("matching: credits whose invoice the text names are posted without a person and allocated; the rest wait with suggestions; a match by hand posts and links the payer's account; a line can be ignored")
    func matching() async throws {
        try await withCollections("bank_match") { _, client, database in
            let hadar = try await client.customer("מאפיית הדר", language: "he")
            let galil = try await client.customer("Galil Foods Ltd")
            let negev = try await client.customer("Negev Coffee")
            let bistro = try await client.customer("Tel Aviv Bistro")
            let hadarInvoice = try await client.bankInvoice(hadar, "INV-1001", "1234.50")
            let galilInvoice = try await client.bankInvoice(galil, "INV-2001", "300.00")
            _ = try await client.bankInvoice(galil, "INV-2005", "90.00")
            let negevInvoice = try await client.bankInvoice(negev, "INV-2002", "200.00")
            let bistroInvoices = [try await client.bankInvoice(bistro, "B-17", "1000.00"), try await client.bankInvoice(bistro, "B-18", "1500.00")]
            // Reminders written yesterday wait in the outbox (for the post: no e-mail configured here).
            let run = try await client.dunning("2026-11-29", delivered: false)
            #expect(run["letters"]?.arrayValue?.count == 4)
            let imported = try await client.result("bank.statements.import", ["format": "camt053", "content": .string(try Self.fixture("camt053-v02.xml"))])
            #expect(imported["posted"] == 3, "\(imported.encoded())")
            // Money in: the letters to Hadar and Negev (all paid) are cancelled at once; Galil still owes INV-2005, its letter stands.
            #expect(imported["messages_cancelled"] == 2)
            let cancelled = try await database.asSystem("""
                SELECT string_agg(customer_id::text, ',' ORDER BY customer_id) FROM messages WHERE state = 'cancelled'
                """).scalar(String.self)
            #expect(cancelled == [hadar, negev].compactMap { $0.intValue.map(String.init) }.joined(separator: ","))
            // Each automatic post paid the invoice the text named, and nothing else (precision on the fixture: 3 of 3 right).
            for (invoiceID, customer) in [(hadarInvoice, hadar), (galilInvoice, galil), (negevInvoice, negev)] {
                let shown = try await client.result("invoices.get", ["id": invoiceID])
                #expect(shown["status"] == "paid" && shown["customer_id"] == customer, "\(shown.encoded())")
            }
            let posted = try await client.result("bank.transactions.list", ["status": "posted"])
            #expect(posted["transactions"]?.arrayValue?.allSatisfy { $0["payment_id"] != .null } == true)
            // The fee (money out) waits, with no suggestion.
            let waiting = try await client.result("bank.unmatched")
            let fee = try #require(waiting["transactions"]?.arrayValue?.first)
            #expect(waiting["transactions"]?.arrayValue?.count == 1 && fee["amount"] == "-12.90" && fee["suggestions"] == [])
            _ = try await client.result("bank.ignore", ["transaction_id": try #require(fee["id"]), "reason": "bank fee"])
            // A cheque Galil gave last week, deposited and then returned by the bank.
            let cheque = try await client.result("payments.record", ["customer_id": galil, "amount": "800.00", "method": "cheque",
                                                                     "received_on": "2026-11-20", "reference": "cheque 1234567"])
            let chequeID = try #require(cheque["payment"]?["id"])
            // The bistro's transfer names invoice numbers the bistro does not use: it waits, suggested by name and amount.
            _ = try await client.result("bank.statements.import", ["format": "camt053", "content": .string(try Self.fixture("camt053-v08.xml"))])
            let returned = try #require(try await client.result("bank.unmatched")["transactions"]?.arrayValue?.first { $0["amount"] == "-800.00" })
            let back = try #require(returned["suggestions"]?.arrayValue?.first)
            #expect(back["action"] == "reverse" && back["payment_id"] == chequeID && (back["confidence"]?.intValue ?? 0) >= 80, "\(returned.encoded())")
            let reversed = try await client.result("bank.reverse", ["transaction_id": try #require(returned["id"]), "payment_id": chequeID])
            #expect(reversed["status"] == "returned" && reversed["payment_id"] == chequeID)
            #expect(try await client.result("payments.get", ["id": chequeID])["payment"]?["status"] == "reversed")
            let log = try await client.result("interactions.list", ["customer_id": galil])["interactions"]?.arrayValue ?? []
            #expect(log.contains { $0["outcome"] == "payment_returned" && ($0["summary"]?.stringValue ?? "").contains("1234567") })
            let bistroLine = try #require(try await client.result("bank.unmatched")["transactions"]?.arrayValue?.first { $0["amount"] == "2500.00" })
            let suggestion = try #require(bistroLine["suggestions"]?.arrayValue?.first)
            #expect(suggestion["customer_id"] == bistro && (suggestion["confidence"]?.intValue ?? 100) < 90 && suggestion["reasons"]?.arrayValue?.count == 2,
                    "\(bistroLine.encoded())")
            let matched = try await client.result("bank.match", ["transaction_id": try #require(bistroLine["id"]), "customer_id": bistro])
            #expect(matched["status"] == "posted")
            for id in bistroInvoices { #expect(try await client.result("invoices.get", ["id": id])["status"] == "paid") }
            let linked = try await database.asSystem("SELECT count(*) FROM customer_bank_accounts WHERE account = '10-800-555555'").scalar(Int.self)
            #expect(linked == 1)
            // Posted once: matching it again is refused, and the payment was recorded once.
            let again = try await client.call("bank.match", ["transaction_id": try #require(bistroLine["id"]), "customer_id": bistro])
            #expect(again["error"]?["code"] == 409)
            let payments = try await database.asSystem("SELECT count(*) FROM payments").scalar(Int.self)
            #expect(payments == 5)
        }
    }

    @Test("posts are written in batches: a second line for an invoice the first paid waits, a later one of the same customer is matched after the first; a line whose idempotency key is taken is left, not posted twice")
    func batchedPosts() async throws {
        try await withCollections("bank_batch") { _, client, database in
            let alpha = try await client.customer("Alpha Trading")
            let beta = try await client.customer("Beta Supplies")
            let gamma = try await client.customer("Gamma Works")
            let delta = try await client.customer("Delta Foods")
            let first = try await client.bankInvoice(alpha, "A-5001", "100.00")
            let second = try await client.bankInvoice(alpha, "A-5002", "250.00")
            let betaInvoice = try await client.bankInvoice(beta, "B-6001", "400.00")
            let gammaInvoice = try await client.bankInvoice(gamma, "C-7001", "75.00")
            // The fifth line's id (a fresh database: the first statement's lines are 1…5), used as an
            // idempotency key by a payment typed in before the statement came.
            let next = try await database.asSystem("SELECT coalesce(max(id), 0) + 1 FROM bank_transactions").scalar(Int64.self)
            _ = try await client.result("payments.record", ["customer_id": delta, "amount": "1.00", "method": "cash", "received_on": "2026-11-29",
                                                            "idempotency_key": .string("bank-line-\(next + 4)")])
            let csv = """
                date,value_date,amount,reference,payer,payer_account,description
                2026-11-30,2026-11-30,100.00,R1,Alpha Trading,IL-100,payment A-5001
                2026-11-30,2026-11-30,100.00,R2,Alpha Trading,IL-100,A-5001 again
                2026-11-30,2026-11-30,250.00,R3,Alpha Trading,IL-100,invoice A-5002
                2026-11-30,2026-11-30,400.00,R4,Beta Supplies,IL-200,B-6001
                2026-11-30,2026-11-30,75.00,R5,Gamma Works,IL-300,C-7001

                """
            let imported = try await client.result("bank.statements.import", ["format": "csv", "profile": "generic", "account": "12-600-1",
                                                                             "content": .string(csv)])
            #expect(imported["posted"] == 3, "\(imported.encoded())")
            let lines = try #require(imported["transactions"]?.arrayValue)
            #expect(lines.map { $0["status"] } == ["posted", "unmatched", "posted", "posted", "unmatched"], "\(imported.encoded())")
            #expect(lines.first?["id"]?.intValue.map(Int64.init) == next)
            for id in [first, second, betaInvoice] { #expect(try await client.result("invoices.get", ["id": id])["status"] == "paid") }
            #expect(try await client.result("invoices.get", ["id": gammaInvoice])["status"] == "open")
            // Each post: its key with the reply, the payment audited as payments.record and the line as bank.auto_post; one payment each.
            let keys = try await database.asSystem("""
                SELECT count(*) FROM idempotency_keys WHERE key LIKE 'bank-line-%' AND response IS NOT NULL
                """).scalar(Int.self)
            #expect(keys == 4)
            let audited = try await database.asSystem("""
                SELECT count(*) FILTER (WHERE action = 'bank.auto_post') || ' ' || count(*) FILTER (WHERE action = 'payments.record' AND entity_type = 'payment')
                FROM audit_log
                """).scalar(String.self)
            #expect(audited == "3 4")
            let payments = try await database.asSystem("SELECT count(*) FROM payments WHERE customer_id <> \(delta.intValue ?? 0)").scalar(Int.self)
            #expect(payments == 3)
            // The reply a key keeps is the payment as payments.record answers it.
            let replay = try await client.result("payments.get", ["id": try #require(lines.first?["payment_id"])])
            let stored = try await database.asSystem("SELECT response FROM idempotency_keys WHERE key = 'bank-line-' || \(next)").scalar(JSONValue.self)
            #expect(stored == replay, "\(stored.encoded()) vs \(replay.encoded())")
        }
    }

    @Test("dunning.requireStatementBy: the scheduled run waits for today's bank statement until that time, then goes ahead without it")
    func scheduledRunWaitsForTheStatement() async throws {
        try await withCollections("bank_wait") { _, _, database in
            var settings = ServerSettings().withRepositoryPaths()
            settings.collections.requireStatementByMinute = 20 * 60
            let jobs = database.jobsClient()
            func scheduler(at instant: String) -> DunningScheduler {
                let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test", jobsDatabase: jobs,
                                        now: { AshraiServerTests.instant(instant) })
                return DunningScheduler(services: services, minuteOfDay: 18 * 60, logger: makeTestLogger())
            }
            func runs(_ day: String) async throws -> Int {
                try await database.asSystem("SELECT count(*) FROM dunning_runs WHERE scheduled AND as_of = \(day)::date").scalar(Int.self)
            }
            // 18:30 in Israel on 30 November, no statement yet: it waits.
            #expect(await scheduler(at: "2026-11-30T16:30:00Z").runIfDue() == false)
            #expect(try await runs("2026-11-30") == 0)
            // The statement comes in at 18:00: the next wake runs.
            _ = try await database.asSystem("""
                INSERT INTO bank_statements (format, file_sha256, line_count, new_count, imported_at) VALUES ('mt940', 'x', 0, 0, '2026-11-30T16:00:00Z')
                """)
            #expect(await scheduler(at: "2026-11-30T16:45:00Z").runIfDue() == true)
            #expect(try await runs("2026-11-30") == 1)
            // The next day no statement comes: after 20:00 the run goes ahead anyway.
            #expect(await scheduler(at: "2026-12-01T17:30:00Z").runIfDue() == false)
            #expect(await scheduler(at: "2026-12-01T18:05:00Z").runIfDue() == true)
            #expect(try await runs("2026-12-01") == 1)
            await jobs.shutdown()
        }
    }
}

extension LineClient {
    /// An invoice of October 2026 with its own number, as a bank line would name it; its id.
    mutating func bankInvoice(_ customer: JSONValue, _ number: String, _ amount: String) async throws -> JSONValue {
        try #require(try await result("invoices.create", ["customer_id": customer, "number": .string(number), "issue_date": "2026-10-01",
                                                           "due_date": "2026-10-31", "amount": .string(amount)])["id"])
    }
}
