import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PlansList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Plans, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "proposed, active, completed, defaulted or cancelled.") var status: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if let status { params["status"] = .string(status) }
        try await options.run { connection in
            options.show(try await connection.call("plans.list", params)) { r in
                Table(headers: ["ID", "CUSTOMER", "STATUS", "TOTAL", "PAID", "REMAINING", "INSTALLMENTS", "FREQUENCY", "AGREED"],
                      rows: (r["plans"]?.arrayValue ?? []).map { p in
                          ["id", "customer_id", "status", "total", "paid", "remaining", "installments", "frequency", "agreed_on"].map { p[$0]?.cell ?? "-" }
                      }).render()
            }
        }
    }
}
