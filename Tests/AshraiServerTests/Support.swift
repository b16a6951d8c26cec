import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Synchronization

/// One migrated database for the AshraiServerTests target.
enum Shared {
    static let database = Task { () throws -> TestDatabase in
        let database = try await TestDatabase.create("server")
        _ = try await DatabaseSetup.migrate(
            migrationURL: database.ownerURL, applicationURL: database.applicationURL,
            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        return database
    }

    /// A pool connected as the application role.
    static let appClient = Task { () throws -> PostgresClient in
        let database = try await Shared.database.value
        return PostgresClient(configuration: database.applicationConfiguration, maxConnections: 4, logger: makeTestLogger())
    }

    /// A pool connected as the owner (superuser in tests).
    static let ownerClient = Task { () throws -> PostgresClient in
        let database = try await Shared.database.value
        return PostgresClient(configuration: database.ownerConfiguration, maxConnections: 2, logger: makeTestLogger())
    }
}
