import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser
import Foundation
import Glibc

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
        .payments: ["customer_id", "customer_code", "amount", "method", "received_on", "reference", "currency", "idempotency_key"]
            + chequeColumns.map(\.column),
    ]
    static let integerColumns: Set<String> = ["customer_id", "net_days", "early_discount_days"]
    /// A payment row's cheque columns, and the field of payments.record's `cheque` each fills.
    static let chequeColumns: [(column: String, field: String)] = [
        ("cheque_number", "number"), ("cheque_bank", "bank"), ("cheque_branch", "branch"), ("cheque_account", "account"), ("value_date", "value_date"),
    ]

    /// A payment row with cheque columns carries them as payments.record's `cheque` object (a value date still
    /// to come holds the cheque in hand); a row with some but not all of them is left for the server to refuse.
    static func nestCheque(_ row: JSONObject) -> JSONObject {
        var row = row
        var cheque = JSONObject()
        for (column, field) in chequeColumns {
            if let value = row[column] { cheque[field] = value; row[column] = nil }
        }
        if cheque.count > 0 { row["cheque"] = .object(cheque) }
        return row
    }
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
            return (record.line, kind == .payments ? Self.nestCheque(object) : object)
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
