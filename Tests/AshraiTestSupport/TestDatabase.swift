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

/// The run's cluster, from `ASHRAI_TEST_DATABASE_URL`.
actor TestCluster {
    static let shared = TestCluster()

    /// The cluster `make test` (Scripts/test) started and exported. Starting one from inside the
    /// test process hung on this toolchain — Foundation never reported `Scripts/pg`'s exit, with
    /// `waitUntilExit()` or a termination handler alike — so a run without it fails at once, saying
    /// what to do, instead of hanging.
    func adminURL() async throws -> String {
        guard let given = ProcessInfo.processInfo.environment["ASHRAI_TEST_DATABASE_URL"], !given.isEmpty else {
            throw PostgresError(code: .connectionFailed, message: """
                ASHRAI_TEST_DATABASE_URL is not set: run `make test`, or start a cluster with \
                `PG_FAST=1 Scripts/pg start /tmp/ashrai-pg 26432` and export \
                ASHRAI_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:26432/postgres
                """)
        }
        return given
    }
}
