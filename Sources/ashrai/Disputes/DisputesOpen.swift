import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct DisputesOpen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open", abstract: "Open a dispute on an invoice.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var invoice: Int
    @Option(help: "What the customer contests.") var reason: String
    @Option(help: "The disputed amount (default: the whole open amount).") var amount: String?

    func run() async throws {
        var params: JSONObject = ["invoice_id": .int(invoice), "reason": .string(reason)]
        if let amount { params["amount"] = .string(amount) }
        try await options.run { connection in
            options.show(try await connection.call("disputes.open", params)) { disputeTable([$0]) }
        }
    }
}
