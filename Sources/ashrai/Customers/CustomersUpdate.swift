import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CustomersUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change contact data (fails if someone else changed it since).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var id: Int
    @Option(help: "The version you saw (default: the current one, read just before).") var version: Int?
    @OptionGroup var fields: CustomerFieldOptions

    func run() async throws {
        try await options.run { connection in
            var params = fields.params
            params["id"] = .int(id)
            if let version {
                params["version"] = .int(version)
            } else {
                params["version"] = try await connection.call("customers.get", ["id": .int(id)])["version"] ?? 1
            }
            options.show(try await connection.call("customers.update", params)) { customerTable([$0]) }
        }
    }
}
