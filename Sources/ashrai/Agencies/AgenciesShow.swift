import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AgenciesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One agency and its open assignments.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Agency id.") var agency: Int

    func run() async throws {
        try await options.run { connection in
            let record = try await connection.call("agencies.get", ["id": .int(agency)])
            let assignments = try await connection.call("assignments.list", ["agency_id": .int(agency), "status": "active"])
            options.show(["agency": record, "assignments": assignments["assignments"] ?? []]) { r in
                agencyTable([r["agency"] ?? .null]) + "\nactive assignments:\n" + assignmentTable(r["assignments"]?.arrayValue ?? [])
            }
        }
    }
}
