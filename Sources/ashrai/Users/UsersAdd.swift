import AshraiCore
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai users add`.
struct UsersAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a login. Without --password-stdin a one-time password is generated and printed once; the user must change it at first login.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Username.") var username: String
    @Option(help: "Role: admin, manager, clerk or agency.") var role: String
    @Option(help: "Display name.") var displayName: String?
    @Option(help: "Agency id (agency logins only).") var agencyId: Int?
    @Flag(help: "Read the initial password from standard input.") var passwordStdin = false

    func validate() throws {
        guard Role(rawValue: role) != nil else { throw ValidationError("--role must be one of admin, manager, clerk, agency") }
    }

    func run() async throws {
        let password = passwordStdin ? try readPassword(prompt: "", fromStdin: true) : PasswordPolicy.generate()
        var params: JSONObject = ["username": .string(username), "password": .string(password), "role": .string(role)]
        if let displayName { params["display_name"] = .string(displayName) }
        if let agencyId { params["agency_id"] = .int(agencyId) }
        try await options.run { connection in
            let user = try await connection.call("users.create", params)
            options.show(user) { user in
                userTable([user]) + (passwordStdin ? "" : "\none-time password (shown once): \(password)")
            }
        }
    }
}
