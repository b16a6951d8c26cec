import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai assignments list|notify|recall|settle`.
struct Assignments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Accounts handed to agencies.",
                                                    subcommands: [AssignmentsList.self, AssignmentsNotify.self, AssignmentsRecall.self, AssignmentsSettle.self])
}
