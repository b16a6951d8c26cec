import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct KPIsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The KPIs of one period.")
    @OptionGroup var options: ClientOptions
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD (default today).") var to: String?

    func run() async throws {
        try await options.run { connection in
            var params: JSONObject = [:]
            if let from, let to { params = ["from": .string(from), "to": .string(to)] } else {
                let today = try await connection.call("server.ping")["database_time"]?.stringValue?.prefix(10).description ?? ""
                let end = to ?? today
                let start = from ?? ISO8601DateFormatter().date(from: end + "T00:00:00Z").map {
                    String(ISO8601DateFormatter().string(from: $0.addingTimeInterval(-89 * 86_400)).prefix(10)) } ?? end
                params = ["from": .string(start), "to": .string(end)]
            }
            options.show(try await connection.call("reports.kpis", params)) { r in
                let figures = r["figures"] ?? .null
                return "\(r["from"]?.cell ?? "") … \(r["to"]?.cell ?? "") (\(r["days"]?.cell ?? "?") days)\n"
                    + Table(headers: ["KPI", "VALUE"], rows: kpiNames.map { [$0.1, r["kpis"]?[$0.0]?.cell ?? "-"] }).render() + "\n"
                    + Table(headers: ["FIGURE", "VALUE"], rows: (figures.objectValue?.keys ?? []).map { [$0, figures[$0]?.cell ?? "-"] }).render()
            }
        }
    }
}
