import AshraiClient
import AshraiProtocol
import ArgumentParser

struct ReviewsRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Record a review (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "What was found.") var findings: String
    @Option(help: "What was decided.") var decision: String
    @Option(help: "Next review YYYY-MM-DD (default: by grade).") var next: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "findings": .string(findings), "decision": .string(decision)]
        if let next { params["next_review_on"] = .string(next) }
        try await options.run { connection in
            options.show(try await connection.call("reviews.record", params)) { r in
                "review recorded; next review on \(r["next_review_on"]?.cell ?? "?")"
            }
        }
    }
}
