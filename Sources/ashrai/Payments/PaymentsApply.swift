import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct PaymentsApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply a payment's unapplied credit.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Payment id.") var payment: Int
    @Option(help: "Allocate INVOICE_ID=AMOUNT (repeatable); default: oldest due first.") var allocate: [String] = []

    func run() async throws {
        var params: JSONObject = ["payment_id": .int(payment), "idempotency_key": .string(UUID().uuidString)]
        if let lines = try allocationParams(allocate) { params["allocations"] = lines }
        try await options.run { connection in
            options.show(try await connection.call("payments.apply", params), human: paymentText)
        }
    }
}
