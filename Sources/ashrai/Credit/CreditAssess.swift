import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
