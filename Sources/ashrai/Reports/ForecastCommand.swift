import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai forecast`.
struct ForecastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Expected collections per week (reports.forecast): a table and a bar chart, or CSV.",
        discussion: """
            Each bar is the week's expected amount (█), drawn on to the high end of its 90% band (░).
            --csv prints week,from,to,expected,low,high,committed and a last row "later" with the open
            amount not expected within the horizon, so the rows add up to what is open.
            """)
    @OptionGroup var options: ClientOptions
    @Option(help: "Weeks ahead, 1–26.") var weeks: Int = 13
    @Option(help: "As of YYYY-MM-DD (default today); a past day forecasts from the ledger as it stood then.") var asOf: String?
    @Flag(help: "CSV instead of the table.") var csv = false

    func run() async throws {
        var params: JSONObject = ["weeks": .int(weeks)]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            let report = try await connection.call("reports.forecast", params)
            if csv, !options.json {
                print(Self.csv(report), terminator: "")
                return
            }
            options.show(report) { Self.render($0) }
        }
    }

    static func csv(_ report: JSONValue) -> String {
        let weeks = report["weeks"]?.arrayValue ?? []
        var lines = ["week,from,to,expected,low,high,committed"]
        for week in weeks {
            lines.append(["week", "from", "to", "expected", "low", "high", "committed"].map { week[$0]?.cell ?? "" }.joined(separator: ","))
        }
        lines.append("later,,,\(report["not_expected"]?.cell ?? ""),,,")
        return lines.joined(separator: "\n") + "\n"
    }

    static func render(_ report: JSONValue) -> String {
        let weeks = report["weeks"]?.arrayValue ?? []
        func amount(_ value: JSONValue?) -> Decimal { Decimal(string: value?.stringValue ?? "") ?? 0 }
        let scale = weeks.map { amount($0["high"]) }.max() ?? 0
        let width = 40
        func cells(_ value: Decimal) -> Int {
            guard scale > 0 else { return 0 }
            return NSDecimalNumber(decimal: value * Decimal(width) / scale).intValue
        }
        let rows = weeks.map { week -> [String] in
            let expected = cells(amount(week["expected"]))
            let high = max(expected, cells(amount(week["high"])))
            let bar = String(repeating: "█", count: expected) + String(repeating: "░", count: high - expected)
            return [week["week"]?.cell ?? "", week["from"]?.cell ?? "", week["expected"]?.cell ?? "", week["low"]?.cell ?? "",
                    week["high"]?.cell ?? "", week["committed"]?.cell ?? "", bar]
        }
        let currency = report["currency"]?.cell ?? ""
        return "collections forecast as of \(report["as_of"]?.cell ?? "?") (\(currency))\n"
            + Table(headers: ["WEEK", "FROM", "EXPECTED", "LOW", "HIGH", "PROMISED", ""], rows: rows).render()
            + "\nexpected within \(weeks.count) weeks: \(report["expected_total"]?.cell ?? "-")"
            + "   not expected: \(report["not_expected"]?.cell ?? "-")   open: \(report["open"]?.cell ?? "-")"
    }
}
