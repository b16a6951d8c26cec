import AshraiProtocol
import ArgumentParser

/// `ashrai users show`.
struct UsersShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one login by id or username.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String

    func run() async throws {
        try await runUserMethod("users.get", user, options: options)
    }
}
