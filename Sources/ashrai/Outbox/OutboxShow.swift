import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct OutboxShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One message, with the text that was (or will be) sent.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Message id.") var message: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("outbox.get", ["id": .int(message)])) { m in
                outboxTable([m]) + "\n" + "Subject: \(m["subject"]?.cell ?? "")\nMessage-ID: <\(m["message_id"]?.cell ?? "")>\n\n" + (m["body_text"]?.stringValue ?? "")
            }
        }
    }
}
