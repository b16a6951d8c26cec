import AshraiClient
import AshraiProtocol
import ArgumentParser

struct HoldsRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release the active hold (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("holds.release", ["customer_id": .int(customer), "reason": .string(reason)])) { holdTable([$0]) }
        }
    }
}
