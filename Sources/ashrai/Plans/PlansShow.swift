import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
