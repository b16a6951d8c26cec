import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser

/// `ashrai users reset-password`.
struct UsersResetPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-password",
        abstract: "Set a new password (generated and printed once unless --password-stdin); the user must change it at next login.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String
    @Flag(help: "Read the new password from standard input.") var passwordStdin = false

    func run() async throws {
        let password = passwordStdin ? try readPassword(prompt: "", fromStdin: true) : PasswordPolicy.generate()
        try await options.run { connection in
            let id = try await resolveUserID(user, on: &connection)
            let result = try await connection.call("users.reset_password", ["id": .int(id), "password": .string(password)])
            options.show(result) { userTable([$0]) + (passwordStdin ? "" : "\none-time password (shown once): \(password)") }
        }
    }
}
