import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AgenciesStatement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statement", abstract: "Assigned, collected, commission, net and recovery rate.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Agency id.") var agency: Int
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD.") var to: String?

    func run() async throws {
        var params: JSONObject = ["agency_id": .int(agency)]
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        try await options.run { connection in
            options.show(try await connection.call("agencies.statement", params)) { r in
                Table(headers: ["ASSIGNMENT", "CUSTOMER", "STATUS", "RATE %", "ASSIGNED", "COLLECTED", "COMMISSION", "NET"],
                      rows: (r["assignments"]?.arrayValue ?? []).map { l in
                          ["assignment_id", "customer_name", "status", "commission_rate", "assigned", "collected", "commission", "net"].map { l[$0]?.cell ?? "-" }
                      } + [["total", "", "", "", r["assigned"]?.cell ?? "", r["collected"]?.cell ?? "", r["commission"]?.cell ?? "", r["net"]?.cell ?? ""]])
                    .render() + "\nrecovery rate: \(r["recovery_rate"]?.cell ?? "-")%"
            }
        }
    }
}
