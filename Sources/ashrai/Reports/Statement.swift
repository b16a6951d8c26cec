import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai statement CUSTOMER [--send]`.
struct Statement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A customer's statement: opening balance, movements, interest, closing balance.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD.") var to: String?
    @Option(help: "Interest as of YYYY-MM-DD (default: to).") var asOf: String?
    @Flag(help: "Send the customer a statement of its open invoices (as of --as-of, default today) by e-mail, else post.") var send = false

    func run() async throws {
        if send {
            var params: JSONObject = ["customer_id": .int(customer)]
            if let asOf { params["as_of"] = .string(asOf) }
            try await options.run { connection in
                options.show(try await connection.call("statements.send", params)) { letter in
                    "statement letter #\(letter["id"]?.cell ?? "?") to \(letter["customer_name"]?.cell ?? "?") queued for delivery"
                        + " (total \(letter["total"]?.cell ?? "0.00")); see `ashrai outbox`"
                }
            }
            return
        }
        var params: JSONObject = ["customer_id": .int(customer)]
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("statements.get", params)) { s in
                var text = "statement for \(s["customer"]?["name"]?.cell ?? "?") to \(s["to"]?.cell ?? "?")"
                    + (s["terms"]?["description"].map { " — terms \($0.cell)" } ?? "") + "\n"
                text += "opening balance \(s["opening_balance"]?.cell ?? "0.00")\n"
                text += Table(headers: ["DATE", "KIND", "REF", "DESCRIPTION", "DEBIT", "CREDIT", "BALANCE"],
                              rows: (s["lines"]?.arrayValue ?? []).map { l in
                                  ["date", "kind", "reference", "description", "debit", "credit", "balance"].map { l[$0]?.cell ?? "-" }
                              }).render()
                text += "\nclosing balance \(s["closing_balance"]?.cell ?? "0.00")"
                text += "\naccrued late interest (not in the balance) \(s["accrued_interest"]?["total"]?.cell ?? "0.00")"
                return text
            }
        }
    }
}
