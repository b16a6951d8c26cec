import AshraiClient
import AshraiCore
import AshraiProtocol
import AshraiServer
import ArgumentParser
import Foundation
import Histogram
import Logging
import Postgres
import Synchronization

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
    @Option(help: "The daemon's process id: its CPU time per operation and its RSS are printed.") var daemonPid: Int32?
    @Flag(help: "The mixed staff workload instead (70 % reads, 20 % invoices.create, 10 % payments.record) over --mix-connections.") var mix = false
    @Option(help: "Connections for --mix.") var mixConnections = 32
    @Option(help: "Instead: hold this many idle logged-in connections and print the daemon's RSS (needs --daemon-pid).") var idle: Int?
    @Option(help: "Only the workloads whose names start with this (e.g. auth.whoami, to profile one).") var only: String?
    @Option(help: "Instead: live events — invoices.create over --connections writers with nobody watching, then with this many watchers (invoice.created); how late each event comes after the writer's reply.") var events: Int?
    @Option(help: "For --events: the watchers' daemon (host:port), to measure across daemons; default --server.") var watchServer: String?
    @Option(help: "For --events: the watchers' daemon's process id, whose CPU is counted with --daemon-pid's.") var watchDaemonPid: Int32?

    struct Row {
        var name: String
        var operations: Int
        var elapsed: Duration
        var histogram: Histogram<UInt64>
        /// What the row is compared with (a libpq row's name), and the daemon's CPU per operation.
        var baseline: String? = nil
        var daemonMicrosPerOp: Double? = nil
        /// The load generator's own CPU per operation (it shares the cores with the daemon and PostgreSQL).
        var benchMicrosPerOp: Double? = nil
        /// PostgreSQL's CPU per operation: every `postgres` process on the machine (the bench's cluster, alone on it).
        var postgresMicrosPerOp: Double? = nil
        /// Left out by --only.
        var skipped = false
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
        let token = try await RPCConnection.with(endpoint) { connection in
            try await connection.call("auth.login", ["username": .string(username), "password": .string(password)])["token"]?.stringValue ?? ""
        }
        if let idle {
            try await measureIdle(endpoint: endpoint, token: token, count: idle)
            return
        }
        let customers = try await seed(endpoint: endpoint, token: token)
        if mix {
            try await measureMix(endpoint: endpoint, token: token, customers: customers, duration: duration)
            return
        }
        if let events {
            var watchEndpoint = endpoint
            if let watchServer {
                guard let (host, port) = ServerEndpoint.parse(watchServer) else { throw ValidationError("--watch-server must be host:port") }
                watchEndpoint = ServerEndpoint(host: host, port: port)
            }
            try await EventsBench(endpoint: endpoint, watchEndpoint: watchEndpoint, token: token, customers: customers, duration: duration,
                                  writers: connections, watchers: events,
                                  daemonPids: [daemonPid, watchDaemonPid].compactMap { $0 }).run()
            return
        }
        var rows: [Row] = []
        rows.append(try await measure("server.ping", duration: duration, baseline: "libpq SELECT now()") { deadline in
            try await RPCConnection.with(endpoint) { connection in
                try await Self.loop(until: deadline) { _ = try await connection.call("server.ping") }
            }
        })
        rows.append(try await measure("auth.whoami", duration: duration, baseline: "libpq SELECT now()") { deadline in
            try await Self.loggedIn(endpoint, token) { connection in
                try await Self.loop(until: deadline) { _ = try await connection.call("auth.whoami") }
            }
        })
        rows.append(try await measure("customers.get", duration: duration, baseline: "libpq one customer") { deadline in
            try await Self.loggedIn(endpoint, token) { connection in
                try await Self.loop(until: deadline) { _ = try await connection.call("customers.get", ["id": customers.randomElement()!]) }
            }
        })
        rows.append(try await measure("invoices.list (20 of a customer)", duration: duration, baseline: "libpq 20 invoices") { deadline in
            try await Self.loggedIn(endpoint, token) { connection in
                try await Self.loop(until: deadline) {
                    _ = try await connection.call("invoices.list", ["customer_id": customers.randomElement()!, "limit": 20])
                }
            }
        })
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresClient(configuration: try PostgresConfiguration(url: databaseURL), maxConnections: connections, logger: logger)
        // The same rows fetched bare: one statement per operation on the daemon's own role as its jobs run
        // ('system' sees every row, as staff do) — the floor a request could reach.
        let bare = PostgresClient(configuration: DatabaseSetup.jobsConfiguration(for: try PostgresConfiguration(url: databaseURL)),
                                  maxConnections: connections, logger: logger)
        rows.append(try await measure("libpq SELECT now()", duration: duration) { deadline in
            try await Self.loop(until: deadline) { _ = try await pool.query("SELECT now()").scalar(Date.self) }
        })
        rows.append(try await measure("libpq one customer", duration: duration) { deadline in
            try await Self.loop(until: deadline) {
                let id = Int64(customers.randomElement()!.intValue!)
                _ = try await bare.query("SELECT * FROM customers WHERE id = \(id)")
            }
        })
        rows.append(try await measure("libpq 20 invoices", duration: duration) { deadline in
            try await Self.loop(until: deadline) {
                let id = Int64(customers.randomElement()!.intValue!)
                _ = try await bare.query("SELECT * FROM invoices WHERE customer_id = \(id) AND id > 0 ORDER BY id LIMIT 20")
            }
        })
        await pool.shutdown()
        await bare.shutdown()
        print(Self.table(rows, connections: connections))
    }

    /// A connection that resumed the bench's session.
    static func loggedIn<Result>(_ endpoint: ServerEndpoint, _ token: String, _ body: (inout RPCConnection) async throws -> Result) async throws -> Result {
        try await RPCConnection.with(endpoint) { connection in
            _ = try await connection.call("auth.resume", ["token": .string(token)])
            return try await body(&connection)
        }
    }

    /// 200 customers (limit 10,000,000) with 5 invoices each, through the daemon; their ids.
    func seed(endpoint: ServerEndpoint, token: String) async throws -> [JSONValue] {
        try await withThrowingTaskGroup(of: [JSONValue].self) { group in
            let run = UInt32.random(in: 0...UInt32.max)
            for worker in 0..<8 {
                group.addTask {
                    try await Self.loggedIn(endpoint, token) { connection in
                        var ids: [JSONValue] = []
                        for n in 0..<25 {
                            let id = try await connection.call("customers.create", ["name": .string("Bench \(run) \(worker)-\(n)")])["id"] ?? .null
                            _ = try await connection.call("credit.terms.set", ["customer_id": id, "credit_limit": "10000000", "net_days": 30,
                                                                                "late_interest_rate": "0", "reason": "bench"])
                            for k in 0..<5 {
                                _ = try await connection.call("invoices.create", ["customer_id": id, "number": .string("B\(run)-\(worker)-\(n)-\(k)"),
                                                                                  "issue_date": .string(Self.today), "amount": "100.00"])
                            }
                            ids.append(id)
                        }
                        return ids
                    }
                }
            }
            var all: [JSONValue] = []
            for try await ids in group { all += ids }
            return all
        }
    }

    static var today: String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// Staff at work: 70 % reads (customers.get, invoices.list, statements.get), 20 % invoices.create,
    /// 10 % payments.record, over `mixConnections`.
    func measureMix(endpoint: ServerEndpoint, token: String, customers: [JSONValue], duration: Duration) async throws {
        let run = UInt32.random(in: 0...UInt32.max)
        let counter = Counter()
        let row = try await measure("mix (70 % reads, 20 % invoices.create, 10 % payments.record)", duration: duration, connections: mixConnections) { deadline in
            try await Self.loggedIn(endpoint, token) { connection in
                var n = 0
                return try await Self.loop(until: deadline) {
                    n += 1
                    let customer = customers.randomElement()!
                    let roll = Int.random(in: 0..<100)
                    do {
                        switch roll {
                        case 0..<25: _ = try await connection.call("customers.get", ["id": customer])
                        case 25..<50: _ = try await connection.call("invoices.list", ["customer_id": customer, "limit": 20])
                        case 50..<70: _ = try await connection.call("statements.get", ["customer_id": customer])
                        case 70..<90:
                            _ = try await connection.call("invoices.create", ["customer_id": customer, "number": .string("M\(run)-\(UUID().uuidString.prefix(12))"),
                                                                              "issue_date": .string(Self.today), "amount": "50.00"])
                        default:
                            _ = try await connection.call("payments.record", ["customer_id": customer, "amount": "40.00", "method": "bank_transfer",
                                                                              "received_on": .string(Self.today)])
                        }
                    } catch is RPCFailure {
                        counter.add()
                    }
                }
            }
        }
        print(Self.table([row], connections: mixConnections))
        print("refused or failed: \(counter.value)")
    }

    /// `count` idle connections, each logged in (auth.resume), held for 5 s: the daemon's RSS before and with them.
    func measureIdle(endpoint: ServerEndpoint, token: String, count: Int) async throws {
        guard let daemonPid else { throw ValidationError("--idle needs --daemon-pid") }
        let before = Self.rssMiB(daemonPid)
        let (resumed, signal) = AsyncStream<Void>.makeStream()
        let hold = Duration.seconds(max(8, count / 50))
        try await withThrowingTaskGroup(of: Void.self) { group in
            // In batches of 50, each logged in before the next batch opens: the daemon caps the connections from one
            // address that are not logged in yet (server.maxAnonymousPerAddress, 64).
            var waiting = resumed.makeAsyncIterator()
            for start in stride(from: 0, to: count, by: 50) {
                let batch = min(50, count - start)
                for _ in 0..<batch {
                    group.addTask {
                        try await Self.loggedIn(endpoint, token) { connection in
                            signal.yield()
                            try await Task.sleep(for: hold)
                            _ = try await connection.call("server.ping")
                        }
                    }
                }
                for _ in 0..<batch { _ = await waiting.next() }
            }
            try await Task.sleep(for: .seconds(3))
            let with = Self.rssMiB(daemonPid)
            print("| idle logged-in connections | daemon RSS before | with them | per connection |\n|---:|---:|---:|---:|")
            print("| \(count) | \(String(format: "%.0f", before)) MiB | \(String(format: "%.0f", with)) MiB | \(String(format: "%.1f", (with - before) * 1024 / Double(count))) KiB |")
            try await group.waitForAll()
        }
    }

    static func rssMiB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
        }
        return 0
    }

    /// The CPU time so far of every process named `postgres` (the postmaster and its backends; a backend that
    /// exited meanwhile is not counted), in microseconds.
    static func postgresCPUMicros() -> Double {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var total = 0.0
        for entry in entries where entry.first?.isNumber == true {
            guard let name = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8), name.hasPrefix("postgres"),
                  let pid = Int32(entry), let micros = cpuMicros(pid) else { continue }
            total += micros
        }
        return total
    }

    /// The daemon's user + system CPU time so far, in microseconds (from /proc).
    static func cpuMicros(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based over the whole line).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / ticks * 1_000_000
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

    func measure(_ name: String, duration: Duration, baseline: String? = nil, connections: Int? = nil,
                 _ worker: @escaping @Sendable (ContinuousClock.Instant) async throws -> Histogram<UInt64>) async throws -> Row {
        if let only, !name.hasPrefix(only) {
            return Row(name: name, operations: 0, elapsed: .zero,
                       histogram: Histogram(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three), skipped: true)
        }
        let cpuBefore = daemonPid.flatMap(Self.cpuMicros)
        let benchBefore = Self.cpuMicros(getpid())
        let postgresBefore = Self.postgresCPUMicros()
        let start = ContinuousClock.now
        let deadline = start + duration
        let total = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for _ in 0..<(connections ?? self.connections) { group.addTask { try await worker(deadline) } }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            for try await histogram in group { merged.add(histogram) }
            return merged
        }
        var row = Row(name: name, operations: Int(total.totalCount), elapsed: ContinuousClock.now - start, histogram: total, baseline: baseline)
        if let cpuBefore, let cpuAfter = daemonPid.flatMap(Self.cpuMicros), row.operations > 0 {
            row.daemonMicrosPerOp = (cpuAfter - cpuBefore) / Double(row.operations)
        }
        if let benchBefore, let benchAfter = Self.cpuMicros(getpid()), row.operations > 0 {
            row.benchMicrosPerOp = (benchAfter - benchBefore) / Double(row.operations)
        }
        if row.operations > 0 { row.postgresMicrosPerOp = (Self.postgresCPUMicros() - postgresBefore) / Double(row.operations) }
        return row
    }

    static func table(_ rows: [Row], connections: Int) -> String {
        func ms(_ micros: UInt64) -> String { String(format: "%.3f", Double(micros) / 1000) }
        var lines = ["connections: \(connections)", "",
                     "| workload | ops/s | p50 ms | p99 ms | p99/p50 | vs libpq | daemon CPU µs/op | bench CPU µs/op | PostgreSQL CPU µs/op |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in rows where !row.skipped {
            let versus = row.baseline.flatMap { name in rows.first { $0.name == name && !$0.skipped } }.map { String(format: "%.2f", row.opsPerSecond / $0.opsPerSecond) }
                ?? (row.name.hasPrefix("libpq") ? "1.00" : "—")
            let p50 = row.histogram.valueAtPercentile(50)
            let p99 = row.histogram.valueAtPercentile(99)
            lines.append("| \(row.name) | \(String(format: "%.0f", row.opsPerSecond)) | \(ms(p50)) | \(ms(p99)) | \(String(format: "%.1f", Double(p99) / Double(max(p50, 1)))) | \(versus) | \(row.daemonMicrosPerOp.map { String(format: "%.0f", $0) } ?? "—") | \(row.benchMicrosPerOp.map { String(format: "%.0f", $0) } ?? "—") | \(row.postgresMicrosPerOp.map { String(format: "%.0f", $0) } ?? "—") |")
        }
        return lines.joined(separator: "\n")
    }
}

/// A count shared by the workers.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
