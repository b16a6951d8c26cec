import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai cheques [list|apply|bounce|cancel]`: post-dated cheques in hand.
struct Cheques: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post-dated cheques (שיקים דחויים): those in hand by value date — the list to take to the bank —, apply, bounce, give back. Record one with `ashrai payments record … --method cheque --cheque-number …`.",
        subcommands: [ChequesList.self, ChequesApply.self, ChequesBounce.self, ChequesCancel.self], defaultSubcommand: ChequesList.self)
}

/// One line per cheque, by value date, and the total.
func chequeTable(_ result: JSONValue) -> String {
    let cheques = result["cheques"]?.arrayValue ?? [result]
    var text = Table(headers: ["ID", "VALUE DATE", "AMOUNT", "CUSTOMER", "NUMBER", "BANK-BRANCH-ACCOUNT", "STATUS", "PAYMENT"],
                     rows: cheques.map { q in
                         [q["id"]?.cell ?? "-", q["value_date"]?.cell ?? "-", q["amount"]?.cell ?? "-",
                          (q["customer_name"] ?? q["customer_id"])?.cell ?? "-", q["number"]?.cell ?? "-",
                          [q["bank"], q["branch"], q["account"]].map { $0?.cell ?? "?" }.joined(separator: "-"),
                          q["status"]?.cell ?? "-", q["payment_id"]?.cell ?? "-"]
                     }).render()
    if let count = result["count"], let total = result["total"] { text += "\n\n\(count.cell) cheque(s), \(total.cell) in all" }
    if let fee = result["fee_invoice_id"], !fee.isNull { text += "\nthe bank's fee is charged as invoice #\(fee.cell)" }
    return text
}

struct ChequesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Cheques by value date (default: in hand).")
    @OptionGroup var options: ClientOptions
    @Option(help: "in_hand, applied, bounced or cancelled (default in_hand).") var status = "in_hand"
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "Value date from YYYY-MM-DD.") var from: String?
    @Option(help: "Value date to YYYY-MM-DD (e.g. the end of this week: what to deposit).") var to: String?
    @Option(help: "At most this many (default 100).") var limit: Int?

    func run() async throws {
        var params: JSONObject = ["status": .string(status)]
        if let customer { params["customer_id"] = .int(customer) }
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        if let limit { params["limit"] = .int(limit) }
        try await options.run { connection in
            options.show(try await connection.call("cheques.list", params), human: chequeTable)
        }
    }
}

struct ChequesApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply a cheque in hand now: it becomes a payment.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Cheque id.") var id: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("cheques.apply", ["id": .int(id)]), human: chequeTable)
        }
    }
}

struct ChequesBounce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bounce", abstract: "A cheque the bank returned (חזר): its payment is reversed, the log and score show it.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Cheque id.") var id: Int
    @Option(help: "Why the bank returned it (e.g. אין כיסוי מספיק).") var reason: String
    @Option(help: "The bank's fee to charge the customer (default: bank.returnFee; 0: none).") var fee: String?

    func run() async throws {
        var params: JSONObject = ["id": .int(id), "reason": .string(reason)]
        if let fee { params["fee"] = .string(fee) }
        try await options.run { connection in
            options.show(try await connection.call("cheques.bounce", params), human: chequeTable)
        }
    }
}

struct ChequesCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Give a cheque in hand back to the customer.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Cheque id.") var id: Int
    @Option(help: "Why (replaced, recorded by mistake, …).") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("cheques.cancel", ["id": .int(id), "reason": .string(reason)]), human: chequeTable)
        }
    }
}
