import AshraiClient
import AshraiProtocol
import ArgumentParser

struct HoldsPlace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "place", abstract: "Place a hold (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Why.") var reason: String
    @Option(help: "The logged conversation that preceded the hold.") var interaction: Int?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "reason": .string(reason)]
        if let interaction { params["interaction_id"] = .int(interaction) }
        try await options.run { connection in
            options.show(try await connection.call("holds.place", params)) { holdTable([$0]) }
        }
    }
}
