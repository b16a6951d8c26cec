import AshraiClient
import AshraiCore
import AshraiProtocol
import Foundation
import Logging
import Postgres

/// `ashrai-bench --bank DIR`: statements generated from the bench ledger (camt.053 and MT940, the
/// same number of lines each, in daily files as banks deliver them), imported through the daemon —
/// a dry run first (parse and duplicate check), then for real (parse, match, post) — lines/s each.
struct BankBench {
    let endpoint: ServerEndpoint
    let username: String
    let password: String
    let sampleURL: String
    let directory: String
    let lines: Int
    let linesPerFile: Int

    /// One generated line: what the statement says, and what a perfect matcher would do with it.
    struct Line {
        var amount: Decimal
        var payer: String
        var account: String
        var text: String
        var reference: String
        /// Names an open invoice by number with its exact amount: should be posted without a person.
        var expectsPost: Bool
    }

    struct Result {
        var format: String
        var files: Int
        var lines: Int
        var dryRun: Duration
        var real: Duration
        var posted: Int
        var expected: Int
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresClient(configuration: try PostgresConfiguration(url: sampleURL), maxConnections: 1, logger: logger)
        // Open invoices, two disjoint samples (one per format), with their customer.
        let sample = try await pool.query("""
            SELECT i.id, i.number, i.amount - i.paid_amount AS open, c.id AS customer_id, c.name, c.code
            FROM invoices i JOIN customers c ON c.id = i.customer_id
            WHERE i.status = 'open' AND i.number LIKE 'N%' ORDER BY md5(i.id::text) LIMIT \(lines * 2)
            """).map { row in
            (invoiceID: try row.decode(Int64.self, column: "id"), number: try row.decode(String.self, column: "number"),
             open: try row.decode(Decimal.self, column: "open"), customerID: try row.decode(Int64.self, column: "customer_id"),
             name: try row.decode(String.self, column: "name"), code: try row.decode(String?.self, column: "code") ?? "")
        }
        await pool.shutdown()
        guard sample.count >= lines * 2 else { throw BenchError("the ledger has \(sample.count) open invoices; \(lines * 2) needed") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var results: [Result] = []
        for (index, format) in ["camt053", "mt940"].enumerated() {
            let invoices = sample[(index * lines)..<((index + 1) * lines)]
            var generated: [Line] = []
            for (n, invoice) in invoices.enumerated() {
                let noise = ["", "תשלום ", "PMT ", "העברה ", "REF/"][n % 5]
                switch n % 20 {
                case 0..<12:   // 60 %: the invoice number, with the bank's noise, and its amount
                    let written = [invoice.number, "INV " + invoice.number, invoice.number.replacingOccurrences(of: "N", with: "N-"), "חשבונית " + invoice.number][n % 4]
                    generated.append(Line(amount: invoice.open, payer: invoice.name, account: "IL\(index + 1)\(100_000 + n)", text: noise + written,
                                          reference: "\(format.uppercased())-\(n)", expectsPost: true))
                case 12..<15:  // 15 %: the customer's code and the amount of one of its invoices
                    generated.append(Line(amount: invoice.open, payer: invoice.name, account: "IL\(index + 1)\(100_000 + n)", text: noise + invoice.code,
                                          reference: "\(format.uppercased())-\(n)", expectsPost: false))
                case 15..<18:  // 15 %: only a name, a round amount
                    generated.append(Line(amount: Decimal(100 * (1 + n % 50)), payer: invoice.name, account: "IL\(index + 1)\(100_000 + n)", text: "transfer",
                                          reference: "\(format.uppercased())-\(n)", expectsPost: false))
                default:       // 10 %: money out (fees, suppliers)
                    generated.append(Line(amount: -Decimal(10 + n % 90), payer: "", account: "", text: "עמלה",
                                          reference: "\(format.uppercased())-\(n)", expectsPost: false))
                }
            }
            var files: [String] = []
            // camt.053 in daily files of at most 20,000 entries (the XML parser takes 10 MB at once); MT940 as asked.
            let perFile = format == "camt053" ? min(linesPerFile, 20_000) : linesPerFile
            for (part, start) in stride(from: 0, to: generated.count, by: perFile).enumerated() {
                let chunk = Array(generated[start..<min(start + perFile, generated.count)])
                let path = "\(directory)/\(format)-\(part).\(format == "camt053" ? "xml" : "sta")"
                let text = format == "camt053" ? Self.camt(chunk, part: part) : Self.mt940(chunk, part: part)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                files.append(path)
            }
            let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
            print("\(format): \(generated.count) lines in \(files.count) files, \(bytes / 1_048_576) MiB")
            let clock = ContinuousClock()
            var posted = 0
            let dry = try await clock.measure {
                try await RPCConnection.with(endpoint) { connection in
                    _ = try await connection.call("auth.login", ["username": .string(username), "password": .string(password)])
                    for file in files {
                        let reply = try await connection.call("bank.statements.import", ["format": .string(format), "content": .string(try String(contentsOfFile: file, encoding: .utf8)), "dry_run": true])
                    }
                }
            }
            let real = try await clock.measure {
                try await RPCConnection.with(endpoint) { connection in
                    _ = try await connection.call("auth.login", ["username": .string(username), "password": .string(password)])
                    for file in files {
                        let reply = try await connection.call("bank.statements.import", ["format": .string(format), "content": .string(try String(contentsOfFile: file, encoding: .utf8))])
                        posted += reply["posted"]?.intValue ?? 0
                        let result = reply
                        print("  \(file.split(separator: "/").last ?? ""): \(result["lines"]?.intValue ?? 0) lines, \(result["new"]?.intValue ?? 0) new, \(result["posted"]?.intValue ?? 0) posted")
                        if result["posted"]?.intValue == 0, let first = result["transactions"]?.arrayValue?.first { print("  first line: \(first.encoded())") }
                    }
                }
            }
            let expected = generated.filter(\.expectsPost).count
            results.append(Result(format: format, files: files.count, lines: generated.count, dryRun: dry, real: real,
                                  posted: posted, expected: expected))
        }
        // Wrong automatic posts: a line posted to another customer than the invoice it was generated from.
        let check = PostgresClient(configuration: try PostgresConfiguration(url: sampleURL), maxConnections: 1, logger: logger)
        let wrong = try await check.query("""
            SELECT count(*) FROM bank_transactions t JOIN payments p ON p.id = t.payment_id JOIN customers c ON c.id = p.customer_id
            WHERE t.status = 'posted' AND t.counterparty_name IS NOT NULL AND t.counterparty_name <> c.name
            """).scalar(Int.self)
        await check.shutdown()
        print("")
        print("| statement | lines | parse + dedupe (dry run) lines/s | parse + match + post lines/s | posted | of which expected | wrong customer |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for (index, r) in results.enumerated() {
            let wrongText = index == results.count - 1 ? String(wrong) + " (both)" : ""
            let rate = { (d: Duration) in Int(Double(r.lines) * 1000 / Bench.milliseconds(d)) }
            print("| \(r.format) (\(r.files) files) | \(r.lines) | \(rate(r.dryRun)) | \(rate(r.real)) | \(r.posted) | \(r.expected) | \(wrongText) |")
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func amountText(_ amount: Decimal, comma: Bool = false) -> String {
        let text = Money(abs(amount), .ils).text
        return comma ? text.replacingOccurrences(of: ".", with: ",") : text
    }

    /// A camt.053.001.02 statement of one day (test data written from a template; the daemon parses it with SWXMLHash).
    static func camt(_ lines: [Line], part: Int) -> String {
        let day = "2026-11-\(String(format: "%02d", 1 + part % 28))"
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
            <GrpHdr><MsgId>BENCH-\(part)</MsgId><CreDtTm>\(day)T18:00:00</CreDtTm></GrpHdr>
            <Stmt><Id>BENCH-\(part)</Id><Acct><Id><IBAN>IL620108000000099999999</IBAN></Id><Ccy>ILS</Ccy></Acct>

            """
        for line in lines {
            let party = line.amount > 0
                ? "<RltdPties><Dbtr><Nm>\(escape(line.payer))</Nm></Dbtr><DbtrAcct><Id><Othr><Id>\(line.account)</Id></Othr></Id></DbtrAcct></RltdPties>" : ""
            out += """
                <Ntry><Amt Ccy="ILS">\(amountText(line.amount))</Amt><CdtDbtInd>\(line.amount > 0 ? "CRDT" : "DBIT")</CdtDbtInd><Sts>BOOK</Sts>\
                <BookgDt><Dt>\(day)</Dt></BookgDt><ValDt><Dt>\(day)</Dt></ValDt><AcctSvcrRef>\(line.reference)</AcctSvcrRef>\
                <NtryDtls><TxDtls>\(party)<RmtInf><Ustrd>\(escape(line.text))</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>

                """
        }
        return out + "</Stmt></BkToCstmrStmt></Document>\n"
    }

    /// An MT940 statement of one day.
    static func mt940(_ lines: [Line], part: Int) -> String {
        let day = "2611\(String(format: "%02d", 1 + part % 28))"
        var out = ":20:BENCH\(part)\n:25:IL620108000000099999999\n:28C:\(part)/1\n:60F:C\(day)ILS0,00\n"
        for line in lines {
            out += ":61:\(day)\(day.suffix(4))\(line.amount > 0 ? "C" : "D")\(amountText(line.amount, comma: true))NTRFNONREF//\(line.reference)\n"
            out += line.amount > 0 ? ":86:?20\(line.text)?32\(line.payer)?31\(line.account)\n" : ":86:\(line.text)\n"
        }
        return out + ":62F:C\(day)ILS0,00\n-\n"
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
