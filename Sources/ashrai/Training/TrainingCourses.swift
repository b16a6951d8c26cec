import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct TrainingCourses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "courses", abstract: "Courses.")
    @OptionGroup var options: ClientOptions
    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("training.courses.list")) { r in
                Table(headers: ["CODE", "TITLE", "TOPIC", "REQUIRED FOR", "VALID (MONTHS)"],
                      rows: (r["courses"]?.arrayValue ?? []).map { c in
                          [c["code"]?.cell ?? "-", c["title"]?.cell ?? "-", c["topic"]?.cell ?? "-",
                           (c["required_for_roles"]?.arrayValue ?? []).map(\.cell).joined(separator: ","), c["validity_months"]?.cell ?? "-"]
                      }).render()
            }
        }
    }
}
