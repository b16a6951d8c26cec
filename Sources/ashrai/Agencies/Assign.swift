import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai assign CUSTOMER --agency ID --invoices … --notified-on DATE`.
struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hand a customer's overdue invoices to an agency (manager); pending until the customer is told.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Agency id.") var agency: Int
    @Option(help: "Invoice ids, comma-separated.") var invoices: String
    @Option(help: "The day the customer was told of the transfer (without it the assignment stays pending).") var notifiedOn: String?
    @Option(help: "The logged interaction in which the customer was told.") var interaction: Int?
    @Option(help: "Notes.") var notes: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "agency_id": .int(agency), "invoice_ids": .array(try idList(invoices) ?? [])]
        if let notifiedOn { params["customer_notified_on"] = .string(notifiedOn) }
        if let interaction { params["notification_interaction_id"] = .int(interaction) }
        if let notes { params["notes"] = .string(notes) }
        try await options.run { connection in options.show(try await connection.call("assignments.create", params)) { assignmentTable([$0]) } }
    }
}
