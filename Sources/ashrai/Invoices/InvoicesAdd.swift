import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct InvoicesAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Issue an invoice.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "Invoice number.") var number: String
    @Argument(help: "Amount, e.g. 1250.00.") var amount: String
    @Option(help: "Issue date YYYY-MM-DD (default today).") var issueDate: String?
    @Option(help: "Due date (default: issue date + the customer's net days).") var dueDate: String?
    @Option var currency: String?
    @Option var description: String?
    @Option(help: "Exceed the credit limit (manager), with the reason.") var overrideReason: String?
    @Option(help: "Idempotency key (default: generated, so a retry of this command is safe).") var idempotencyKey: String?

    func run() async throws {
        let today: String = {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "yyyy-MM-dd"
            return formatter.string(from: Date())
        }()
        var params: JSONObject = ["customer_id": .int(customer), "number": .string(number), "amount": .string(amount),
                                  "issue_date": .string(issueDate ?? today),
                                  "idempotency_key": .string(idempotencyKey ?? UUID().uuidString)]
        if let dueDate { params["due_date"] = .string(dueDate) }
        if let currency { params["currency"] = .string(currency) }
        if let description { params["description"] = .string(description) }
        if let overrideReason { params["override_reason"] = .string(overrideReason) }
        try await options.run { connection in
            options.show(try await connection.call("invoices.create", params)) { invoiceTable([$0]) }
        }
    }
}
