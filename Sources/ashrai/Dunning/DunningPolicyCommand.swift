import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct DunningPolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Show the policy, or set a new version from a JSON file (admin).")
    @OptionGroup var options: ClientOptions
    @Option(help: "A JSON file {\"levels\": [...]} to set as the new version.") var set: String?
    @Option(help: "Why it changes.") var reason: String?

    func run() async throws {
        var method = "dunning.policy.get"
        var params: JSONObject = [:]
        if let set {
            guard let data = FileManager.default.contents(atPath: set), let json = try? JSONValue.parse(Array(data)), let levels = json["levels"] else {
                throw ValidationError("\(set) is not a JSON file with levels")
            }
            method = "dunning.policy.set"
            params["levels"] = levels
            if let reason { params["reason"] = .string(reason) }
        }
        try await options.run { connection in
            options.show(try await connection.call(method, params)) { p in
                "policy version \(p["version"]?.cell ?? "?")\(p["is_default"] == true ? " (the default from Config/)" : "")\n"
                    + Table(headers: ["LEVEL", "DAYS OVERDUE", "ACTION", "TEMPLATE", "FEE", "PAY WITHIN", "CALL FIRST"],
                            rows: (p["levels"]?.arrayValue ?? []).map { l in ["level", "days_overdue", "action", "template", "fee", "pay_within_days", "requires_call"].map { l[$0]?.cell ?? "-" } })
                        .render()
            }
        }
    }
}
