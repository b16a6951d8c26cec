import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai promises`.
struct Promises: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Promises to pay and whether they were kept, as of a date.")
    @OptionGroup var options: ClientOptions
    @Option(help: "open, kept or broken.") var status: String?
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?
    @Option(help: "Only this customer.") var customer: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let status { params["status"] = .string(status) }
        if let asOf { params["as_of"] = .string(asOf) }
        if let customer { params["customer_id"] = .int(customer) }
        try await options.run { connection in
            options.show(try await connection.call("promises.list", params)) { r in
                Table(headers: ["ID", "CUSTOMER", "AMOUNT", "MADE", "DUE", "PAID", "STATUS", "BY"],
                      rows: (r["promises"]?.arrayValue ?? []).map { p in
                          ["id", "customer_name", "amount", "promised_on", "due_on", "paid_in_window", "status", "created_by"].map { p[$0]?.cell ?? "-" }
                      }).render()
            }
        }
    }
}
