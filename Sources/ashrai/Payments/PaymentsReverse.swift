import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PaymentsReverse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reverse", abstract: "Reverse a payment (bounced cheque, charge-back).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Payment id.") var payment: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("payments.reverse", ["id": .int(payment), "reason": .string(reason)]), human: paymentText)
        }
    }
}
