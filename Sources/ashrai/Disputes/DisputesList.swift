import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct DisputesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Disputes, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "open or resolved.") var status: String?
    @Option(help: "Only this customer.") var customer: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let status { params["status"] = .string(status) }
        if let customer { params["customer_id"] = .int(customer) }
        try await options.run { connection in
            options.show(try await connection.call("disputes.list", params)) { disputeTable($0["disputes"]?.arrayValue ?? []) }
        }
    }
}
