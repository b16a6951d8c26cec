import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai training courses|add-course|record|records|compliance`.
struct Training: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Staff training records.",
                                                    subcommands: [TrainingCourses.self, TrainingAddCourse.self, TrainingRecord.self, TrainingRecords.self, TrainingCompliance.self])
}
