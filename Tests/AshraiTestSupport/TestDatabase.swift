import Foundation
import Logging
import NIOPosix
import Postgres

/// A fresh database in the test run's shared cluster, one per suite.
///
/// `make test` starts a throwaway cluster and exports `ASHRAI_TEST_DATABASE_URL` (a superuser
/// URL). Run `swift test` without it and the first suite starts a private cluster itself
/// (Scripts/pg into a temporary directory) and stops it when the process exits.
public struct TestDatabase: Sendable {
    /// The database's name.
    public let name: String
    /// A superuser URL for this database (the owner of everything the tests migrate).
    public let ownerURL: String
    /// The URL for the application role on this database (created by migration).
    public let applicationURL: String
    /// The directory of the repository's SQL migrations.
    public static let migrationsDirectory: String = repositoryRoot.appendingPathComponent("SQL").path

    /// Creates a new, empty database named after `prefix`.
    public static func create(_ prefix: String) async throws -> TestDatabase {
        let adminURL = try await TestCluster.shared.adminURL()
        let admin = try PostgresConfiguration(url: adminURL)
        let name = "\(prefix)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let connection = try await PostgresConnection.connect(configuration: admin, threadPool: pool)
        let statement = try await connection.query("SELECT format('CREATE DATABASE %I', \(name)::text)").scalar(String.self)
        try await connection.execute(PostgresQuery(unsafeSQL: statement))
        let owner = admin.setting("dbname", to: name)
        let app = owner.setting("user", to: "ashrai_app")
        return TestDatabase(name: name, ownerURL: Self.url(owner), applicationURL: Self.url(app))
    }

    /// The owner's configuration.
    public var ownerConfiguration: PostgresConfiguration { try! PostgresConfiguration(url: ownerURL) }
    /// The application role's configuration.
    public var applicationConfiguration: PostgresConfiguration { try! PostgresConfiguration(url: applicationURL) }

    static func url(_ configuration: PostgresConfiguration) -> String {
        let host = configuration.value(for: "host") ?? "127.0.0.1"
        let port = configuration.value(for: "port") ?? "5432"
        return "postgresql://\(configuration.user ?? "postgres")@\(host):\(port)/\(configuration.database ?? "postgres")"
    }

    /// The repository's root directory.
    public static var repositoryRootPath: String { repositoryRoot.path }

    static var repositoryRoot: URL {
        // Tests/AshraiTestSupport/TestDatabase.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A logger for tests: warnings and worse to stderr.
public func makeTestLogger(_ label: String = "test") -> Logger {
    var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = ProcessInfo.processInfo.environment["ASHRAI_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}

/// The run's cluster: from `ASHRAI_TEST_DATABASE_URL`, or started once on demand.
actor TestCluster {
    static let shared = TestCluster()
    private var url: String?

    func adminURL() throws -> String {
        if let url { return url }
        if let given = ProcessInfo.processInfo.environment["ASHRAI_TEST_DATABASE_URL"], !given.isEmpty {
            url = given
            return given
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ashrai-swifttest-pg-\(getpid())").path
        let port = 30000 + Int(getpid() % 20000)
        let script = TestDatabase.repositoryRoot.appendingPathComponent("Scripts/pg").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["start", directory, String(port)]
        process.environment = ProcessInfo.processInfo.environment.merging(["PG_FAST": "1"]) { $1 }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresError(code: .connectionFailed, message: "could not start a test cluster with Scripts/pg; run `make test`")
        }
        TestClusterCleanup.register(script: script, directory: directory)
        let started = "postgresql://postgres@127.0.0.1:\(port)/postgres"
        url = started
        return started
    }
}

/// Stops a cluster this process started, at exit.
enum TestClusterCleanup {
    nonisolated(unsafe) static var command: (String, String)?  // written once, before atexit runs

    static func register(script: String, directory: String) {
        command = (script, directory)
        atexit {
            guard let (script, directory) = TestClusterCleanup.command else { return }
            let stop = Process()
            stop.executableURL = URL(fileURLWithPath: script)
            stop.arguments = ["stop", directory]
            try? stop.run()
            stop.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
