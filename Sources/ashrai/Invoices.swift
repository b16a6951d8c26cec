import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai invoices …`.
struct Invoices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invoices: add (the credit decision is made here), list, show, void.",
        subcommands: [InvoicesAdd.self, InvoicesList.self, InvoicesShow.self, InvoicesVoid.self])
}

func invoiceTable(_ invoices: [JSONValue]) -> String {
    Table(headers: ["ID", "NUMBER", "CUSTOMER", "ISSUED", "DUE", "AMOUNT", "OPEN", "CUR", "STATUS"],
          rows: invoices.map { i in ["id", "number", "customer_id", "issue_date", "due_date", "amount", "open_amount", "currency", "status"].map { i[$0]?.cell ?? "-" } }).render()
}

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

struct InvoicesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One invoice with its terms snapshot.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var id: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("invoices.get", ["id": .int(id)])) { i in
                let t = i["terms"] ?? .null
                return invoiceTable([i]) + "\nterms v\(t["version"]?.cell ?? "?"): limit \(t["credit_limit"]?.cell ?? "-"), \(t["terms_basis"]?.stringValue == "end_of_month" ? "end of month +" : "net") \(t["net_days"]?.cell ?? "-") days, late interest \(t["late_interest_rate"]?.cell ?? "-")%/yr"
                    + (i["override_reason"].map { $0 == .null ? "" : "\nover the limit by override: \($0.cell)" } ?? "")
            }
        }
    }
}

struct InvoicesVoid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "void", abstract: "Void an invoice without payments.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var id: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("invoices.void", ["id": .int(id), "reason": .string(reason)])) { invoiceTable([$0]) }
        }
    }
}
