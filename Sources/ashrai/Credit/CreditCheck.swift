import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CreditCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "May this amount be given on credit now?")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "Amount, e.g. 2500.00.") var amount: String

    func run() async throws {
        try await options.run { connection in
            let result = try await connection.call("credit.check", ["customer_id": .int(customer), "amount": .string(amount)])
            options.show(result) { r in
                let verdict = r["allowed"] == true ? "ALLOWED" : "REFUSED"
                let reasons = (r["reasons"]?.arrayValue ?? []).map { "  - " + $0.cell }.joined(separator: "\n")
                return "\(verdict): limit \(r["credit_limit"]?.cell ?? "-"), exposure \(r["exposure"]?.cell ?? "-"), available \(r["available"]?.cell ?? "-")"
                    + (reasons.isEmpty ? "" : "\n" + reasons)
            }
            if result["allowed"] != true { throw ExitCode(8) }
        }
    }
}
