import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PlansCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Propose or agree a plan over open invoices (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Invoice ids, comma-separated.") var invoices: String
    @Option(help: "Number of installments.") var installments: Int
    @Option(help: "weekly, biweekly or monthly.") var frequency: String = "monthly"
    @Option(help: "First installment's date, YYYY-MM-DD.") var firstDue: String
    @Option(help: "Down payment.") var down: String?
    @Option(help: "Annual interest, percent.") var interest: String?
    @Option(help: "Days of grace after an installment's date before the plan is in default.") var grace: Int?
    @Option(help: "The day it was agreed in writing.") var agreedOn: String?
    @Option(help: "The signed document's reference.") var agreementRef: String?
    @Option(help: "Who signed for the customer.") var signedBy: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "invoice_ids": .array(try idList(invoices) ?? []), "installments": .int(installments),
                                  "frequency": .string(frequency), "first_due_on": .string(firstDue)]
        if let down { params["down_payment"] = .string(down) }
        if let interest { params["interest_rate"] = .string(interest) }
        if let grace { params["grace_days"] = .int(grace) }
        if let agreedOn { params["agreed_on"] = .string(agreedOn) }
        if let agreementRef { params["agreement_ref"] = .string(agreementRef) }
        if let signedBy { params["signed_by"] = .string(signedBy) }
        try await options.run { connection in options.show(try await connection.call("plans.create", params), human: planText) }
    }
}
