import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct LettersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Letters, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "pending or sent.") var status: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if let status { params["status"] = .string(status) }
        try await options.run { connection in
            options.show(try await connection.call("letters.list", params)) { r in
                Table(headers: ["ID", "CUSTOMER", "LEVEL", "ACTION", "DATE", "PAY BY", "TOTAL", "LANG", "STATUS"],
                      rows: (r["letters"]?.arrayValue ?? []).map { l in
                          ["id", "customer_name", "level", "action", "as_of", "last_date_to_pay", "total", "language", "status"].map { l[$0]?.cell ?? "-" }
                      }).render()
            }
        }
    }
}
