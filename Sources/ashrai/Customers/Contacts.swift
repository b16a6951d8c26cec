import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai contacts …`.
struct Contacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A customer's contact people.", subcommands: [ContactsAdd.self, ContactsList.self, ContactsRemove.self])
}
