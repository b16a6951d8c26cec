import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
