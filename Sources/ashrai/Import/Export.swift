import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser
import Foundation
import Glibc

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
