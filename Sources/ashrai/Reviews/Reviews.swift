import AshraiClient
import AshraiProtocol
import ArgumentParser

/// `ashrai reviews …`.
struct Reviews: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Periodic credit reviews.", subcommands: [ReviewsDue.self, ReviewsRecord.self])
}
