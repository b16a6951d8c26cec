import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
