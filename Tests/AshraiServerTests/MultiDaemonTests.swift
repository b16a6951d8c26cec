import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `ashraid serve` process (the binary next to the test bundle) on a database of the test cluster.
final class DaemonProcess: Sendable {
    let port: Int
    private let process: Process
    private let exited: AsyncStream<Int32>

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ashraid")
    }

    /// Starts a daemon on a free port and waits until it accepts connections; `environment` adds `ASHRAI_*` settings.
    init(databaseURL: String, port: Int? = nil, environment extra: [String: String] = [:]) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the ashraid product first")
        self.port = try port ?? Self.freePort()
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--listen", "127.0.0.1:\(self.port)"]
        // The repository's SQL/ and Config/ (templates, the default dunning policy), as an installed daemon has them.
        process.currentDirectoryURL = URL(fileURLWithPath: TestDatabase.repositoryRootPath)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ASHRAI_") }
        environment["ASHRAI_DATABASE_URL"] = databaseURL
        environment["ASHRAI_LOG_LEVEL"] = "error"
        environment["ASHRAI_DUNNING_SCHEDULE"] = "off"
        environment["ASHRAI_AUTH_HASH_MEMORY_KIB"] = "19456"   // the floor: logins are not what is tested here
        environment["ASHRAI_AUTH_HASH_OPERATIONS"] = "2"
        environment.merge(extra) { _, given in given }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let (exited, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        self.exited = exited
        self.process = process
        try process.run()
        for _ in 0..<200 {
            if Self.accepts(self.port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw TestFailure()
    }

    /// SIGTERM, and the exit status once it has exited.
    func stop() async -> Int32? {
        process.terminate()
        for await status in exited { return status }
        return nil
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Several daemons on one database (issue 20): the daemon keeps no state of its own, so a session, its end and
/// every job's "once" hold across processes.
@Suite("several daemons on one database")
struct MultiDaemonTests {
    /// A migrated database of the test cluster, a pool on it, and its admin.
    static func database(_ prefix: String) async throws -> (TestDatabase, PostgresClient, (username: String, password: String)) {
        let database = try await TestDatabase.create(prefix)
        _ = try await DatabaseSetup.migrate(migrationURL: database.ownerURL, applicationURL: database.applicationURL,
                                            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        let pool = PostgresClient(configuration: database.applicationConfiguration, maxConnections: 2, logger: makeTestLogger())
        let admin = (username: "boss", password: "daemons admin password")
        _ = try await AdminBootstrap.createOrReset(username: admin.username, password: admin.password, mustChangePassword: false,
                                                   onlyIfNone: false, database: pool, secrets: Shared.secrets)
        return (database, pool, admin)
    }

    @Test("three ashraid processes: a session from one works on the others, a user disabled on one is refused on another at its next call, dunning runs and schedules on all of them write each letter once, and a watcher on one hears what the others write, by NOTIFY", .timeLimit(.minutes(5)))
    func threeDaemons() async throws {
        let (database, pool, admin) = try await Self.database("daemons")
        var daemons: [DaemonProcess] = []
        // Events must come by NOTIFY here: no polling to fall back on within the test.
        let listenOnly = ["ASHRAI_EVENTS_POLL_INTERVAL_SECONDS": "600"]
        for _ in 0..<3 { daemons.append(try await DaemonProcess(databaseURL: database.applicationURL, environment: listenOnly)) }
        let (a, b, c) = (daemons[0].port, daemons[1].port, daemons[2].port)
        do {
            // One login, three daemons.
            let token = try await LineClient.with(port: a) { try await $0.login(admin.username, admin.password) }
            // Where the event stream stood before anything happened.
            let start = try await LineClient.with(port: c) { client in
                _ = try await client.result("auth.resume", ["token": .string(token)])
                return try #require(try await client.result("events.subscribe")["cursor"])
            }
            for port in [b, c] {
                try await LineClient.with(port: port) { client in
                    _ = try await client.result("auth.resume", ["token": .string(token)])
                    #expect(try await client.result("auth.whoami")["user"]?["username"] == .string(admin.username))
                }
            }

            // A clerk working on B is disabled by the admin on C: B refuses the clerk's very next call.
            let clerk = try await makeUser(port: a, role: .clerk, admin: admin)
            try await LineClient.with(port: b) { working in
                _ = try await working.login(clerk.username, clerk.password)
                #expect(try await working.call("customers.list")["result"] != nil)
                try await LineClient.with(port: c) { boss in
                    _ = try await boss.result("auth.resume", ["token": .string(token)])
                    _ = try await boss.result("users.disable", ["id": .int(clerk.id)])
                }
                #expect(try await working.call("customers.list").errorCode == 401)
            }

            // Twelve customers two weeks overdue; six dunning runs for the same day, two on each daemon, at once.
            let customers = try await LineClient.with(port: a) { client -> [JSONValue] in
                _ = try await client.result("auth.resume", ["token": .string(token)])
                var ids: [JSONValue] = []
                for n in 0..<12 {
                    let id = try await client.customer("Late \(n) Ltd")
                    _ = try await client.invoice(id, "\(100 + n).00", due: "2026-01-01")
                    ids.append(id)
                }
                return ids
            }
            let runs = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for k in 0..<6 {
                    let port = daemons[k % 3].port
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            _ = try await client.result("auth.resume", ["token": .string(token)])
                            return try await client.result("dunning.run", ["as_of": "2026-01-05"])
                        }
                    }
                }
                var all: [JSONValue] = []
                for try await run in group { all.append(run) }
                return all
            }
            #expect(runs.count == 6)
            let letters = try await pool.asSystem("""
                SELECT customer_id, level, count(*)::int AS n FROM letters GROUP BY customer_id, level
                """)
            // Every customer got its letter, and no (customer, level) twice, whichever daemon wrote it.
            #expect(Set(try letters.map { try $0.decode(Int.self, column: "customer_id") }) == Set(customers.compactMap(\.intValue)))
            #expect(try letters.allSatisfy { try $0.decode(Int.self, column: "n") == 1 })

            // Schedules: three more daemons whose daily run is due the moment they start (00:00 on the business's
            // clock) — one scheduled run for today, and still no letter twice.
            for _ in 0..<3 { daemons.append(try await DaemonProcess(databaseURL: database.applicationURL, environment: ["ASHRAI_DUNNING_SCHEDULE": "00:00"])) }
            func scheduledRuns() async throws -> Int {
                try await pool.asSystem("SELECT count(*)::int FROM dunning_runs WHERE scheduled").scalar(Int.self)
            }
            for _ in 0..<150 where try await scheduledRuns() == 0 { try await Task.sleep(for: .milliseconds(200)) }
            try await Task.sleep(for: .seconds(1))   // the other two take the run's lock after it and find it done
            #expect(try await scheduledRuns() == 1)
            let after = try await pool.asSystem("SELECT customer_id, level, count(*)::int AS n FROM letters GROUP BY customer_id, level")
            #expect(try after.allSatisfy { try $0.decode(Int.self, column: "n") == 1 })

            // Live events across daemons. A watcher on B asks for every letter since the start: each letter the six
            // runs and the scheduled one wrote, on whichever daemon, once.
            try await LineClient.with(port: b) { watcher in
                _ = try await watcher.result("auth.resume", ["token": .string(token)])
                _ = try await watcher.result("events.subscribe", ["topics": ["letter.created", "invoice.created", "payment.recorded"],
                                                                  "since": start])
                let written = Set(try await pool.asSystem("SELECT id FROM letters").map { try $0.decode(Int.self, at: 0) })
                var told: [Int] = []
                var invoices = 0
                while told.count < written.count {
                    let event = try #require(try await watcher.notification())
                    if event["method"] == "events.invoice_created" { invoices += 1; continue }
                    told.append(try #require(event["params"]?["data"]?["letter_id"]?.intValue))
                }
                #expect(invoices == customers.count)
                #expect(told.count == Set(told).count && Set(told) == written)
                // Written through A and C, told by B as they happen.
                let (customer, invoice) = try await LineClient.with(port: a) { client in
                    _ = try await client.result("auth.resume", ["token": .string(token)])
                    let customer = try await client.customer("Watched Across Ltd")
                    return (customer, try await client.invoice(customer, "77.00", due: "2026-02-01"))
                }
                let created = try #require(try await watcher.notification())
                #expect(created["method"] == "events.invoice_created" && created["params"]?["data"]?["invoice_id"] == invoice)
                try await LineClient.with(port: c) { client in
                    _ = try await client.result("auth.resume", ["token": .string(token)])
                    _ = try await client.result("payments.record", ["customer_id": customer, "amount": "77.00", "method": "cash",
                                                                    "received_on": "2026-02-01"])
                }
                let paid = try #require(try await watcher.notification())
                #expect(paid["method"] == "events.payment_recorded" && paid["params"]?["customer"]?["id"] == customer)
                #expect(paid["params"]?["by"] == .string(admin.username))
            }
        } catch {
            for daemon in daemons { _ = await daemon.stop() }
            throw error
        }
        for daemon in daemons { #expect(await daemon.stop() == 0) }   // SIGTERM: a clean exit
        await pool.shutdown()
    }

    @Test("ashrai watch outlives a restart of its daemon: it reconnects, resumes after the last event it printed, and misses nothing written meanwhile on another daemon", .timeLimit(.minutes(3)))
    func watchAcrossRestart() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        let (database, pool, admin) = try await Self.database("watch_restart")
        let listenOnly = ["ASHRAI_EVENTS_POLL_INTERVAL_SECONDS": "600"]
        var watched = try await DaemonProcess(databaseURL: database.applicationURL, environment: listenOnly)
        let other = try await DaemonProcess(databaseURL: database.applicationURL, environment: listenOnly)
        do {
            let cli = CLI(port: watched.port, configHome: FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path)
            #expect(try await cli.run(["login", "--username", admin.username, "--password-stdin"], stdin: admin.password + "\n").status == 0)
            let token = try await LineClient.with(port: other.port) { try await $0.login(admin.username, admin.password) }
            let start = try await LineClient.with(port: other.port) { client in
                _ = try await client.result("auth.resume", ["token": .string(token)])
                return try #require(try await client.result("events.subscribe")["cursor"]?.stringValue)
            }
            func invoice(_ amount: String) async throws -> JSONValue {
                try await LineClient.with(port: other.port) { client in
                    _ = try await client.result("auth.resume", ["token": .string(token)])
                    return try await client.invoice(try await client.customer("Restart \(amount) Ltd"), amount, due: "2026-01-01")
                }
            }
            async let output = cli.run(["watch", "--since", start, "--count", "3", "--json", "--topics", "invoice.created"])
            let first = try await invoice("1.00")
            try await Task.sleep(for: .seconds(1))   // printed by now (a NOTIFY takes milliseconds)
            #expect(await watched.stop() == 0)
            let second = try await invoice("2.00")   // while the watch has no daemon
            watched = try await DaemonProcess(databaseURL: database.applicationURL, port: watched.port, environment: listenOnly)
            let third = try await invoice("3.00")
            let result = try await output
            #expect(result.status == 0, "\(result.stderr)")
            let told = try result.stdout.split(separator: "\n").map { try JSONValue.parse(String($0))["data"]?["invoice_id"] }
            #expect(told == [first, second, third])
            #expect(result.stderr.contains("reconnecting"))
        } catch {
            _ = await watched.stop()
            _ = await other.stop()
            throw error
        }
        #expect(await watched.stop() == 0)
        #expect(await other.stop() == 0)
        await pool.shutdown()
    }
}
