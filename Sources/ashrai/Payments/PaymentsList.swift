import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PaymentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List payments.")
    @OptionGroup var options: ClientOptions
    @Option var customer: Int?
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD.") var to: String?
    @Option var limit: Int = 50
    @Option var after: Int?

    func run() async throws {
        var params: JSONObject = ["limit": .int(limit)]
        if let customer { params["customer_id"] = .int(customer) }
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        if let after { params["after"] = .int(after) }
        try await options.run { connection in
            options.show(try await connection.call("payments.list", params)) { result in
                Table(headers: ["ID", "CUSTOMER", "RECEIVED", "AMOUNT", "CUR", "METHOD", "UNAPPLIED", "STATUS"],
                      rows: (result["payments"]?.arrayValue ?? []).map { p in
                          ["id", "customer_id", "received_on", "amount", "currency", "method", "unapplied", "status"].map { p[$0]?.cell ?? "-" }
                      }).render() + (result["next_after"]?.intValue.map { "\nmore: --after \($0)" } ?? "")
            }
        }
    }
}
