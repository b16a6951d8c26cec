import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser

/// `ashrai users disable`.
struct UsersDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable a login and end its sessions.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String

    func run() async throws { try await runUserMethod("users.disable", user, options: options) }
}
