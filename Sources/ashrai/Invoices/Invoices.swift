import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai invoices …`.
struct Invoices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invoices: add (the credit decision is made here), list, show, void.",
        subcommands: [InvoicesAdd.self, InvoicesList.self, InvoicesShow.self, InvoicesVoid.self])
}
