import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai customers …`.
struct Customers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Customers: add, list, show (the credit clerk's first screen), update, close, assign-owner.",
        subcommands: [CustomersAdd.self, CustomersList.self, CustomersShow.self, CustomersUpdate.self, CustomersClose.self, CustomersAssignOwner.self])
}
