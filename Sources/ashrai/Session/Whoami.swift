import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai whoami` (and changing one's own password).
struct Whoami: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the session's user; --change-password to choose a new password.")

    @OptionGroup var options: ClientOptions

    @Flag(name: .long, help: "Change your password (prompted; with --password-stdin: old, then new, one per line).")
    var changePassword = false

    @Flag(name: .long, help: "Read passwords from standard input.")
    var passwordStdin = false

    func run() async throws {
        try await options.run { connection in
            if changePassword {
                let old = try readPassword(prompt: "current password: ", fromStdin: passwordStdin)
                let new = try readPassword(prompt: "new password: ", fromStdin: passwordStdin)
                _ = try await connection.call("auth.change_password", ["old_password": .string(old), "new_password": .string(new)])
            }
            let result = try await connection.call("auth.whoami")
            options.show(result) { result in
                let user = result["user"] ?? .null
                return Table(headers: ["USERNAME", "NAME", "ROLE", "SESSION EXPIRES"],
                             rows: [[user["username"]?.cell ?? "-", user["display_name"]?.cell ?? "-",
                                     user["role"]?.cell ?? "-", result["expires_at"]?.cell ?? "-"]]).render()
            }
        }
    }
}
