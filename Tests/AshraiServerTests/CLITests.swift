import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Testing

/// Runs the built `ashrai` binary (next to the test bundle) with its own config directory.
struct CLI {
    let port: Int
    let configHome: String

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ashrai")
    }

    func run(_ arguments: [String], stdin: String? = nil) async throws -> Output {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments + ["--server", "127.0.0.1:\(port)"]
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = configHome
        environment.removeValue(forKey: "ASHRAI_SERVER")
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        // Wait without blocking a cooperative thread: the server under test runs in-process.
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
                if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
                try? input.fileHandleForWriting.close()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        return Output(status: status,
                      stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                      stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

@Suite("the ashrai CLI")
struct CLITests {
    @Test("login → whoami → users add → users list over a real server; the session file is 0600; errors exit by class")
    func tour() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withServer { port in
            let admin = try await Shared.admin.value
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)

            let notLoggedIn = try await cli.run(["whoami"])
            #expect(notLoggedIn.status == 4)
            #expect(notLoggedIn.stderr.contains("ashrai login"))

            let login = try await cli.run(["login", "--username", admin.username, "--password-stdin"], stdin: admin.password + "\n")
            #expect(login.status == 0, "\(login.stderr)")
            let attributes = try FileManager.default.attributesOfItem(atPath: home + "/ashrai/session")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let whoami = try await cli.run(["whoami"])
            #expect(whoami.status == 0)
            #expect(whoami.stdout.contains(admin.username))

            let name = Shared.unique("dana")
            let add = try await cli.run(["users", "add", name, "--role", "clerk", "--display-name", "דנה כהן"])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("one-time password"))

            let list = try await cli.run(["users", "list"])
            #expect(list.status == 0)
            let line = try #require(list.stdout.split(separator: "\n").first { $0.contains(name) })
            #expect(line.contains("דנה כהן") && line.contains("clerk"))
            // Columns after the Hebrew name stay aligned with the header.
            let header = try #require(list.stdout.split(separator: "\n").first)
            let roleColumn = Table.columnStart(of: "ROLE", in: String(header))
            #expect(Table.columnStart(of: "clerk", in: String(line)) == roleColumn)

            let json = try await cli.run(["users", "show", name, "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            #expect(try JSONValue.parse(json.stdout)["username"]?.stringValue == name)

            let missing = try await cli.run(["users", "show", "no-such-user-\(UInt32.random(in: 0...UInt32.max))"])
            #expect(missing.status == 6)
            let invalid = try await cli.run(["call", "users.create", #"{"username":"x"}"#])
            #expect(invalid.status == 11)
            #expect(invalid.stderr.contains("param password"))

            let customer = try await cli.run(["customers", "add", "מאפיית השכונה", "--code", Shared.unique("B"), "--json"])
            #expect(customer.status == 0, "\(customer.stderr)")
            let customerID = try #require(try JSONValue.parse(customer.stdout)["id"]?.intValue)
            let show = try await cli.run(["customers", "show", String(customerID)])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.contains("מאפיית השכונה") && show.stdout.contains("terms v0 (defaults)") && show.stdout.contains("not assessed yet"))
            let refused = try await cli.run(["credit", "check", String(customerID), "100.00"])
            #expect(refused.status == 8)   // default terms: cash only
            let terms = try await cli.run(["credit", "terms", String(customerID), "--limit", "1000", "--net-days", "30",
                                           "--interest", "0", "--reason", "first order"])
            #expect(terms.status == 0, "\(terms.stderr)")
            let invoiceNumber = Shared.unique("CLI")
            let invoice = try await cli.run(["invoices", "add", String(customerID), invoiceNumber, "250.00", "--issue-date", "2026-11-01"])
            #expect(invoice.status == 0, "\(invoice.stderr)")
            let invoices = try await cli.run(["invoices", "list", "--customer", String(customerID)])
            #expect(invoices.stdout.contains(invoiceNumber) && invoices.stdout.contains("2026-12-01"))
            let tooMuch = try await cli.run(["invoices", "add", String(customerID), invoiceNumber + "-2", "800.00"])
            #expect(tooMuch.status == 8 && tooMuch.stderr.contains("credit_limit"))

            // CSV import: Excel's BOM, CRLF, quoted fields with commas, quotes and a newline, Hebrew, one bad row.
            let tag = Shared.unique("csv").replacingOccurrences(of: "-", with: "")
            let csv = "\u{FEFF}code,name,email,notes\r\n"
                + "\(tag)-1,\"כהן, לוי ושות׳\",a@example.com,\"said \"\"call me\"\"\nnext week\"\r\n"
                + "\(tag)-2,,b@example.com,\r\n"
                + "\(tag)-3,Plain Ltd,not-an-email,\r\n"
                + "\(tag)-4,\"מאפייה\",d@example.com,\r\n"
            let file = home + "/customers.csv"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try csv.write(toFile: file, atomically: true, encoding: .utf8)
            let imported = try await cli.run(["import", "customers", file])
            #expect(imported.status == 11)
            #expect(imported.stdout.contains("imported 2 of 4"))
            #expect(imported.stderr.contains("line 4:") && imported.stderr.contains("(name)"))   // the record after the 2-line one
            #expect(imported.stderr.contains("line 5:") && imported.stderr.contains("(email)"))
            let found = try await cli.run(["customers", "list", tag, "--json"])
            let names = try JSONValue.parse(found.stdout)["customers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names == ["כהן, לוי ושות׳", "מאפייה"])
            // Invoices in batches of 2 with 3 calls in flight: the bad rows are still reported by
            // their own line, and every good row lands once.
            var invoiceCSV = "customer_id,number,issue_date,amount\n"
            for line in 2...12 {
                invoiceCSV += "\(customerID),\(tag)-INV-\(line),2026-11-0\(line % 9 + 1),\(line == 7 ? "-5" : line == 11 ? "1.234" : "10.00")\n"
            }
            let invoiceFile = home + "/invoices.csv"
            try invoiceCSV.write(toFile: invoiceFile, atomically: true, encoding: .utf8)
            let parallel = try await cli.run(["import", "invoices", invoiceFile, "--batch", "2", "--parallel", "3"])
            #expect(parallel.status == 11, "\(parallel.stderr)")
            #expect(parallel.stdout.contains("imported 9 of 11"))
            #expect(parallel.stderr.contains("line 7:") && parallel.stderr.contains("line 11:"))
            #expect(parallel.stderr.components(separatedBy: "line ").count == 3)
            let listed = try await cli.run(["export", "invoices", "--csv", "--customer", String(customerID)])
            #expect(listed.stdout.components(separatedBy: "\(tag)-INV-").count == 10)
            let exported = try await cli.run(["export", "invoices", "--csv", "--customer", String(customerID)])
            #expect(exported.status == 0)
            #expect(exported.stdout.hasPrefix("id,customer_id,number") && exported.stdout.contains(invoiceNumber))

            let logout = try await cli.run(["logout"])
            #expect(logout.status == 0)
            #expect(try await cli.run(["users", "list"]).status == 4)
        }
    }
}

@Suite("the ashrai CLI: collections")
struct CLICollectionsTests {
    @Test("log a call with a promise, dry-run and run dunning, show and save a letter, open a dispute, create a plan")
    func collectionsTour() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("cli_collections") { port, client, _ in
            let customer = try await client.customer("לקוח בדיקה", language: "he")
            let late = try await client.invoice(customer, "800.00", due: "2026-01-01")
            let other = try await client.invoice(customer, "200.00", due: "2026-01-01")
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let id = customer.intValue.map(String.init) ?? "0"
            let logged = try await cli.run(["log", "call", id, "promised to pay next week", "--promise", "200.00@2026-01-25",
                                            "--invoices", other.intValue.map(String.init) ?? "", "--at", "2026-01-18T09:00:00Z"])
            #expect(logged.status == 0, "\(logged.stderr)")
            #expect(logged.stdout.contains("promise #") && logged.stdout.contains("2026-01-25"))
            let log = try await cli.run(["interactions", id])
            #expect(log.stdout.contains("promised to pay next week"))
            let dry = try await cli.run(["dunning", "run", "--dry-run", "--as-of", "2026-01-20"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("dry run") && dry.stdout.contains("open_promise"))
            let run = try await cli.run(["dunning", "run", "--as-of", "2026-01-20", "--json"])
            let letterID = try #require(try JSONValue.parse(run.stdout)["letters"]?.arrayValue?.first?["letter_id"]?.intValue)
            let shown = try await cli.run(["letters", "show", String(letterID)])
            #expect(shown.stdout.contains("לקוח בדיקה") && shown.stdout.contains("800.00 ₪"))
            let file = home + "/letter.html"
            #expect(try await cli.run(["letters", "show", String(letterID), "--out", file]).status == 0)
            #expect(try String(contentsOfFile: file, encoding: .utf8).contains("dir=\"rtl\""))
            #expect(try await cli.run(["letters", "sent", String(letterID), "--channel", "post"]).status == 0)
            let promises = try await cli.run(["promises", "--as-of", "2026-01-26"])
            #expect(promises.stdout.contains("broken"))
            let dispute = try await cli.run(["disputes", "open", late.intValue.map(String.init) ?? "", "--reason", "short delivery"])
            #expect(dispute.status == 0 && dispute.stdout.contains("open"))
            let plan = try await cli.run(["plans", "create", id, "--invoices", other.intValue.map(String.init) ?? "", "--installments", "3",
                                          "--frequency", "monthly", "--first-due", "2026-02-01"])
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(plan.stdout.contains("proposed") && plan.stdout.contains("66.66") && plan.stdout.contains("66.68"))
            let policy = try await cli.run(["dunning", "policy"])
            #expect(policy.stdout.contains("final_notice") && policy.stdout.contains("the default from Config/"))
            #expect(policy.stdout.contains("CALL FIRST") && policy.stdout.contains("call "), "\(policy.stdout)")
        }
    }
}

@Suite("the ashrai CLI: agencies")
struct CLIAgencyTests {
    @Test("an admin adds an agency, a manager assigns; the agency's own login sees only its assignment and customer")
    func agencyTour() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("cli_agency") { port, client, _ in
            let mine = try await client.customer("Handed Over Ltd")
            let invoice = try await client.invoice(mine, "640.00", due: "2026-01-01")
            let other = try await client.customer("Kept In House Ltd")
            _ = try await client.invoice(other, "10.00", due: "2026-01-01")
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let boss = CLI(port: port, configHome: home + "/boss")
            #expect(try await boss.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let added = try await boss.run(["agencies", "add", "Gvia Partners", "--commission", "18", "--licensed", "--rating", "4", "--json"])
            #expect(added.status == 0, "\(added.stderr)")
            let agency = try #require(try JSONValue.parse(added.stdout)["id"]?.intValue)
            let assigned = try await boss.run(["assign", String(mine.intValue!), "--agency", String(agency), "--invoices", String(invoice.intValue!),
                                               "--notified-on", "2026-02-01"])
            #expect(assigned.status == 0 && assigned.stdout.contains("active"), "\(assigned.stderr)")
            let user = try await AgencyViewTests.makeAgencyUser(&client, port: port, agency: .int(agency))
            let agent = CLI(port: port, configHome: home + "/agent")
            #expect(try await agent.run(["login", "--username", user.username, "--password-stdin"], stdin: user.password + "\n").status == 0)
            let list = try await agent.run(["assignments", "list"])
            #expect(list.status == 0 && list.stdout.contains("Handed Over Ltd") && !list.stdout.contains("Kept In House"))
            let show = try await agent.run(["customers", "show", String(mine.intValue!)])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.contains("Handed Over Ltd") && show.stdout.contains("640.00") && !show.stdout.contains("grade"))
            #expect(try await agent.run(["customers", "show", String(other.intValue!)]).status == 6)   // not found
            #expect(try await agent.run(["agencies", "list"]).status == 5)                               // forbidden
            let statement = try await boss.run(["agencies", "statement", String(agency)])
            #expect(statement.stdout.contains("640.00") && statement.stdout.contains("recovery rate"))

            // KPIs, the trend as bars, the review, training.
            let kpis = try await boss.run(["kpis", "--from", "2026-01-01", "--to", "2026-03-31"])
            #expect(kpis.status == 0 && kpis.stdout.contains("DSO (simple)") && kpis.stdout.contains("credit_sales"), "\(kpis.stderr)")
            let trend = try await boss.run(["kpis", "trend", "--months", "3", "--kpi", "dso_simple"])
            #expect(trend.status == 0 && trend.stdout.split(separator: "\n").count == 4, "\(trend.stdout)")
            let review = try await boss.run(["review", "--as-of", "2026-07-01"])
            #expect(review.status == 0 && review.stdout.contains("invoices 90+ days late"))
            #expect(try await boss.run(["training", "add-course", "COLL-1", "Collections", "--topic", "collections", "--required-for", "clerk"]).status == 0)
            let compliance = try await boss.run(["training", "compliance"])
            #expect(compliance.status == 0 && compliance.stdout.contains("compliance rate"))
        }
    }
}

extension Table {
    /// The display column at which `needle` starts in `line`.
    static func columnStart(of needle: String, in line: String) -> Int? {
        guard let range = line.range(of: needle) else { return nil }
        return line[..<range.lowerBound].count
    }
}

/// The same width rule as the CLI's table (kept here to check alignment from outside).
enum Table {}

@Suite("the ashrai CLI: the first week")
struct CLIFirstWeekTests {
    /// The README's walkthrough ("From a spreadsheet to Ashrai"), its two files as printed there.
    static let customers = """
        code,name,legal_id,email,language,credit_limit,net_days,terms_basis,late_interest_rate
        B-100,מאפיית השכונה בע״מ,520000118,office@bakery.example,he,20000,60,end_of_month,4
        B-200,Corner Café,52-001807-8,,en,5000,30,net,0

        """
    static let opening = """
        customer_code,number,issue_date,due_date,amount,paid_amount
        B-100,OLD-7001,2026-07-10,2026-10-31,18500.00,2500.00
        B-100,OLD-7044,2026-09-02,2026-12-31,9000.00,
        B-200,OLD-7102,2026-08-15,2026-09-14,6200.00,

        """

    @Test("from a new database: customers with terms, opening invoices over the limits, aging shows them, a dry run plans letters")
    func walkthrough() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        // The server's clock fixed on the day the README was written, so "overdue" stays true to it.
        let today = ISO8601DateFormatter().date(from: "2026-11-30T10:00:00Z")!
        try await withCollections("cli_first_week", now: { today }) { port, _, _ in
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)

            let template = try await cli.run(["import", "template", "invoices"])
            #expect(template.stdout.hasPrefix("customer_id,customer_code,number,issue_date,due_date,amount"))
            #expect(template.stdout.contains("paid_amount"))
            let help = try await cli.run(["import", "--help"])
            #expect(help.stdout.contains("terms_basis") && help.stdout.contains("paid_amount") && help.stdout.contains("idempotency_key"))

            try Self.customers.write(toFile: home + "/customers.csv", atomically: true, encoding: .utf8)
            try Self.opening.write(toFile: home + "/opening.csv", atomically: true, encoding: .utf8)
            let customers = try await cli.run(["import", "customers", home + "/customers.csv"])
            #expect(customers.status == 0, "\(customers.stderr)")
            #expect(customers.stdout.contains("imported 2 of 2 customers"))
            // Without --opening the old debts are new credit sales: over the limits, refused by line.
            let asSales = try await cli.run(["import", "invoices", home + "/opening.csv", "--dry-run"])
            #expect(asSales.status == 11)
            #expect(asSales.stderr.contains("line 2:") && asSales.stderr.contains("paid_amount"))
            let opening = try await cli.run(["import", "invoices", home + "/opening.csv", "--opening"])
            #expect(opening.status == 0, "\(opening.stderr)")
            #expect(opening.stdout.contains("imported 3 of 3 invoices"))

            let aging = try await cli.run(["aging"])
            #expect(aging.status == 0, "\(aging.stderr)")
            #expect(aging.stdout.contains("מאפיית השכונה") && aging.stdout.contains("Corner Café"))
            #expect(aging.stdout.contains("31200.00"))   // 16000 + 9000 + 6200
            let terms = try await cli.run(["credit", "terms", "1"])
            #expect(terms.stdout.contains("שוטף + 60") && terms.stdout.contains("import"))
            let dry = try await cli.run(["dunning", "run", "--dry-run"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("dry run"))
            let planned = try await cli.run(["dunning", "run", "--dry-run", "--json"])
            // OLD-7001 (30 days overdue: the final notice) and OLD-7102 (77 days: referral) are acted on;
            // OLD-7044 is not yet due.
            let plan = try JSONValue.parse(planned.stdout)
            let acted = ((plan["letters"]?.arrayValue ?? []) + (plan["referrals"]?.arrayValue ?? [])).flatMap { $0["invoice_ids"]?.arrayValue ?? [] }
            #expect(Set(acted).count == 2, "\(planned.stdout)")
            #expect(plan["letters"]?.arrayValue?.isEmpty == false)
        }
    }
}
