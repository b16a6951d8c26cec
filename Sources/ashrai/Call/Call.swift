import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai call METHOD '{params}'`: any method, before it has its own subcommand.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call any JSON-RPC method with JSON params; prints the JSON result.")

    @OptionGroup var options: ClientOptions

    @Argument(help: "The method, e.g. users.list.")
    var method: String

    @Argument(help: "Params as a JSON object (default {}).")
    var params: String = "{}"

    func validate() throws {
        guard case .object? = try? JSONValue.parse(params) else { throw ValidationError("params must be a JSON object") }
    }

    func run() async throws {
        guard case .object(let object) = try JSONValue.parse(params) else { return }
        try await options.run { connection in
            let result = try await connection.call(method, object)
            print(result.prettyEncoded(), terminator: "")
        }
    }
}
