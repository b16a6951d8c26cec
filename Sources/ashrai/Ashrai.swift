import ArgumentParser

/// `ashrai`: the staff command-line client.
@main
struct Ashrai: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ashrai",
        abstract: "Ashrai staff client.",
        version: "0.1.0",
        subcommands: [Ping.self]
    )
}
