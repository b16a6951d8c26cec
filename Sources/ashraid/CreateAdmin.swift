import ArgumentParser
import AshraiCore
import AshraiServer
import Foundation
import Postgres

/// `ashraid create-admin`: creates or resets an admin login.
struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-admin",
        abstract: "Create (or reset) an admin. With --generate, print a one-time password the admin must change at first login.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The admin's username.")
    var username: String = "admin"

    @Flag(name: .long, help: "Read the password from standard input (one line).")
    var passwordStdin = false

    @Flag(name: .long, help: "Generate a one-time password and print it once.")
    var generate = false

    @Flag(name: .long, help: "Do nothing if an active admin already exists (for first-run set-up).")
    var ifNone = false

    func validate() throws {
        guard passwordStdin != generate else { throw ValidationError("give exactly one of --password-stdin and --generate") }
    }

    func run() async throws {
        let config = try await loadConfiguration(common)
        let logger = makeLogger(level: config.logLevel)
        let database = try await openCurrentDatabase(config, logger: logger)
        let secrets = Secrets(cost: config.passwordCost)
        defer { Task { await database.shutdown(); await secrets.shutdown() } }
        let password: String
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on standard input") }
            password = line
        } else {
            password = PasswordPolicy.generate()
        }
        do {
            let outcome = try await AdminBootstrap.createOrReset(
                username: username, password: password, mustChangePassword: generate, onlyIfNone: ifNone,
                database: database, secrets: secrets)
            switch outcome {
            case .skipped:
                print("an active admin exists; nothing to do")
            case .created, .reset:
                print("admin \(username) \(outcome == .created ? "created" : "reset")")
                if generate {
                    print("one-time password (shown once; change it at first login): \(password)")
                }
            }
        } catch let failure as AdminBootstrap.Failure {
            FileHandle.standardError.write(Data("ashraid: \(failure.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
