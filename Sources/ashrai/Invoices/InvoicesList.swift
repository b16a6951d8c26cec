import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct InvoicesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List invoices.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "open, partially_paid, paid, written_off or void.") var status: String?
    @Option(help: "Only those overdue on this date.") var overdueAsOf: String?
    @Option var limit: Int = 50
    @Option var after: Int?

    func run() async throws {
        var params: JSONObject = ["limit": .int(limit)]
        if let customer { params["customer_id"] = .int(customer) }
        if let status { params["status"] = .string(status) }
        if let overdueAsOf { params["overdue_as_of"] = .string(overdueAsOf) }
        if let after { params["after"] = .int(after) }
        try await options.run { connection in
            options.show(try await connection.call("invoices.list", params)) { result in
                var text = invoiceTable(result["invoices"]?.arrayValue ?? [])
                if let next = result["next_after"]?.intValue { text += "\nmore: --after \(next)" }
                return text
            }
        }
    }
}
