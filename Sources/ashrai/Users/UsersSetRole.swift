import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser

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
