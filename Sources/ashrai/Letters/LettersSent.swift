import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct LettersSent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sent", abstract: "Record that a letter went out.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Letter id.") var letter: Int
    @Option(help: "email, post, hand, sms or whatsapp.") var channel: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("letters.mark_sent", ["id": .int(letter), "channel": .string(channel)])) { r in
                "letter #\(r["id"]?.cell ?? "?") marked sent by \(r["sent_channel"]?.cell ?? "?")"
            }
        }
    }
}
