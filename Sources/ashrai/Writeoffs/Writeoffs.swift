import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai writeoffs …`.
struct Writeoffs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bad debt write-offs (manager).", subcommands: [WriteoffsCreate.self, WriteoffsList.self])
}
