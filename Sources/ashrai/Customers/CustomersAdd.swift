import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CustomersAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a customer.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Name (any script).") var name: String
    @OptionGroup var fields: CustomerFieldOptions

    func run() async throws {
        var params = fields.params
        params["name"] = .string(name)
        try await options.run { connection in
            options.show(try await connection.call("customers.create", params)) { customerTable([$0]) }
        }
    }
}
