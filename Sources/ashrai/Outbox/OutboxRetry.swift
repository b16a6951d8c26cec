import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct OutboxRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Send a failed, unknown or cancelled message again (same Message-ID).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Message id.") var message: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("outbox.retry", ["id": .int(message)])) { "message #\($0["id"]?.cell ?? "?") queued again" }
        }
    }
}
