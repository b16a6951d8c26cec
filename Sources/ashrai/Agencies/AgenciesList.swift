import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AgenciesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Agencies.")
    @OptionGroup var options: ClientOptions
    @Flag(help: "Only active ones.") var active = false

    func run() async throws {
        var params: JSONObject = [:]
        if active { params["active"] = true }
        try await options.run { connection in
            options.show(try await connection.call("agencies.list", params)) { agencyTable($0["agencies"]?.arrayValue ?? []) }
        }
    }
}
