import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PlansCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a plan (manager); its invoices return to dunning.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Plan id.") var plan: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("plans.cancel", ["id": .int(plan), "reason": .string(reason)]), human: planText)
        }
    }
}
