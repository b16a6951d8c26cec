import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai today`: whom to call today, the biggest expected loss first.
struct Today: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Whom to call today: customers with money overdue or a task due, the biggest expected loss first, with why and what to do.")
    @OptionGroup var options: ClientOptions
    @Option(help: "One owner's portfolio (a user id; managers).") var owner: Int?
    @Flag(help: "The customers nobody owns (managers).") var unowned = false
    @Option(help: "At most this many rows (default 50).") var limit: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let owner { params["owner_id"] = .int(owner) }
        if unowned { params["unowned"] = true }
        if let limit { params["limit"] = .int(limit) }
        try await options.run { connection in
            options.show(try await connection.call("worklist.today", params)) { result in
                let rows = result["rows"]?.arrayValue ?? []
                var text = Table(headers: ["#", "CUSTOMER", "OVERDUE", "DAYS", "P", "EXPECTED LOSS", "NEXT", "WHY", "LAST CONTACT"],
                                 rows: rows.enumerated().map { index, r in
                                     [String(index + 1), "\(r["customer_name"]?.cell ?? "-") (#\(r["customer_id"]?.cell ?? "-"))",
                                      r["overdue"]?.cell ?? "-", r["days_past_due"]?.cell ?? "-", r["probability"]?.cell ?? "-",
                                      r["expected_loss"]?.cell ?? "-", r["next_action"]?.cell ?? "-", r["reason"]?.cell ?? "-",
                                      r["last_contact"].flatMap { $0.isNull ? nil : "\($0["occurred_at"]?.cell.prefix(10) ?? "") \($0["kind"]?.cell ?? "")" } ?? "-"]
                                 }).render()
                text += "\n\n\(result["customers"]?.cell ?? "0") customer(s) on the list as of \(result["as_of"]?.cell ?? "?"); expected loss \(result["expected_loss"]?.cell ?? "0")"
                return text
            }
        }
    }
}
