import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct KPIsTrend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trend", abstract: "A KPI month by month, drawn as bars.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Months back (1–36).") var months: Int = 12
    @Option(help: "Which KPI: dso_simple, dso_countback, cei, bad_debt_ratio, at_risk_rate, average_days_to_pay, …") var kpi: String = "dso_simple"

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("reports.kpis_trend", ["months": .int(months)])) { r in
                let rows = (r["months"]?.arrayValue ?? []).map { ($0["month"]?.stringValue ?? "?", Double($0["kpis"]?[kpi]?.stringValue ?? "")) }
                let top = max(rows.compactMap(\.1).max() ?? 0, 1)
                return "\(kpi)\n" + rows.map { month, value in
                    guard let value else { return "\(month)  -" }
                    let bar = String(repeating: "█", count: Int((value / top * 40).rounded()))
                    return "\(month)  \(bar) \(String(format: "%.1f", value))"
                }.joined(separator: "\n")
            }
        }
    }
}
