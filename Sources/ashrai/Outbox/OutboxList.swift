import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct OutboxList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Messages, oldest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "queued, sending, sent, retrying, failed, cancelled or unknown.") var state: String?
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "email, sms, whatsapp or post.") var channel: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let state { params["state"] = .string(state) }
        if let channel { params["channel"] = .string(channel) }
        if let customer { params["customer_id"] = .int(customer) }
        try await options.run { connection in
            options.show(try await connection.call("outbox.list", params)) { outboxTable($0["messages"]?.arrayValue ?? []) }
        }
    }
}
