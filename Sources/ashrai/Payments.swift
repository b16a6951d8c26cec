import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai payments …`.
struct Payments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Payments: record (allocated oldest-due-first unless told), list, apply unapplied credit, reverse.",
        subcommands: [PaymentsRecord.self, PaymentsList.self, PaymentsApply.self, PaymentsReverse.self])
}

func paymentText(_ result: JSONValue) -> String {
    let p = result["payment"] ?? .null
    var text = Table(headers: ["ID", "CUSTOMER", "RECEIVED", "AMOUNT", "CUR", "METHOD", "UNAPPLIED", "STATUS"],
                     rows: [["id", "customer_id", "received_on", "amount", "currency", "method", "unapplied", "status"].map { p[$0]?.cell ?? "-" }]).render()
    let lines = result["allocations"]?.arrayValue ?? []
    if !lines.isEmpty {
        text += "\n\n" + Table(headers: ["INVOICE", "APPLIED", "DISCOUNT", "ON", "REVERSED"],
                              rows: lines.map { a in ["invoice_id", "amount", "discount", "applied_on", "reversed"].map { a[$0]?.cell ?? "-" } }).render()
    }
    return text
}

/// `INVOICE=AMOUNT` pairs as allocation lines.
func allocationParams(_ pairs: [String]) throws -> JSONValue? {
    guard !pairs.isEmpty else { return nil }
    return .array(try pairs.map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let invoice = Int(parts[0]) else { throw ValidationError("--allocate takes INVOICE_ID=AMOUNT, e.g. 17=250.00") }
        return ["invoice_id": .int(invoice), "amount": .string(String(parts[1]))]
    })
}

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

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "amount": .string(amount), "method": .string(method),
                                  "received_on": .string(receivedOn), "idempotency_key": .string(idempotencyKey ?? UUID().uuidString)]
        if let reference { params["reference"] = .string(reference) }
        if let viaAssignment { params["via_assignment_id"] = .int(viaAssignment) }
        if let lines = try allocationParams(allocate) { params["allocations"] = lines }
        try await options.run { connection in
            options.show(try await connection.call("payments.record", params), human: paymentText)
        }
    }
}

struct PaymentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List payments.")
    @OptionGroup var options: ClientOptions
    @Option var customer: Int?
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD.") var to: String?
    @Option var limit: Int = 50
    @Option var after: Int?

    func run() async throws {
        var params: JSONObject = ["limit": .int(limit)]
        if let customer { params["customer_id"] = .int(customer) }
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        if let after { params["after"] = .int(after) }
        try await options.run { connection in
            options.show(try await connection.call("payments.list", params)) { result in
                Table(headers: ["ID", "CUSTOMER", "RECEIVED", "AMOUNT", "CUR", "METHOD", "UNAPPLIED", "STATUS"],
                      rows: (result["payments"]?.arrayValue ?? []).map { p in
                          ["id", "customer_id", "received_on", "amount", "currency", "method", "unapplied", "status"].map { p[$0]?.cell ?? "-" }
                      }).render() + (result["next_after"]?.intValue.map { "\nmore: --after \($0)" } ?? "")
            }
        }
    }
}

struct PaymentsApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply a payment's unapplied credit.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Payment id.") var payment: Int
    @Option(help: "Allocate INVOICE_ID=AMOUNT (repeatable); default: oldest due first.") var allocate: [String] = []

    func run() async throws {
        var params: JSONObject = ["payment_id": .int(payment), "idempotency_key": .string(UUID().uuidString)]
        if let lines = try allocationParams(allocate) { params["allocations"] = lines }
        try await options.run { connection in
            options.show(try await connection.call("payments.apply", params), human: paymentText)
        }
    }
}

struct PaymentsReverse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reverse", abstract: "Reverse a payment (bounced cheque, charge-back).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Payment id.") var payment: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("payments.reverse", ["id": .int(payment), "reason": .string(reason)]), human: paymentText)
        }
    }
}

/// `ashrai aging`.
struct Aging: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Receivables by days past due, per customer, with totals.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?
    @Option(help: "Bucket bounds in days, e.g. 30,60,90.") var buckets: String?
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "Only invoices at least this many days past due.") var minOverdueDays: Int?
    @Option(help: "Customer rows per page.") var limit: Int = 100
    @Option(help: "Skip this many customer rows (from the previous page).") var offset: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        if let buckets {
            let bounds = buckets.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard bounds.allSatisfy({ $0 != nil }) else { throw ValidationError("--buckets takes day counts like 30,60,90") }
            params["buckets"] = .array(bounds.map { .int($0!) })
        }
        if let customer { params["customer_id"] = .int(customer) }
        if let minOverdueDays { params["min_overdue_days"] = .int(minOverdueDays) }
        params["limit"] = .int(limit)
        if let offset { params["offset"] = .int(offset) }
        try await options.run { connection in
            options.show(try await connection.call("reports.aging", params)) { report in
                let labels = (report["buckets"]?.arrayValue ?? []).map(\.cell)
                var rows = (report["rows"]?.arrayValue ?? []).map { row in
                    [row["code"]?.cell ?? "-", row["name"]?.cell ?? "-"] + labels.map { row["amounts"]?[$0]?.cell ?? "0.00" }
                        + [row["total"]?.cell ?? "-", row["invoices"]?.cell ?? "-"]
                }
                let totals = report["totals"] ?? .null
                rows.append(["", "TOTAL"] + labels.map { totals["amounts"]?[$0]?.cell ?? "0.00" } + [totals["total"]?.cell ?? "-", totals["invoices"]?.cell ?? "-"])
                return "aging as of \(report["as_of"]?.cell ?? "?")\n"
                    + Table(headers: ["CODE", "CUSTOMER"] + labels.map { $0.uppercased() } + ["TOTAL", "INVOICES"], rows: rows).render()
                    + (report["next_offset"]?.intValue.map { "\nmore customers: --offset \($0)" } ?? "")
            }
        }
    }
}

/// `ashrai writeoffs …`.
struct Writeoffs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bad debt write-offs (manager).", subcommands: [WriteoffsCreate.self, WriteoffsList.self])
}

struct WriteoffsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Write off an invoice's open remainder (or --amount).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var invoice: Int
    @Option(help: "Why.") var reason: String
    @Option(help: "Part of the open amount.") var amount: String?

    func run() async throws {
        var params: JSONObject = ["invoice_id": .int(invoice), "reason": .string(reason)]
        if let amount { params["amount"] = .string(amount) }
        try await options.run { connection in
            options.show(try await connection.call("writeoffs.create", params)) { r in
                "wrote off \(r["writeoff"]?["amount"]?.cell ?? "?") of invoice \(r["invoice"]?["number"]?.cell ?? "?"); status \(r["invoice"]?["status"]?.cell ?? "?")"
            }
        }
    }
}

struct WriteoffsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Write-offs with their total.")
    @OptionGroup var options: ClientOptions
    @Option var customer: Int?
    @Option var from: String?
    @Option var to: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        try await options.run { connection in
            options.show(try await connection.call("writeoffs.list", params)) { r in
                Table(headers: ["ID", "INVOICE", "CUSTOMER", "ON", "AMOUNT", "BY", "REASON"],
                      rows: (r["writeoffs"]?.arrayValue ?? []).map { w in
                          ["id", "invoice_id", "customer_id", "written_off_on", "amount", "created_by", "reason"].map { w[$0]?.cell ?? "-" }
                      }).render() + "\ntotal \(r["total"]?.cell ?? "0.00")"
            }
        }
    }
}

/// `ashrai statement CUSTOMER`.
struct Statement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A customer's statement: opening balance, movements, interest, closing balance.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD.") var to: String?
    @Option(help: "Interest as of YYYY-MM-DD (default: to).") var asOf: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer)]
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("statements.get", params)) { s in
                var text = "statement for \(s["customer"]?["name"]?.cell ?? "?") to \(s["to"]?.cell ?? "?")"
                    + (s["terms"]?["description"].map { " — terms \($0.cell)" } ?? "") + "\n"
                text += "opening balance \(s["opening_balance"]?.cell ?? "0.00")\n"
                text += Table(headers: ["DATE", "KIND", "REF", "DESCRIPTION", "DEBIT", "CREDIT", "BALANCE"],
                              rows: (s["lines"]?.arrayValue ?? []).map { l in
                                  ["date", "kind", "reference", "description", "debit", "credit", "balance"].map { l[$0]?.cell ?? "-" }
                              }).render()
                text += "\nclosing balance \(s["closing_balance"]?.cell ?? "0.00")"
                text += "\naccrued late interest (not in the balance) \(s["accrued_interest"]?["total"]?.cell ?? "0.00")"
                return text
            }
        }
    }
}
