import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct ContactsRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a contact (kept in history).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Contact id.") var id: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("customers.contacts.remove", ["id": .int(id)])) { _ in "removed" }
        }
    }
}
