import ArgumentParser
import AshraiServer
import Foundation
import Postgres

/// `ashraid migrate`: applies pending migrations as the owner role.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending SQL migrations (as ASHRAI_MIGRATION_DATABASE_URL) and set up the application role.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let config = try await loadConfiguration(common)
        let logger = makeLogger(level: config.logLevel)
        guard let migrationURL = config.migrationDatabaseURL else {
            logger.error("no migration database URL: set ASHRAI_MIGRATION_DATABASE_URL or migration.database.url")
            throw ExitCode(78)
        }
        do {
            let report = try await DatabaseSetup.migrate(
                migrationURL: migrationURL, applicationURL: config.databaseURL,
                migrationsDirectory: config.migrationsDirectory, logger: logger)
            logger.info("migrations done", metadata: [
                "applied": "\(report.applied)", "already_applied": "\(report.alreadyApplied.count)",
            ])
        } catch let error as PostgresError {
            logger.error("migration failed", metadata: ["error": "\(error.message)", "sqlstate": "\(error.sqlState ?? "")"])
            throw ExitCode(1)
        }
    }
}

/// `ashraid version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() { print("ashraid \(AshraidVersion.current)") }
}
