import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AssignmentsSettle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "settle", abstract: "Close an assignment as settled.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Assignment id.") var assignment: Int
    @Option(help: "A note.") var reason: String?

    func run() async throws {
        var params: JSONObject = ["id": .int(assignment)]
        if let reason { params["reason"] = .string(reason) }
        try await options.run { connection in options.show(try await connection.call("assignments.settle", params)) { assignmentTable([$0]) } }
    }
}
