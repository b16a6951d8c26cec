import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai payments …`.
struct Payments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Payments: record (allocated oldest-due-first unless told), list, apply unapplied credit, reverse.",
        subcommands: [PaymentsRecord.self, PaymentsList.self, PaymentsApply.self, PaymentsReverse.self])
}
