import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai letters list|show`.
struct Letters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Dunning letters.", subcommands: [LettersList.self, LettersShow.self, LettersSent.self, LettersPrint.self])
}
