import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct TrainingCompliance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compliance", abstract: "Who is missing, expired or expiring, and the team's rate.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD.") var asOf: String?
    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("training.compliance", params)) { r in
                var rows: [[String]] = []
                for user in r["users"]?.arrayValue ?? [] {
                    for course in user["courses"]?.arrayValue ?? [] {
                        rows.append([user["username"]?.cell ?? "-", user["role"]?.cell ?? "-", course["code"]?.cell ?? "-", course["status"]?.cell ?? "-",
                                     course["expires_on"]?.cell ?? "-"])
                    }
                }
                return Table(headers: ["USER", "ROLE", "COURSE", "STATUS", "EXPIRES"], rows: rows).render()
                    + "\ncompliance rate: \(r["compliance_rate"]?.cell ?? "-")%"
            }
        }
    }
}
