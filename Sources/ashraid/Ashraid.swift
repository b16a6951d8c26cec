import ArgumentParser

/// `ashraid`: the Ashrai daemon.
@main
struct Ashraid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ashraid",
        abstract: "Ashrai customer-credit server (JSON-RPC 2.0 over TCP, PostgreSQL behind).",
        version: AshraidVersion.current,
        subcommands: [Serve.self, Migrate.self, CreateAdmin.self, OpenRPC.self, Version.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (YAML). Default: Config/ashraid.yaml if present.")
    var config: String?
}

enum AshraidVersion {
    static let current = "0.1.0"
}
