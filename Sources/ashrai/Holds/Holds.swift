import AshraiClient
import AshraiProtocol
import ArgumentParser

/// `ashrai holds …`.
struct Holds: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Credit hold: stop supplying on credit — a last step after contact and mediation.",
        subcommands: [HoldsPlace.self, HoldsRelease.self, HoldsList.self])
}
