import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct TrainingRecords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "records", abstract: "Training records (your own, or --user for a manager).")
    @OptionGroup var options: ClientOptions
    @Option(help: "User id.") var user: Int?
    func run() async throws {
        var params: JSONObject = [:]
        if let user { params["user_id"] = .int(user) }
        try await options.run { connection in
            options.show(try await connection.call("training.records.list", params)) { r in
                Table(headers: ["USER", "COURSE", "COMPLETED", "EXPIRES", "SCORE", "TRAINER"],
                      rows: (r["records"]?.arrayValue ?? []).map { x in ["username", "course_code", "completed_on", "expires_on", "score", "trainer"].map { x[$0]?.cell ?? "-" } })
                    .render()
            }
        }
    }
}
