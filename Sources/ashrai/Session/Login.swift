import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai login`.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Log in and keep the session for later commands.")

    @OptionGroup var options: ClientOptions

    @Option(name: .long, help: "Username (prompted when omitted).")
    var username: String?

    @Flag(name: .long, help: "Read the password from standard input instead of prompting.")
    var passwordStdin = false

    func run() async throws {
        let name: String
        if let username {
            name = username
        } else {
            FileHandle.standardError.write(Data("username: ".utf8))
            name = readLine(strippingNewline: true) ?? ""
        }
        let password = try readPassword(prompt: "password: ", fromStdin: passwordStdin)
        try await options.run(resume: false) { connection in
            let result = try await connection.call("auth.login", ["username": .string(name), "password": .string(password)])
            guard let token = result["token"]?.stringValue else { throw ValidationError("the server sent no token") }
            try ClientFiles.saveSession(server: options.serverKey, token: token)
            options.show(result["user"] ?? .null) { user in
                var text = "logged in as \(user["username"]?.cell ?? "?") (\(user["role"]?.cell ?? "?")) until \(result["expires_at"]?.cell ?? "?")"
                if user["must_change_password"] == true {
                    text += "\nyou must choose a new password first: ashrai whoami --change-password"
                }
                return text
            }
        }
    }
}
