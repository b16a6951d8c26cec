import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct TrainingAddCourse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-course", abstract: "Add a course (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Code.") var code: String
    @Argument(help: "Title.") var title: String
    @Option(help: "risk_assessment, collections, communication, legal, systems or other.") var topic: String
    @Option(help: "Roles that must have it, comma-separated (admin, manager, clerk).") var requiredFor: String?
    @Option(help: "Months a completion counts.") var validityMonths: Int?

    func run() async throws {
        var params: JSONObject = ["code": .string(code), "title": .string(title), "topic": .string(topic)]
        if let requiredFor { params["required_for_roles"] = .array(requiredFor.split(separator: ",").map { .string(String($0)) }) }
        if let validityMonths { params["validity_months"] = .int(validityMonths) }
        try await options.run { connection in
            options.show(try await connection.call("training.courses.create", params)) { "course \($0["code"]?.cell ?? "?") added" }
        }
    }
}
