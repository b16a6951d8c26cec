import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai agencies add|list|show|statement`.
struct Agencies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Collection agencies and their terms.",
                                                    subcommands: [AgenciesAdd.self, AgenciesList.self, AgenciesShow.self, AgenciesStatement.self])
}
