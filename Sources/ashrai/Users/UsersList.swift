import AshraiProtocol
import ArgumentParser

/// `ashrai users list`.
struct UsersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List logins.")

    @OptionGroup var options: ClientOptions
    @Flag(help: "Only enabled logins.") var activeOnly = false

    func run() async throws {
        try await options.run { connection in
            let result = try await connection.call("users.list", ["include_disabled": .bool(!activeOnly)])
            options.show(result) { userTable($0["users"]?.arrayValue ?? []) }
        }
    }
}
