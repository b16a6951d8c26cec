import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser

/// A user named by id, or by username (looked up in users.list).
func resolveUserID(_ text: String, on connection: inout RPCConnection) async throws -> Int {
    if let id = Int(text), id > 0 { return id }
    let users = try await connection.call("users.list", ["include_disabled": true])["users"]?.arrayValue ?? []
    guard let match = users.first(where: { $0["username"]?.stringValue?.lowercased() == text.lowercased() }),
          let id = match["id"]?.intValue else {
        throw RPCFailure.notFound("user")
    }
    return id
}

/// `ashrai users set-role`.
struct UsersSetRole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Change a login's role.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String
    @Argument(help: "admin, manager, clerk or agency.") var role: String
    @Option(help: "Agency id (for the agency role).") var agencyId: Int?

    func validate() throws {
        guard Role(rawValue: role) != nil else { throw ValidationError("role must be one of admin, manager, clerk, agency") }
    }

    func run() async throws {
        try await options.run { connection in
            let id = try await resolveUserID(user, on: &connection)
            var params: JSONObject = ["id": .int(id), "role": .string(role)]
            if let agencyId { params["agency_id"] = .int(agencyId) }
            options.show(try await connection.call("users.set_role", params)) { userTable([$0]) }
        }
    }
}

/// Runs a users.* method that takes just the user's id and shows the user it returns.
func runUserMethod(_ method: String, _ user: String, options: ClientOptions) async throws {
    try await options.run { connection in
        let id = try await resolveUserID(user, on: &connection)
        options.show(try await connection.call(method, ["id": .int(id)])) { userTable([$0]) }
    }
}

/// `ashrai users disable`.
struct UsersDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable a login and end its sessions.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String

    func run() async throws { try await runUserMethod("users.disable", user, options: options) }
}

/// `ashrai users enable`.
struct UsersEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled login.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "User id or username.") var user: String

    func run() async throws { try await runUserMethod("users.enable", user, options: options) }
}

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
