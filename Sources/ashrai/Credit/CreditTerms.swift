import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
