import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CustomersClose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close", abstract: "Close an account (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var id: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("customers.close", ["id": .int(id), "reason": .string(reason)])) { customerTable([$0]) }
        }
    }
}
