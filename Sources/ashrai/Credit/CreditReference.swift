import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CreditReference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reference", abstract: "Record a bureau report, trade or bank reference.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "bureau_report, trade_reference or bank_reference.") var kind: String
    @Option(help: "Who gave it.") var source: String
    @Option(help: "Received on YYYY-MM-DD.") var receivedOn: String
    @Option(help: "1 worst … 5 best.") var rating: Int?
    @Option var notes: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "kind": .string(kind), "source": .string(source), "received_on": .string(receivedOn)]
        if let rating { params["rating"] = .int(rating) }
        if let notes { params["notes"] = .string(notes) }
        try await options.run { connection in
            options.show(try await connection.call("credit.references.add", params)) { "recorded reference #\($0["id"]?.cell ?? "?")" }
        }
    }
}
