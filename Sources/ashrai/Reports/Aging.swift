import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai aging`.
struct Aging: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Receivables by days past due, per customer, with totals.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?
    @Option(help: "Bucket bounds in days, e.g. 30,60,90.") var buckets: String?
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "Only invoices at least this many days past due.") var minOverdueDays: Int?
    @Option(help: "Customer rows per page.") var limit: Int = 100
    @Option(help: "Skip this many customer rows (from the previous page).") var offset: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        if let buckets {
            let bounds = buckets.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard bounds.allSatisfy({ $0 != nil }) else { throw ValidationError("--buckets takes day counts like 30,60,90") }
            params["buckets"] = .array(bounds.map { .int($0!) })
        }
        if let customer { params["customer_id"] = .int(customer) }
        if let minOverdueDays { params["min_overdue_days"] = .int(minOverdueDays) }
        params["limit"] = .int(limit)
        if let offset { params["offset"] = .int(offset) }
        try await options.run { connection in
            options.show(try await connection.call("reports.aging", params)) { report in
                let labels = (report["buckets"]?.arrayValue ?? []).map(\.cell)
                var rows = (report["rows"]?.arrayValue ?? []).map { row in
                    [row["code"]?.cell ?? "-", row["name"]?.cell ?? "-"] + labels.map { row["amounts"]?[$0]?.cell ?? "0.00" }
                        + [row["total"]?.cell ?? "-", row["invoices"]?.cell ?? "-"]
                }
                let totals = report["totals"] ?? .null
                rows.append(["", "TOTAL"] + labels.map { totals["amounts"]?[$0]?.cell ?? "0.00" } + [totals["total"]?.cell ?? "-", totals["invoices"]?.cell ?? "-"])
                return "aging as of \(report["as_of"]?.cell ?? "?")\n"
                    + Table(headers: ["CODE", "CUSTOMER"] + labels.map { $0.uppercased() } + ["TOTAL", "INVOICES"], rows: rows).render()
                    + (report["next_offset"]?.intValue.map { "\nmore customers: --offset \($0)" } ?? "")
            }
        }
    }
}
