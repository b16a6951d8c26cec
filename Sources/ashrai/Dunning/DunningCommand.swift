import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai dunning policy|run`.
struct DunningCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dunning", abstract: "The collection policy and its run.",
                                                    subcommands: [DunningPolicyCommand.self, DunningRun.self])
}
