import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai credit …`.
struct Credit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Risk data, assessment, terms and the credit check.",
        subcommands: [CreditAssess.self, CreditTerms.self, CreditCheck.self, CreditHistory.self, CreditFinancials.self, CreditReference.self])
}
