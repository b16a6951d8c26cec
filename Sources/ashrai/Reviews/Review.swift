import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai review`.
struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The periodic audit of the credit process: what needs attention.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD.") var asOf: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("reports.review", params)) { r in
                func section(_ title: String, _ key: String, _ fields: [String]) -> String {
                    let items = r[key]?.arrayValue ?? []
                    return "\(title): \(items.count)" + (items.isEmpty ? "" : "\n" + Table(headers: fields.map { $0.uppercased() },
                                                                                           rows: items.map { i in fields.map { i[$0]?.cell ?? "-" } }).render())
                }
                return [
                    section("reviews overdue", "reviews_overdue", ["customer_id", "name", "next_review_on"]),
                    section("over the limit by override", "over_limit_by_override", ["customer_id", "name", "exposure", "credit_limit"]),
                    section("holds older than \(r["holds_older_than_days"]?.cell ?? "?") days", "old_holds", ["customer_id", "name", "on_hold_since"]),
                    section("broken promises without follow-up", "broken_promises_without_follow_up", ["customer_name", "amount", "due_on"]),
                    section("invoices 90+ days late, no contact in 14 days", "invoices_90_plus_without_contact_in_14_days",
                            ["number", "name", "days_overdue", "open_amount"]),
                    section("agencies", "agencies", ["name", "assigned", "collected", "recovery_rate"]),
                    section("staff missing required training", "staff_missing_training", ["username", "course", "status"]),
                    "messages that did not reach customers: \(r["messages"]?["failed"]?.cell ?? "0") failed, "
                        + "\(r["messages"]?["unknown"]?.cell ?? "0") unknown (ashrai outbox --state unknown), "
                        + "\(r["messages"]?["retrying"]?.cell ?? "0") retrying; \(r["messages"]?["refused_addresses"]?.cell ?? "0") e-mail addresses refused",
                ].joined(separator: "\n\n")
            }
        }
    }
}
