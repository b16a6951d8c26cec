import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai interactions CUSTOMER`.
struct Interactions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A customer's interaction log, newest first.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Only this kind.") var kind: String?
    @Option(help: "At most this many (1–500).") var limit: Int = 100

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "limit": .int(limit)]
        if let kind { params["kind"] = .string(kind) }
        try await options.run { connection in
            options.show(try await connection.call("interactions.list", params)) { interactionTable($0["interactions"]?.arrayValue ?? []) }
        }
    }
}
