import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai credit …`.
struct Credit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Risk data, assessment, terms and the credit check.",
        subcommands: [CreditAssess.self, CreditTerms.self, CreditCheck.self, CreditHistory.self, CreditFinancials.self, CreditReference.self])
}

func assessmentText(_ a: JSONValue) -> String {
    var text = "score \(a["score"]?.cell ?? "?")/100, grade \(a["grade"]?.cell ?? "?")"
    if let z = a["z_score"], z != .null { text += ", Altman Z'' \(z.cell) (\(a["z_zone"]?.cell ?? "?"))" }
    text += "; suggested limit \(a["suggested_terms"]?["credit_limit"]?.cell ?? "?"), net \(a["suggested_terms"]?["net_days"]?.cell ?? "?") days\n"
    text += Table(headers: ["FACTOR", "VALUE", "POINTS", "WHY"],
                  rows: (a["reasons"]?.arrayValue ?? []).map { r in ["factor", "value", "points", "note"].map { r[$0]?.cell ?? "-" } }).render()
    return text
}

func termsTable(_ versions: [JSONValue]) -> String {
    Table(headers: ["VER", "LIMIT", "CUR", "TERMS", "INTEREST %", "DISCOUNT", "SET BY", "AT", "REASON"],
          rows: versions.map { t in
              [t["version"]?.cell ?? "-", t["credit_limit"]?.cell ?? "-", t["currency"]?.cell ?? "-", t["description"]?.cell ?? t["net_days"]?.cell ?? "-",
               t["late_interest_rate"]?.cell ?? "-",
               t["early_discount_rate"] == .null || t["early_discount_rate"] == nil ? "-" : "\(t["early_discount_rate"]!.cell)%/\(t["early_discount_days"]?.cell ?? "?")d",
               t["set_by"]?.cell ?? "-", t["set_at"]?.cell ?? "-", t["reason"]?.cell ?? "-"]
          }).render()
}

struct CreditAssess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assess", abstract: "Score and grade a customer now (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Assess as of this date (YYYY-MM-DD).") var asOf: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer)]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("credit.assess", params), human: assessmentText)
        }
    }
}

struct CreditTerms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terms", abstract: "Show the terms in force; with --limit, --net-days, --interest and --reason set new ones (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Credit limit, e.g. 15000.00.") var limit: String?
    @Option(help: "Days to pay.") var netDays: Int?
    @Option(help: "How the days count: net (from the invoice's date) or end_of_month (שוטף + N: from the end of its month).")
    var basis: String?
    @Option(help: "Annual late interest, percent.") var interest: String?
    @Option(help: "Early-payment discount, percent.") var discount: String?
    @Option(help: "Days within which the discount applies.") var discountDays: Int?
    @Option(help: "Currency (default: the business's).") var currency: String?
    @Option(help: "Why (required when setting).") var reason: String?

    func run() async throws {
        let setting = limit != nil || netDays != nil || interest != nil || reason != nil
        try await options.run { connection in
            if setting {
                guard let limit, let netDays, let interest, let reason else {
                    throw ValidationError("to set terms give --limit, --net-days, --interest and --reason")
                }
                var params: JSONObject = ["customer_id": .int(customer), "credit_limit": .string(limit), "net_days": .int(netDays),
                                          "late_interest_rate": .string(interest), "reason": .string(reason)]
                if let basis { params["terms_basis"] = .string(basis) }
                if let discount { params["early_discount_rate"] = .string(discount) }
                if let discountDays { params["early_discount_days"] = .int(discountDays) }
                if let currency { params["currency"] = .string(currency) }
                options.show(try await connection.call("credit.terms.set", params)) { termsTable([$0]) }
            } else {
                options.show(try await connection.call("credit.terms.get", ["customer_id": .int(customer)])) { termsTable([$0]) }
            }
        }
    }
}

struct CreditCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "May this amount be given on credit now?")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "Amount, e.g. 2500.00.") var amount: String

    func run() async throws {
        try await options.run { connection in
            let result = try await connection.call("credit.check", ["customer_id": .int(customer), "amount": .string(amount)])
            options.show(result) { r in
                let verdict = r["allowed"] == true ? "ALLOWED" : "REFUSED"
                let reasons = (r["reasons"]?.arrayValue ?? []).map { "  - " + $0.cell }.joined(separator: "\n")
                return "\(verdict): limit \(r["credit_limit"]?.cell ?? "-"), exposure \(r["exposure"]?.cell ?? "-"), available \(r["available"]?.cell ?? "-")"
                    + (reasons.isEmpty ? "" : "\n" + reasons)
            }
            if result["allowed"] != true { throw ExitCode(8) }
        }
    }
}

struct CreditHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Every terms version and every assessment.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int

    func run() async throws {
        try await options.run { connection in
            let terms = try await connection.call("credit.terms.history", ["customer_id": .int(customer)])
            let assessments = try await connection.call("credit.assessments", ["customer_id": .int(customer)])
            options.show(["terms": terms["versions"] ?? [], "assessments": assessments["assessments"] ?? []]) { _ in
                "terms\n" + termsTable(terms["versions"]?.arrayValue ?? []) + "\n\nassessments\n"
                    + Table(headers: ["AS OF", "SCORE", "GRADE", "Z''", "SUGGESTED LIMIT", "NET"],
                            rows: (assessments["assessments"]?.arrayValue ?? []).map { a in
                                [a["as_of"]?.cell ?? "-", a["score"]?.cell ?? "-", a["grade"]?.cell ?? "-", a["z_score"]?.cell ?? "-",
                                 a["suggested_terms"]?["credit_limit"]?.cell ?? "-", a["suggested_terms"]?["net_days"]?.cell ?? "-"]
                            }).render()
            }
        }
    }
}

struct CreditFinancials: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "financials", abstract: "Record a financial statement.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Period end YYYY-MM-DD.") var periodEnd: String
    @Option var currentAssets: String
    @Option var currentLiabilities: String
    @Option var totalAssets: String
    @Option var totalLiabilities: String
    @Option var retainedEarnings: String
    @Option var ebit: String
    @Option var equity: String
    @Option var revenue: String

    func run() async throws {
        let params: JSONObject = [
            "customer_id": .int(customer), "period_end": .string(periodEnd), "current_assets": .string(currentAssets),
            "current_liabilities": .string(currentLiabilities), "total_assets": .string(totalAssets),
            "total_liabilities": .string(totalLiabilities), "retained_earnings": .string(retainedEarnings), "ebit": .string(ebit),
            "equity": .string(equity), "revenue": .string(revenue),
        ]
        try await options.run { connection in
            options.show(try await connection.call("credit.financials.add", params)) { "recorded statement #\($0["id"]?.cell ?? "?")" }
        }
    }
}

struct CreditReference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reference", abstract: "Record a bureau report, trade or bank reference.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "bureau_report, trade_reference or bank_reference.") var kind: String
    @Option(help: "Who gave it.") var source: String
    @Option(help: "Received on YYYY-MM-DD.") var receivedOn: String
    @Option(help: "1 worst … 5 best.") var rating: Int?
    @Option var notes: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "kind": .string(kind), "source": .string(source), "received_on": .string(receivedOn)]
        if let rating { params["rating"] = .int(rating) }
        if let notes { params["notes"] = .string(notes) }
        try await options.run { connection in
            options.show(try await connection.call("credit.references.add", params)) { "recorded reference #\($0["id"]?.cell ?? "?")" }
        }
    }
}
