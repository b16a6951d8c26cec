import AshraiClient
import AshraiProtocol
import ArgumentParser

struct HoldsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Holds, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer.") var customer: Int?
    @Flag(help: "Only active holds.") var active = false

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if active { params["active"] = true }
        try await options.run { connection in
            options.show(try await connection.call("holds.list", params)) { holdTable($0["holds"]?.arrayValue ?? []) }
        }
    }
}
