import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct ContactsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a contact person.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "Name.") var name: String
    @Option(help: "Their role, e.g. accounts payable.") var role: String?
    @Option(help: "E-mail.") var email: String?
    @Option(help: "Phone.") var phone: String?
    @Option(help: "Preferred channel.") var preferredChannel: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "name": .string(name)]
        if let role { params["role"] = .string(role) }
        if let email { params["email"] = .string(email) }
        if let phone { params["phone"] = .string(phone) }
        if let preferredChannel { params["preferred_channel"] = .string(preferredChannel) }
        try await options.run { connection in
            options.show(try await connection.call("customers.contacts.add", params)) { contactTable([$0]) }
        }
    }
}
