import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct InvoicesVoid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "void", abstract: "Void an invoice without payments.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var id: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("invoices.void", ["id": .int(id), "reason": .string(reason)])) { invoiceTable([$0]) }
        }
    }
}
