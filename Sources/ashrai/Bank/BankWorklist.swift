import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai bank unmatched`: the worklist with suggestions.
struct BankUnmatched: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unmatched", abstract: "Bank lines waiting for a person, each with what it may be and why.")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("bank.unmatched")) { r in
                (r["transactions"]?.arrayValue ?? []).map { t in
                    var text = "#\(t["id"]?.cell ?? "?") \(t["booking_date"]?.cell ?? "") \(t["amount"]?.cell ?? "") \(t["counterparty_name"]?.cell ?? "-") — \(t["remittance"]?.cell ?? "")"
                    for s in t["suggestions"]?.arrayValue ?? [] {
                        let what = s["action"]?.stringValue == "reverse"
                            ? "reverse payment #\(s["payment_id"]?.cell ?? "?")"
                            : "customer \(s["customer_id"]?.cell ?? "?")" + ((s["invoice_ids"]?.arrayValue ?? []).isEmpty ? "" : " invoices \((s["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ","))")
                        text += "\n    \(s["confidence"]?.cell ?? "?")%  \(what): " + (s["reasons"]?.arrayValue ?? []).map(\.cell).joined(separator: "; ")
                    }
                    return text
                }.joined(separator: "\n")
            }
        }
    }
}

/// `ashrai bank match LINE --customer ID`.
struct BankMatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "match", abstract: "Post a bank credit as a customer's payment (oldest invoices first).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Bank line id.") var line: Int
    @Option(help: "Customer id.") var customer: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("bank.match", ["transaction_id": .int(line), "customer_id": .int(customer)])) { t in
                "line #\(t["id"]?.cell ?? "?") posted as payment #\(t["payment_id"]?.cell ?? "?")"
            }
        }
    }
}

/// `ashrai bank reverse LINE --payment ID`.
struct BankReverse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reverse", abstract: "A debit that returned a payment (a bounced cheque): reverse that payment.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Bank line id.") var line: Int
    @Option(help: "The payment it returns.") var payment: Int
    @Option(help: "A note.") var reason: String?

    func run() async throws {
        var params: JSONObject = ["transaction_id": .int(line), "payment_id": .int(payment)]
        if let reason { params["reason"] = .string(reason) }
        try await options.run { connection in
            options.show(try await connection.call("bank.reverse", params)) { t in "payment #\(t["payment_id"]?.cell ?? "?") reversed (line #\(t["id"]?.cell ?? "?") returned)" }
        }
    }
}

/// `ashrai bank ignore LINE --reason TEXT`.
struct BankIgnore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ignore", abstract: "Take a line that is no customer payment off the worklist.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Bank line id.") var line: Int
    @Option(help: "Why (a fee, a salary, a transfer between accounts).") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("bank.ignore", ["transaction_id": .int(line), "reason": .string(reason)])) { t in
                "line #\(t["id"]?.cell ?? "?") ignored"
            }
        }
    }
}
