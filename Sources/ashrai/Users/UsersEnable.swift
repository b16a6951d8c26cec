import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser

/// `ashrai users enable`.
struct UsersEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled login.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String

    func run() async throws { try await runUserMethod("users.enable", user, options: options) }
}
