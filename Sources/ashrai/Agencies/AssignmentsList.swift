import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AssignmentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Assignments (an agency login sees its own active ones).")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this agency.") var agency: Int?
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "pending, active, recalled or settled.") var status: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let agency { params["agency_id"] = .int(agency) }
        if let customer { params["customer_id"] = .int(customer) }
        if let status { params["status"] = .string(status) }
        try await options.run { connection in
            options.show(try await connection.call("assignments.list", params)) { assignmentTable($0["assignments"]?.arrayValue ?? []) }
        }
    }
}
