import AshraiClient
import AshraiCore
import AshraiProtocol
import AshraiServer
import ArgumentParser
import Foundation
import Logging
import Postgres

/// `ashrai-bench --forecast`: the backtest of `reports.forecast` on the bench ledger. The daemon forecasts
/// 13 weeks from 91 days ago (it sees the ledger as it stood then); the weeks since are what was actually
/// collected on the receivables open that day; the baseline puts each open invoice on its due date (one
/// already due on the next day). Errors are statistics, not money, so they are computed in Double.
struct ForecastBacktest {
    var endpoint: ServerEndpoint
    var username: String
    var password: String
    var databaseURL: String

    static let weeks = 13

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresClient(configuration: DatabaseSetup.jobsConfiguration(for: try PostgresConfiguration(url: databaseURL)),
                                  maxConnections: 1, logger: logger)
        defer { Task { await pool.shutdown() } }
        let info = try await RPCConnection.with(endpoint) { try await $0.call("server.info") }
        guard let todayText = info["today"]?.stringValue, let today = PostgresDate(iso: todayText) else {
            throw ValidationError("server.info gave no today")
        }
        let asOf = PostgresDate(daysSinceEpoch: today.daysSinceEpoch - 7 * Self.weeks)
        var timings: [(String, Double)] = []
        let (report, todayReport) = try await RPCConnection.with(endpoint) { connection -> (JSONValue, JSONValue) in
            _ = try await connection.call("auth.login", ["username": .string(username), "password": .string(password)])
            func timed(_ name: String, _ method: String, _ params: JSONObject) async throws -> JSONValue {
                let start = ContinuousClock.now
                let result = try await connection.call(method, params)
                let elapsed = ContinuousClock.now - start
                timings.append((name, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
                return result
            }
            let past = try await timed("reports.forecast (as of 13 weeks ago)", "reports.forecast", ["as_of": .string(asOf.description), "weeks": .int(Self.weeks)])
            let now = try await timed("reports.forecast (today)", "reports.forecast", ["weeks": .int(Self.weeks)])
            _ = try await timed("worklist.today (limit 100)", "worklist.today", ["limit": 100])
            return (past, now)
        }
        guard let forecastWeeks = report["weeks"]?.arrayValue, forecastWeeks.count == Self.weeks else {
            throw ValidationError("reports.forecast answered \(report.encoded())")
        }
        let forecast = forecastWeeks.map { Double($0["expected"]?.stringValue ?? "") ?? 0 }

        // What came in each week on the invoices that were open on the day, and the baseline, both as the
        // daemon's jobs read (row-level security: 'system').
        let (actual, baseline) = try await pool.withTransaction(readOnly: true) { tx -> ([Double], [Double]) in
            try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
            var actual = [Double](repeating: 0, count: Self.weeks)
            let collected = try await tx.query("""
                SELECT (p.received_on - \(asOf)::date - 1) / 7 AS week, sum(a.amount + a.discount)::text
                FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
                WHERE i.issue_date <= \(asOf)::date AND p.received_on > \(asOf)::date AND p.received_on <= \(asOf)::date + \(7 * Self.weeks)::int
                GROUP BY 1
                """)
            for row in collected {
                actual[try row.decode(Int.self, at: 0)] = Double(try row.decode(String.self, at: 1)) ?? 0
            }
            var baseline = [Double](repeating: 0, count: Self.weeks)
            let binds: [PostgresBindValue] = [try asOf.postgresBind(), try true.postgresBind(), .null(.unspecified), try (7 * Self.weeks).postgresBind()]
            let due = try await tx.query(PostgresQuery(unsafeSQL: """
                WITH \(AgingStore.openInvoicesSQL(asOf: "$1", past: "$2", customer: "$3"))
                SELECT CASE WHEN due_date <= $1::date THEN 0 ELSE (due_date - $1::date - 1) / 7 END AS week, sum(open_amount)::text
                FROM open WHERE open_amount > 0 AND due_date <= $1::date + $4::int
                GROUP BY 1
                """, binds: binds))
            for row in due {
                baseline[try row.decode(Int.self, at: 0)] = Double(try row.decode(String.self, at: 1)) ?? 0
            }
            return (actual, baseline)
        }

        func mape(_ predicted: [Double]) -> Double {
            var sum = 0.0, count = 0
            for week in actual.indices where actual[week] > 0 {
                sum += abs(predicted[week] - actual[week]) / actual[week]
                count += 1
            }
            return count == 0 ? 0 : sum / Double(count) * 100
        }
        func totalError(_ predicted: [Double]) -> Double {
            let total = actual.reduce(0, +)
            return total > 0 ? abs(predicted.reduce(0, +) - total) / total * 100 : 0
        }
        func amount(_ value: Double) -> String { String(format: "%.0f", value) }
        var lines = ["forecast from \(asOf) (13 weeks) on the bench ledger, beside what came in and the naive baseline",
                     "| week | from | actual | forecast | low | high | baseline (due date) |", "|---:|---|---:|---:|---:|---:|---:|"]
        for (index, week) in forecastWeeks.enumerated() {
            lines.append("| \(index + 1) | \(week["from"]?.stringValue ?? "") | \(amount(actual[index])) | \(amount(forecast[index])) | "
                         + "\(week["low"]?.stringValue ?? "") | \(week["high"]?.stringValue ?? "") | \(amount(baseline[index])) |")
        }
        lines.append("| total | | \(amount(actual.reduce(0, +))) | \(amount(forecast.reduce(0, +))) | | | \(amount(baseline.reduce(0, +))) |")
        let (ours, naive) = ((mape(forecast), totalError(forecast)), (mape(baseline), totalError(baseline)))
        lines += ["", "| model | weekly MAPE | total's error |", "|---|---:|---:|",
                  "| reports.forecast | \(String(format: "%.1f %%", ours.0)) | \(String(format: "%.1f %%", ours.1)) |",
                  "| paid on the due date | \(String(format: "%.1f %%", naive.0)) | \(String(format: "%.1f %%", naive.1)) |",
                  "", "| call | ms |", "|---|---:|"]
        lines += timings.map { "| \($0.0) | \(String(format: "%.0f", $0.1)) |" }
        lines.append("(today's forecast: \(todayReport["expected_total"]?.stringValue ?? "?") expected of \(todayReport["open"]?.stringValue ?? "?") open)")
        print(lines.joined(separator: "\n"))
        guard ours.0 < naive.0, ours.1 < naive.1 else {
            print("FAIL: the forecast does not beat the baseline")
            throw ExitCode(1)
        }
        print("the forecast beats the baseline")
    }
}
