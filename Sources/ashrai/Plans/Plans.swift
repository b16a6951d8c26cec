import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai plans create|agree|show|list|cancel|check`.
struct Plans: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Installment plans agreed in writing.",
                                                    subcommands: [PlansCreate.self, PlansAgree.self, PlansShow.self, PlansList.self, PlansCancel.self])
}
