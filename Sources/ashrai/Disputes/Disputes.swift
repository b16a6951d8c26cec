import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai disputes open|resolve|list`.
struct Disputes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disputed invoices: dunning pauses while a dispute is open.",
                                                    subcommands: [DisputesOpen.self, DisputesResolve.self, DisputesList.self])
}
