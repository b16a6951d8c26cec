import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai logout`.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the session on the server and forget it here.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.run { connection in
            _ = try await connection.call("auth.logout")
            ClientFiles.deleteSession()
            options.show(["ok": true]) { _ in "logged out" }
        }
    }
}
