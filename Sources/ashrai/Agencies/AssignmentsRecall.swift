import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AssignmentsRecall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recall", abstract: "Take the invoices back; the agency's access ends at once.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Assignment id.") var assignment: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("assignments.recall", ["id": .int(assignment), "reason": .string(reason)])) { assignmentTable([$0]) }
        }
    }
}
