import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct OutboxCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Do not send a message.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Message id.") var message: Int
    @Option(help: "Why (kept with the message).") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("outbox.cancel", ["id": .int(message), "reason": .string(reason)])) {
                "message #\($0["id"]?.cell ?? "?") cancelled"
            }
        }
    }
}
