import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AssignmentsNotify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notify", abstract: "Record that the customer was told; the assignment becomes active.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Assignment id.") var assignment: Int
    @Option(help: "YYYY-MM-DD.") var notifiedOn: String
    @Option(help: "The logged interaction.") var interaction: Int?

    func run() async throws {
        var params: JSONObject = ["id": .int(assignment), "customer_notified_on": .string(notifiedOn)]
        if let interaction { params["notification_interaction_id"] = .int(interaction) }
        try await options.run { connection in options.show(try await connection.call("assignments.notify", params)) { assignmentTable([$0]) } }
    }
}
