import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PaymentsRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Record money received.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "Amount, e.g. 980.00.") var amount: String
    @Option(help: "card, bank_transfer, cheque, cash or digital.") var method: String
    @Option(help: "Received on YYYY-MM-DD.") var receivedOn: String
    @Option(help: "Cheque number, transfer reference, …") var reference: String?
    @Option(help: "Allocate INVOICE_ID=AMOUNT (repeatable); default: oldest due first.") var allocate: [String] = []
    @Option(help: "Idempotency key (default: generated, so a retry of this command is safe).") var idempotencyKey: String?
    @Option(help: "Money a collection agency collected under this assignment.") var viaAssignment: Int?
    @Option(help: "Cheque: its number (with --cheque-bank, --cheque-branch, --cheque-account and --value-date).") var chequeNumber: String?
    @Option(help: "Cheque: the bank's code (10 Leumi, 12 Hapoalim, …).") var chequeBank: String?
    @Option(help: "Cheque: the branch.") var chequeBranch: String?
    @Option(help: "Cheque: the account.") var chequeAccount: String?
    @Option(help: "Cheque: the date written on it, YYYY-MM-DD; a later date than today holds it in hand until then.") var valueDate: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "amount": .string(amount), "method": .string(method),
                                  "received_on": .string(receivedOn), "idempotency_key": .string(idempotencyKey ?? UUID().uuidString)]
        if let reference { params["reference"] = .string(reference) }
        if let viaAssignment { params["via_assignment_id"] = .int(viaAssignment) }
        if let lines = try allocationParams(allocate) { params["allocations"] = lines }
        let cheque = [chequeNumber, chequeBank, chequeBranch, chequeAccount, valueDate]
        if cheque.contains(where: { $0 != nil }) {
            guard let chequeNumber, let chequeBank, let chequeBranch, let chequeAccount, let valueDate else {
                throw ValidationError("a cheque needs --cheque-number, --cheque-bank, --cheque-branch, --cheque-account and --value-date")
            }
            params["cheque"] = ["number": .string(chequeNumber), "bank": .string(chequeBank), "branch": .string(chequeBranch),
                                "account": .string(chequeAccount), "value_date": .string(valueDate)]
        }
        try await options.run { connection in
            options.show(try await connection.call("payments.record", params), human: paymentText)
        }
    }
}
