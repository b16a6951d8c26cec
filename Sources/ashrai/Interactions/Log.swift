import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai log call|email|meeting|note|… CUSTOMER "summary"`.
struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log a contact with a customer (append-only): call, email, letter, meeting, sms, social, note, agreement.")
    enum Kind: String, ExpressibleByArgument, CaseIterable { case call, email, letter, meeting, sms, social, note, agreement }

    @OptionGroup var options: ClientOptions
    @Argument(help: "call, email, letter, meeting, sms, social, note or agreement.") var kind: Kind
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "What was said or done.") var summary: String
    @Option(help: "A promise to pay made in it: AMOUNT@YYYY-MM-DD, e.g. 1500.00@2026-12-15.") var promise: String?
    @Option(help: "The outcome.") var outcome: String?
    @Option(help: "Why the customer has not paid, in their words.") var reason: String?
    @Option(help: "Invoice ids it is about, comma-separated.") var invoices: String?
    @Option(help: "Phone number, address or channel used.") var channel: String?
    @Option(help: "When it happened (RFC 3339; default now).") var at: String?
    @Option(help: "The entry this one corrects.") var corrects: Int?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "kind": .string(kind.rawValue), "summary": .string(summary)]
        if let promise {
            let parts = promise.split(separator: "@")
            guard parts.count == 2 else { throw ValidationError("--promise is AMOUNT@YYYY-MM-DD") }
            params["promise"] = ["amount": .string(String(parts[0])), "due_on": .string(String(parts[1]))]
        }
        if let outcome { params["outcome"] = .string(outcome) }
        if let reason { params["reason_for_nonpayment"] = .string(reason) }
        if let invoiceIDs = try idList(invoices) { params["invoice_ids"] = .array(invoiceIDs) }
        if let channel { params["channel_detail"] = .string(channel) }
        if let at { params["occurred_at"] = .string(at) }
        if let corrects { params["corrects_id"] = .int(corrects) }
        try await options.run { connection in
            options.show(try await connection.call("interactions.log", params)) { r in
                var text = "logged \(r["interaction"]?["kind"]?.cell ?? "") #\(r["interaction"]?["id"]?.cell ?? "?")"
                if let p = r["promise"], p != .null { text += "; promise #\(p["id"]?.cell ?? "?") of \(p["amount"]?.cell ?? "") by \(p["due_on"]?.cell ?? "")" }
                return text
            }
        }
    }
}
