import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct ContactsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "A customer's contacts.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("customers.contacts.list", ["customer_id": .int(customer)])) {
                contactTable($0["contacts"]?.arrayValue ?? [])
            }
        }
    }
}
