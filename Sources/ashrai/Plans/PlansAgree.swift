import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
