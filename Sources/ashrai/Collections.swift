import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

private func ids(_ text: String?) throws -> [JSONValue]? {
    guard let text, !text.isEmpty else { return nil }
    return try text.split(separator: ",").map { part in
        guard let id = Int(part.trimmingCharacters(in: .whitespaces)), id > 0 else { throw ValidationError("ids are positive integers separated by commas") }
        return .int(id)
    }
}

func interactionTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "WHEN", "KIND", "BY", "SUMMARY", "OUTCOME", "INVOICES", "PROMISE"],
          rows: items.map { x in
              [x["id"]?.cell ?? "-", x["occurred_at"]?.cell ?? "-", x["kind"]?.cell ?? "-", x["created_by"]?.cell ?? "-",
               x["summary"]?.cell ?? "-", x["outcome"]?.cell ?? "-",
               (x["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ","), x["promise_id"]?.cell ?? "-"]
          }).render()
}

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
        if let invoiceIDs = try ids(invoices) { params["invoice_ids"] = .array(invoiceIDs) }
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

/// `ashrai interactions CUSTOMER`.
struct Interactions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A customer's interaction log, newest first.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Only this kind.") var kind: String?
    @Option(help: "At most this many (1–500).") var limit: Int = 100

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "limit": .int(limit)]
        if let kind { params["kind"] = .string(kind) }
        try await options.run { connection in
            options.show(try await connection.call("interactions.list", params)) { interactionTable($0["interactions"]?.arrayValue ?? []) }
        }
    }
}

/// `ashrai promises`.
struct Promises: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Promises to pay and whether they were kept, as of a date.")
    @OptionGroup var options: ClientOptions
    @Option(help: "open, kept or broken.") var status: String?
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?
    @Option(help: "Only this customer.") var customer: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let status { params["status"] = .string(status) }
        if let asOf { params["as_of"] = .string(asOf) }
        if let customer { params["customer_id"] = .int(customer) }
        try await options.run { connection in
            options.show(try await connection.call("promises.list", params)) { r in
                Table(headers: ["ID", "CUSTOMER", "AMOUNT", "MADE", "DUE", "PAID", "STATUS", "BY"],
                      rows: (r["promises"]?.arrayValue ?? []).map { p in
                          ["id", "customer_name", "amount", "promised_on", "due_on", "paid_in_window", "status", "created_by"].map { p[$0]?.cell ?? "-" }
                      }).render()
            }
        }
    }
}

func disputeTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "INVOICE", "CUSTOMER", "STATUS", "AMOUNT", "OPENED", "REASON", "RESOLUTION", "CREDIT"],
          rows: items.map { d in ["id", "invoice_id", "customer_id", "status", "amount", "opened_on", "reason", "resolution", "credit_amount"].map { d[$0]?.cell ?? "-" } })
        .render()
}

/// `ashrai disputes open|resolve|list`.
struct Disputes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disputed invoices: dunning pauses while a dispute is open.",
                                                    subcommands: [DisputesOpen.self, DisputesResolve.self, DisputesList.self])
}

struct DisputesOpen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open", abstract: "Open a dispute on an invoice.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var invoice: Int
    @Option(help: "What the customer contests.") var reason: String
    @Option(help: "The disputed amount (default: the whole open amount).") var amount: String?

    func run() async throws {
        var params: JSONObject = ["invoice_id": .int(invoice), "reason": .string(reason)]
        if let amount { params["amount"] = .string(amount) }
        try await options.run { connection in
            options.show(try await connection.call("disputes.open", params)) { disputeTable([$0]) }
        }
    }
}

struct DisputesResolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Resolve a dispute (manager); the customer's favour issues a credit note.")
    enum Resolution: String, ExpressibleByArgument, CaseIterable { case customer_right = "customer-right", business_right = "business-right", partial }
    @OptionGroup var options: ClientOptions
    @Argument(help: "Dispute id.") var dispute: Int
    @Argument(help: "customer-right, business-right or partial.") var resolution: Resolution
    @Option(help: "Credit for a partial resolution (or less than the disputed amount).") var credit: String?
    @Option(help: "A note.") var note: String?

    func run() async throws {
        var params: JSONObject = ["id": .int(dispute), "resolution": .string(resolution.rawValue.replacingOccurrences(of: "-", with: "_"))]
        if let credit { params["credit_amount"] = .string(credit) }
        if let note { params["note"] = .string(note) }
        try await options.run { connection in
            options.show(try await connection.call("disputes.resolve", params)) { r in
                disputeTable([r["dispute"] ?? .null]) + "\ninvoice \(r["invoice"]?["number"]?.cell ?? "?"): open \(r["invoice"]?["open_amount"]?.cell ?? "?"), status \(r["invoice"]?["status"]?.cell ?? "?")"
            }
        }
    }
}

struct DisputesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Disputes, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "open or resolved.") var status: String?
    @Option(help: "Only this customer.") var customer: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let status { params["status"] = .string(status) }
        if let customer { params["customer_id"] = .int(customer) }
        try await options.run { connection in
            options.show(try await connection.call("disputes.list", params)) { disputeTable($0["disputes"]?.arrayValue ?? []) }
        }
    }
}

/// `ashrai dunning policy|run`.
struct DunningCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dunning", abstract: "The collection policy and its run.",
                                                    subcommands: [DunningPolicyCommand.self, DunningRun.self])
}

struct DunningPolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Show the policy, or set a new version from a JSON file (admin).")
    @OptionGroup var options: ClientOptions
    @Option(help: "A JSON file {\"levels\": [...]} to set as the new version.") var set: String?
    @Option(help: "Why it changes.") var reason: String?

    func run() async throws {
        var method = "dunning.policy.get"
        var params: JSONObject = [:]
        if let set {
            guard let data = FileManager.default.contents(atPath: set), let json = try? JSONValue.parse(Array(data)), let levels = json["levels"] else {
                throw ValidationError("\(set) is not a JSON file with levels")
            }
            method = "dunning.policy.set"
            params["levels"] = levels
            if let reason { params["reason"] = .string(reason) }
        }
        try await options.run { connection in
            options.show(try await connection.call(method, params)) { p in
                "policy version \(p["version"]?.cell ?? "?")\(p["is_default"] == true ? " (the default from Config/)" : "")\n"
                    + Table(headers: ["LEVEL", "DAYS OVERDUE", "ACTION", "TEMPLATE", "FEE", "PAY WITHIN"],
                            rows: (p["levels"]?.arrayValue ?? []).map { l in ["level", "days_overdue", "action", "template", "fee", "pay_within_days"].map { l[$0]?.cell ?? "-" } })
                        .render()
            }
        }
    }
}

struct DunningRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the policy (manager): letters, holds, referrals; idempotent per day.")
    @OptionGroup var options: ClientOptions
    @Flag(help: "Show what would happen, write nothing.") var dryRun = false
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?

    func run() async throws {
        var params: JSONObject = ["dry_run": .bool(dryRun)]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("dunning.run", params)) { r in
                var out = "\(r["dry_run"] == true ? "dry run" : "run #\(r["run_id"]?.cell ?? "?")") as of \(r["as_of"]?.cell ?? "?") (policy v\(r["policy_version"]?.cell ?? "?"))\n"
                out += Table(headers: ["LETTER", "CUSTOMER", "LEVEL", "ACTION", "INVOICES", "TOTAL"],
                             rows: (r["letters"]?.arrayValue ?? []).map { l in
                                 [l["letter_id"]?.cell ?? "-", l["customer_id"]?.cell ?? "-", l["level"]?.cell ?? "-", l["action"]?.cell ?? "-",
                                  (l["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ","), l["total"]?.cell ?? "-"]
                             }).render()
                for hold in r["holds"]?.arrayValue ?? [] { out += "\nhold: customer \(hold["customer_id"]?.cell ?? "?")" }
                for referral in r["referrals"]?.arrayValue ?? [] {
                    out += "\nreferral suggested: customer \(referral["customer_id"]?.cell ?? "?"), \(referral["open_amount"]?.cell ?? "?") open"
                }
                for skip in r["skipped"]?.arrayValue ?? [] {
                    out += "\nskipped: invoice \(skip["invoice_id"]?.cell ?? "?") (level \(skip["level"]?.cell ?? "?")): \(skip["reason"]?.cell ?? "?")"
                }
                let listed = r["skipped"]?.arrayValue?.count ?? 0, total = r["skipped_total"]?.intValue ?? listed
                if total > listed { out += "\n… and \(total - listed) more skipped" }
                for plan in r["plans_defaulted"]?.arrayValue ?? [] { out += "\nplan #\(plan.cell) defaulted" }
                return out
            }
        }
    }
}

/// `ashrai letters list|show`.
struct Letters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Dunning letters.", subcommands: [LettersList.self, LettersShow.self, LettersSent.self])
}

struct LettersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Letters, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "pending or sent.") var status: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if let status { params["status"] = .string(status) }
        try await options.run { connection in
            options.show(try await connection.call("letters.list", params)) { r in
                Table(headers: ["ID", "CUSTOMER", "LEVEL", "ACTION", "DATE", "PAY BY", "TOTAL", "LANG", "STATUS"],
                      rows: (r["letters"]?.arrayValue ?? []).map { l in
                          ["id", "customer_name", "level", "action", "as_of", "last_date_to_pay", "total", "language", "status"].map { l[$0]?.cell ?? "-" }
                      }).render()
            }
        }
    }
}

struct LettersShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a letter, or save it with --out FILE.txt or FILE.html.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Letter id.") var letter: Int
    @Option(help: "Save to FILE.txt (text) or FILE.html (HTML) instead of printing.") var out: String?

    func run() async throws {
        if let out, !(out.hasSuffix(".txt") || out.hasSuffix(".html")) { throw ValidationError("--out must end in .txt or .html") }
        try await options.run { connection in
            let result = try await connection.call("letters.get", ["id": .int(letter)])
            if let out {
                let body = (out.hasSuffix(".html") ? result["html"] : result["text"])?.stringValue ?? ""
                guard FileManager.default.createFile(atPath: out, contents: Data(body.utf8)) else { throw ValidationError("cannot write \(out)") }
                print("saved letter #\(letter) to \(out)")
            } else {
                options.show(result) { $0["text"]?.stringValue ?? "" }
            }
        }
    }
}

struct LettersSent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sent", abstract: "Record that a letter went out.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Letter id.") var letter: Int
    @Option(help: "email, post, hand, sms or whatsapp.") var channel: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("letters.mark_sent", ["id": .int(letter), "channel": .string(channel)])) { r in
                "letter #\(r["id"]?.cell ?? "?") marked sent by \(r["sent_channel"]?.cell ?? "?")"
            }
        }
    }
}

func planText(_ p: JSONValue) -> String {
    var out = "plan #\(p["id"]?.cell ?? "?") for customer \(p["customer_id"]?.cell ?? "?"): \(p["status"]?.cell ?? "?"), total \(p["total"]?.cell ?? "?")"
    out += " (principal \(p["principal"]?.cell ?? "?"), interest \(p["interest_amount"]?.cell ?? "?")), paid \(p["paid"]?.cell ?? "0.00"), remaining \(p["remaining"]?.cell ?? "?")\n"
    if p["agreed_on"] != .null { out += "agreed \(p["agreed_on"]?.cell ?? "") (\(p["agreement_ref"]?.cell ?? "")), signed by \(p["signed_by"]?.cell ?? "")\n" }
    out += Table(headers: ["#", "DUE", "AMOUNT", "PAID"],
                 rows: (p["schedule"]?.arrayValue ?? []).map { i in [i["seq"]?.cell ?? "-", i["due_on"]?.cell ?? "-", i["amount"]?.cell ?? "-", i["paid"]?.cell ?? "-"] })
        .render()
    return out
}

/// `ashrai plans create|agree|show|list|cancel|check`.
struct Plans: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Installment plans agreed in writing.",
                                                    subcommands: [PlansCreate.self, PlansAgree.self, PlansShow.self, PlansList.self, PlansCancel.self])
}

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
        var params: JSONObject = ["customer_id": .int(customer), "invoice_ids": .array(try ids(invoices) ?? []), "installments": .int(installments),
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

struct PlansAgree: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agree", abstract: "Record a proposed plan's written agreement (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Plan id.") var plan: Int
    @Option(help: "YYYY-MM-DD.") var agreedOn: String
    @Option(help: "The signed document's reference.") var agreementRef: String
    @Option(help: "Who signed for the customer.") var signedBy: String

    func run() async throws {
        let params: JSONObject = ["id": .int(plan), "agreed_on": .string(agreedOn), "agreement_ref": .string(agreementRef), "signed_by": .string(signedBy)]
        try await options.run { connection in options.show(try await connection.call("plans.agree", params), human: planText) }
    }
}

struct PlansShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A plan, its schedule and what is paid.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Plan id.") var plan: Int
    @Option(help: "As of YYYY-MM-DD.") var asOf: String?

    func run() async throws {
        var params: JSONObject = ["id": .int(plan)]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in options.show(try await connection.call("plans.get", params), human: planText) }
    }
}

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

struct PlansCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a plan (manager); its invoices return to dunning.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Plan id.") var plan: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("plans.cancel", ["id": .int(plan), "reason": .string(reason)]), human: planText)
        }
    }
}
