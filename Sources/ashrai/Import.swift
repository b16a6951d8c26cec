import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `ashrai import customers|invoices|payments FILE.csv`, and `ashrai import template KIND`.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a CSV (header row mapped by name): customers, invoices or payments. Bad rows are reported by line; good rows are kept unless --atomic.",
        discussion: columnsHelp,
        subcommands: [ImportFile.self, ImportTemplate.self],
        defaultSubcommand: ImportFile.self)

    /// The columns of each kind, for `--help` (of `import` and of its default subcommand).
    static let columnsHelp = """
            Columns (any order; empty cells are left out; `ashrai import template KIND` writes the header row):
              customers: \(ImportFile.columns[.customers]!.joined(separator: ", "))
                (the terms columns make terms version 1 with reason "import": a manager's or admin's import;
                 terms_basis is net or end_of_month — שוטף + net_days)
              invoices:  \(ImportFile.columns[.invoices]!.joined(separator: ", "))
                (paid_amount only with --opening: existing debts, no credit decision, a manager's or admin's)
              payments:  \(ImportFile.columns[.payments]!.joined(separator: ", "))
                (method: card, bank_transfer, cheque, cash, digital)
            Dates are YYYY-MM-DD, amounts decimal numbers with a dot (1250.00), rates percent (12.5).
            """

    enum Kind: String, ExpressibleByArgument, CaseIterable { case customers, invoices, payments }
}

/// `ashrai import template customers|invoices|payments`: the header row to fill in.
struct ImportTemplate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "Write a CSV header row for customers, invoices or payments to standard output (or --out FILE).")

    @OptionGroup var options: ClientOptions   // accepted like every command's; no server is needed
    @Argument(help: "customers, invoices or payments.") var kind: Import.Kind
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Flag(help: "Start with a BOM so Excel opens the file as UTF-8.") var bom = false

    func run() throws {
        var text = CSV.line(ImportFile.columns[kind]!) + "\r\n"
        if bom { text = "\u{FEFF}" + text }
        if let out {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch { throw ValidationError("cannot write \(out)") }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

/// `ashrai import [file] customers|invoices|payments FILE.csv`.
struct ImportFile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file", abstract: "Import a CSV file (the default: `ashrai import invoices FILE.csv`).",
        discussion: Import.columnsHelp)

    typealias Kind = Import.Kind

    @OptionGroup var options: ClientOptions
    @Argument(help: "customers, invoices or payments.") var kind: Kind
    @Argument(help: "The CSV file (UTF-8; Excel's BOM is fine).") var file: String
    @Flag(help: "Check every row, keep nothing.") var dryRun = false
    @Flag(help: "All or nothing: one bad row keeps the whole batch out.") var atomic = false
    @Flag(help: "Invoices only: opening balances — debts the business already has, recorded as they are (no credit decision; a hold does not block them; paid_amount allowed). Manager or admin.")
    var opening = false
    @Option(help: "Rows per call (1–5000).") var batch: Int = 1000
    @Option(help: "Calls in flight at once, each on its own connection (1–8). Batches may then commit in any order, so with a tight credit limit which row is refused can differ between runs; use 1 for file order.")
    var parallel: Int = 4

    static let columns: [Kind: [String]] = [
        .customers: ["code", "name", "legal_id", "email", "phone", "address", "preferred_channel", "language", "notes",
                     "credit_limit", "net_days", "terms_basis", "late_interest_rate", "early_discount_rate", "early_discount_days",
                     "allow_duplicate_legal_id", "duplicate_reason"],
        .invoices: ["customer_id", "customer_code", "number", "issue_date", "due_date", "amount", "currency", "description", "paid_amount"],
        .payments: ["customer_id", "customer_code", "amount", "method", "received_on", "reference", "currency", "idempotency_key"],
    ]
    static let integerColumns: Set<String> = ["customer_id", "net_days", "early_discount_days"]
    static let booleanColumns: Set<String> = ["allow_duplicate_legal_id"]

    func validate() throws {
        guard (1...5000).contains(batch) else { throw ValidationError("--batch must be 1–5000") }
        guard (1...8).contains(parallel) else { throw ValidationError("--parallel must be 1–8") }
        if opening && kind != .invoices { throw ValidationError("--opening is for invoices") }
    }

    func run() async throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError("cannot read \(file)") }
        let records: [CSV.Record]
        do { records = try CSV.parse(data) } catch { throw ValidationError("\(error)") }
        guard let header = records.first else { throw ValidationError("\(file) is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = Self.columns[kind]!
        if let unknown = names.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown column \"\(unknown)\"; \(kind.rawValue) take: \(known.joined(separator: ", "))")
        }
        let rows: [(line: Int, object: JSONObject)] = records.dropFirst().map { record in
            var object = JSONObject()
            for (index, name) in names.enumerated() where index < record.fields.count {
                let value = record.fields[index]
                if value.isEmpty { continue }
                if Self.integerColumns.contains(name), let number = Int(value.trimmingCharacters(in: .whitespaces)) {
                    object[name] = .int(number)
                } else if Self.booleanColumns.contains(name), let flag = Self.boolean(value) {
                    object[name] = .bool(flag)
                } else {
                    object[name] = .string(value)
                }
            }
            return (record.line, object)
        }
        // All or nothing holds within one call, so --atomic sends the file as one batch.
        if atomic && rows.count > 5000 {
            throw ValidationError("--atomic covers one call: at most 5000 rows (this file has \(rows.count))")
        }
        let batchSize = atomic ? 5000 : batch
        let progress = ImportProgress(total: rows.count, visible: isatty(STDERR_FILENO) == 1)
        let batches = stride(from: 0, to: rows.count, by: batchSize).map { Array(rows[$0..<min($0 + batchSize, rows.count)]) }
        let method = "\(kind.rawValue).import"
        let flags: JSONObject = opening ? ["dry_run": .bool(dryRun), "atomic": .bool(atomic), "opening": true]
                                        : ["dry_run": .bool(dryRun), "atomic": .bool(atomic)]
        let started = ContinuousClock.now
        // Workers take the next batch until none is left; each result is kept with its batch.
        let answers = try await withThrowingTaskGroup(of: [(batch: Int, result: JSONValue)].self) { group in
            for _ in 0..<max(1, min(parallel, batches.count)) {
                group.addTask { [options] in
                    var mine: [(batch: Int, result: JSONValue)] = []
                    try await options.run { connection in
                        while let index = await progress.nextBatch(of: batches.count) {
                            var params = flags
                            params["rows"] = .array(batches[index].map { .object($0.object) })
                            mine.append((index, try await connection.call(method, params)))
                            await progress.advance(by: batches[index].count)
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        var created = 0
        var failures: [(line: Int, message: String)] = []
        for (index, result) in answers {
            created += result["created"]?.intValue ?? 0
            for item in result["results"]?.arrayValue ?? [] where item["ok"] != true {
                var message = item["error"]?["message"]?.stringValue ?? "failed"
                if let field = item["error"]?["data"]?["field"]?.stringValue { message += " (\(field))" }
                if let rule = item["error"]?["data"]?["rule"]?.stringValue { message += " (rule \(rule))" }
                failures.append((batches[index][item["index"]?.intValue ?? 0].line, message))
            }
        }
        failures.sort { $0.line < $1.line }
        await progress.finish()
        for failure in failures {
            FileHandle.standardError.write(Data("line \(failure.line): \(failure.message)\n".utf8))
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let verb = dryRun ? "checked" : (atomic && !failures.isEmpty ? "nothing imported;" : "imported")
        print("\(verb) \(dryRun ? rows.count - failures.count : created) of \(rows.count) \(kind.rawValue), \(failures.count) failed, in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", Double(rows.count) / max(seconds, 0.001))) rows/s)")
        if !failures.isEmpty { throw ExitCode(11) }
    }

    /// yes/no, true/false, 1/0 (a spreadsheet's ways of writing a flag).
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "1", "y", "כן": return true
        case "false", "no", "0", "n", "לא": return false
        default: return nil
        }
    }
}

/// Hands out batch numbers to the import's workers and draws the progress bar on a terminal.
actor ImportProgress {
    let total: Int
    let visible: Bool
    private var done = 0
    private var next = 0

    init(total: Int, visible: Bool) {
        self.total = total
        self.visible = visible
    }

    func nextBatch(of count: Int) -> Int? {
        guard next < count else { return nil }
        defer { next += 1 }
        return next
    }

    func advance(by rows: Int) {
        done += rows
        guard visible else { return }
        let width = 30
        let filled = total == 0 ? width : width * done / total
        FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)".utf8))
    }

    func finish() {
        if visible { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// `ashrai export aging|invoices|statement --csv`.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export aging, invoices or a statement as CSV (UTF-8) to standard output.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case aging, invoices, statement }

    @OptionGroup var options: ClientOptions
    @Argument(help: "aging, invoices or statement.") var kind: Kind
    @Flag(help: "CSV (the only format).") var csv = false
    @Option(help: "Customer id (statement; optional filter for invoices and aging).") var customer: Int?
    @Option(help: "As of YYYY-MM-DD (aging, statement).") var asOf: String?
    @Flag(help: "Start with a BOM so Excel reads UTF-8.") var bom = false

    func run() async throws {
        var lines: [String] = []
        try await options.run { connection in
            switch kind {
            case .aging:
                var params: JSONObject = [:]
                if let asOf { params["as_of"] = .string(asOf) }
                if let customer { params["customer_id"] = .int(customer) }
                var offset: Int? = 0
                while let current = offset {
                    params["limit"] = 10_000
                    params["offset"] = .int(current)
                    let report = try await connection.call("reports.aging", params)
                    let labels = (report["buckets"]?.arrayValue ?? []).map(\.cell)
                    if current == 0 { lines.append(CSV.line(["customer_id", "code", "name"] + labels + ["total", "invoices"])) }
                    for row in report["rows"]?.arrayValue ?? [] {
                        lines.append(CSV.line([row["customer_id"]?.cell ?? "", row["code"]?.cell ?? "", row["name"]?.cell ?? ""]
                            + labels.map { row["amounts"]?[$0]?.cell ?? "0.00" } + [row["total"]?.cell ?? "", row["invoices"]?.cell ?? ""]))
                    }
                    offset = report["next_offset"]?.intValue
                }
            case .invoices:
                let columns = ["id", "customer_id", "number", "issue_date", "due_date", "amount", "currency", "open_amount", "status", "description"]
                lines.append(CSV.line(columns))
                var after: Int?
                while true {
                    var params: JSONObject = ["limit": 500]
                    if let after { params["after"] = .int(after) }
                    if let customer { params["customer_id"] = .int(customer) }
                    let page = try await connection.call("invoices.list", params)
                    for invoice in page["invoices"]?.arrayValue ?? [] {
                        lines.append(CSV.line(columns.map { invoice[$0].map { $0 == .null ? "" : $0.cell } ?? "" }))
                    }
                    guard let next = page["next_after"]?.intValue else { break }
                    after = next
                }
            case .statement:
                guard let customer else { throw ValidationError("--customer is required for a statement") }
                var params: JSONObject = ["customer_id": .int(customer)]
                if let asOf { params["as_of"] = .string(asOf) }
                let statement = try await connection.call("statements.get", params)
                lines.append(CSV.line(["date", "kind", "reference", "description", "debit", "credit", "balance"]))
                lines.append(CSV.line(["", "opening", "", "opening balance", "", "", statement["opening_balance"]?.cell ?? "0.00"]))
                for line in statement["lines"]?.arrayValue ?? [] {
                    lines.append(CSV.line(["date", "kind", "reference", "description", "debit", "credit", "balance"].map { line[$0]?.cell ?? "" }))
                }
                lines.append(CSV.line(["", "closing", "", "closing balance", "", "", statement["closing_balance"]?.cell ?? "0.00"]))
            }
        }
        var output = lines.joined(separator: "\r\n") + "\r\n"
        if bom { output = "\u{FEFF}" + output }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
