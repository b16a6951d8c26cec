import AshraiClient
import AshraiCore
import AshraiProtocol
import AshraiServer
import ArgumentParser
import Foundation
import Histogram
import Logging
import Postgres

/// `ashrai-bench`: N connections calling one method as fast as they can for a while, then the
/// same single-row query through libpq directly, printed side by side as a ratio.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ashrai-bench",
        abstract: "Load generator: server.ping and auth.whoami over N connections vs. SELECT now() through libpq.")

    @Option(help: "Server host:port.") var server = "127.0.0.1:7420"
    @Option(help: "Username for auth.whoami.") var username = "bench"
    @Flag(help: "Read the password from standard input.") var passwordStdin = false
    @Option(help: "Concurrent connections.") var connections = 8
    @Option(help: "Seconds per workload.") var seconds = 10
    @Option(help: "Database URL for the libpq baseline (the application role).") var databaseURL: String
    @Flag(help: "Measure reports.aging (through the daemon vs. the same SQL bare) instead of ping/whoami.") var aging = false
    @Option(help: "Runs per aging measurement (the median is printed).") var runs = 5
    @Option(help: "Generate bank statements from the ledger into this directory and import them (lines/s).") var bank: String?
    @Option(help: "Lines per statement format for --bank.") var bankLines = 100_000
    @Option(help: "Lines per statement file for --bank (a bank's daily file).") var bankFileLines = 2000
    @Option(help: "Database URL that may read every invoice (the owner), for --bank's sample and check.") var sampleURL: String?
    @Flag(help: "Backtest reports.forecast from 13 weeks ago against what came in and the due-date baseline; fails unless it wins.") var forecast = false

    struct Row {
        var name: String
        var operations: Int
        var elapsed: Duration
        var histogram: Histogram<UInt64>
        var opsPerSecond: Double { Double(operations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) }
    }

    func run() async throws {
        guard let (host, port) = ServerEndpoint.parse(server) else { throw ValidationError("--server must be host:port") }
        let endpoint = ServerEndpoint(host: host, port: port)
        let password = passwordStdin ? (readLine(strippingNewline: true) ?? "") : ""
        if let bank {
            try await BankBench(endpoint: endpoint, username: username, password: password, sampleURL: sampleURL ?? databaseURL,
                                directory: bank, lines: bankLines, linesPerFile: bankFileLines).run()
            return
        }
        if forecast {
            try await ForecastBacktest(endpoint: endpoint, username: username, password: password, databaseURL: databaseURL).run()
            return
        }
        if aging {
            try await measureAging(endpoint: endpoint, password: password)
            return
        }
        let duration = Duration.seconds(seconds)
        var rows: [Row] = []
        rows.append(try await measure("server.ping", duration: duration) { deadline in
            try await RPCConnection.with(endpoint) { connection in
                try await Self.loop(until: deadline) { _ = try await connection.call("server.ping") }
            }
        })
        rows.append(try await measure("auth.whoami", duration: duration) { deadline in
            try await RPCConnection.with(endpoint) { connection in
                _ = try await connection.call("auth.login", ["username": .string(username), "password": .string(password)])
                return try await Self.loop(until: deadline) { _ = try await connection.call("auth.whoami") }
            }
        })
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresClient(configuration: try PostgresConfiguration(url: databaseURL), maxConnections: connections, logger: logger)
        rows.append(try await measure("libpq SELECT now()", duration: duration) { deadline in
            try await Self.loop(until: deadline) { _ = try await pool.query("SELECT now()").scalar(Date.self) }
        })
        await pool.shutdown()
        print(Self.table(rows, connections: connections))
    }

    /// reports.aging through the daemon beside the same statement run bare through libpq.
    func measureAging(endpoint: ServerEndpoint, password: String) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        // The bare statement runs as the daemon's jobs do ('system' sees all rows, as staff do).
        let pool = PostgresClient(configuration: DatabaseSetup.jobsConfiguration(for: try PostgresConfiguration(url: databaseURL)),
                                  maxConnections: 1, logger: logger)
        // The daemon's today is the business's (its time zone), which is not PostgreSQL's current_date
        // near midnight: asking the daemon keeps both sides on the same day (the fast "today" path).
        let info = try await RPCConnection.with(endpoint) { try await $0.call("server.info") }
        guard let todayText = info["today"]?.stringValue, let today = PostgresDate(iso: todayText) else {
            throw ValidationError("server.info gave no today")
        }
        let past = PostgresDate(daysSinceEpoch: today.daysSinceEpoch - 90)
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        var lines = ["| aging as of | through ashraid (ms) | bare SQL via libpq (ms) | ratio | customers | invoices |", "|---|---:|---:|---:|---:|---:|"]
        for asOf in [today, past] {
            var daemon: [Double] = []
            var bare: [Double] = []
            var customers = 0
            var invoices = 0
            try await RPCConnection.with(endpoint) { connection in
                _ = try await connection.call("auth.login", ["username": .string(username), "password": .string(password)])
                for _ in 0..<runs {
                    let start = ContinuousClock.now
                    let report = try await connection.call("reports.aging", ["as_of": .string(asOf.description)])
                    daemon.append(Self.milliseconds(ContinuousClock.now - start))
                    customers = report["rows"]?.arrayValue?.count ?? 0
                    invoices = report["totals"]?["invoices"]?.intValue ?? 0
                }
            }
            for _ in 0..<runs {
                let start = ContinuousClock.now
                // The same statement the daemon runs, in a transaction as the daemon runs it: row-level
                // security needs to know who asks ('system' sees all rows, as staff do).
                _ = try await pool.withTransaction(readOnly: true) { tx in
                    try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
                    return try await tx.query(AgingStore.query(asOf: asOf, today: today, customerID: nil, minOverdueDays: nil, bounds: AgingBuckets.standard.bounds))
                }
                bare.append(Self.milliseconds(ContinuousClock.now - start))
            }
            lines.append("| \(asOf)\(asOf == today ? " (today)" : "") | \(String(format: "%.0f", median(daemon))) | \(String(format: "%.0f", median(bare))) | \(String(format: "%.2f", median(daemon) / median(bare))) | \(customers) | \(invoices) |")
        }
        await pool.shutdown()
        print(lines.joined(separator: "\n"))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// Calls `operation` until the deadline, recording each latency in microseconds.
    static func loop(until deadline: ContinuousClock.Instant, _ operation: () async throws -> Void) async throws -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let clock = ContinuousClock()
        while clock.now < deadline {
            let start = clock.now
            try await operation()
            let elapsed = clock.now - start
            _ = histogram.record(UInt64(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
        }
        return histogram
    }

    func measure(_ name: String, duration: Duration, _ worker: @escaping @Sendable (ContinuousClock.Instant) async throws -> Histogram<UInt64>) async throws -> Row {
        let start = ContinuousClock.now
        let deadline = start + duration
        let total = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for _ in 0..<connections { group.addTask { try await worker(deadline) } }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            for try await histogram in group { merged.add(histogram) }
            return merged
        }
        return Row(name: name, operations: Int(total.totalCount), elapsed: ContinuousClock.now - start, histogram: total)
    }

    static func table(_ rows: [Row], connections: Int) -> String {
        let baseline = rows.last?.opsPerSecond ?? 1
        func ms(_ micros: UInt64) -> String { String(format: "%.3f", Double(micros) / 1000) }
        var lines = ["connections: \(connections)", "",
                     "| workload | ops/s | p50 ms | p99 ms | vs libpq |", "|---|---:|---:|---:|---:|"]
        for row in rows {
            lines.append("| \(row.name) | \(String(format: "%.0f", row.opsPerSecond)) | \(ms(row.histogram.valueAtPercentile(50))) | \(ms(row.histogram.valueAtPercentile(99))) | \(String(format: "%.2f", row.opsPerSecond / baseline)) |")
        }
        return lines.joined(separator: "\n")
    }
}
