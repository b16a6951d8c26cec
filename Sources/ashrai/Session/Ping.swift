import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai ping`.
struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the server and its database answer.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.run(resume: false) { connection in
            let started = ContinuousClock.now
            let result = try await connection.call("server.ping")
            let elapsed = ContinuousClock.now - started
            options.show(result) { result in
                "pong from \(options.serverKey) in \(elapsed.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 1)))) (database time \(result["database_time"]?.cell ?? "?"))"
            }
        }
    }
}
