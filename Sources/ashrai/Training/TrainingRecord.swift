import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct TrainingRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Record a completed course (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "User id.") var user: Int
    @Argument(help: "Course code.") var course: String
    @Option(help: "Completed on YYYY-MM-DD.") var completedOn: String
    @Option(help: "Score, 0–100.") var score: String?
    @Option(help: "Trainer.") var trainer: String?
    @Option(help: "Certificate reference.") var certificate: String?

    func run() async throws {
        var params: JSONObject = ["user_id": .int(user), "course_code": .string(course), "completed_on": .string(completedOn)]
        if let score { params["score"] = .string(score) }
        if let trainer { params["trainer"] = .string(trainer) }
        if let certificate { params["certificate_ref"] = .string(certificate) }
        try await options.run { connection in
            options.show(try await connection.call("training.records.add", params)) { r in
                "recorded \(r["course_code"]?.cell ?? "?") for \(r["username"]?.cell ?? "?"), valid until \(r["expires_on"]?.cell ?? "no expiry")"
            }
        }
    }
}
