import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct WriteoffsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Write off an invoice's open remainder (or --amount).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var invoice: Int
    @Option(help: "Why.") var reason: String
    @Option(help: "Part of the open amount.") var amount: String?

    func run() async throws {
        var params: JSONObject = ["invoice_id": .int(invoice), "reason": .string(reason)]
        if let amount { params["amount"] = .string(amount) }
        try await options.run { connection in
            options.show(try await connection.call("writeoffs.create", params)) { r in
                "wrote off \(r["writeoff"]?["amount"]?.cell ?? "?") of invoice \(r["invoice"]?["number"]?.cell ?? "?"); status \(r["invoice"]?["status"]?.cell ?? "?")"
            }
        }
    }
}
