import ArgumentParser
import AshraiServer
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// `ashraid serve` (the default): migrate if a migration URL is set, else check the schema is
/// current; then serve JSON-RPC until SIGTERM/SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the JSON-RPC server (default).")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "Listen address host:port (overrides ASHRAI_LISTEN and the file).")
    var listen: String?

    func run() async throws {
        let config = try await loadConfiguration(common, listen: listen)
        let logger = makeLogger(level: config.logLevel)
        // Large reply buffers go back to the system when freed (see MemoryTuning for the measurements).
        if !MemoryTuning.apply() { logger.notice("could not fix the allocator's mmap threshold; freed memory may be kept") }
        do {
            let database = try await openCurrentDatabase(config, logger: logger)
            let secrets = Secrets(cost: config.passwordCost)
            let jobs = PostgresClient(
                configuration: try config.jobsDatabase(),
                maxConnections: 4, logger: logger)
            let replica = try config.replicaDatabase().map { PostgresClient(configuration: $0, maxConnections: config.poolSize, logger: logger) }
            let services = Services(database: database, secrets: secrets, settings: config.server, version: AshraidVersion.current,
                                    jobsDatabase: jobs, replicaDatabase: replica, eventsDatabase: try config.eventsDatabase())
            if case .failure(let problem) = services.collectionAssets {
                logger.error("cannot start: \(problem.description)")
                await database.shutdown()
                await jobs.shutdown()
                await replica?.shutdown()
                await secrets.shutdown()
                throw ExitCode(1)
            }
            let tls = config.tlsCertificate.flatMap { cert in config.tlsKey.map { (certificatePath: cert, keyPath: $0) } }
            let server = RPCServer(
                options: .init(host: config.listenHost, port: config.listenPort, tls: tls),
                services: services, logger: logger)
            // The pools and the hasher first: a group ends its services in reverse order, so they
            // close after the server and the jobs that use them — on every path out of run().
            var members: [any Service] = [database, jobs] + (replica.map { [$0] } ?? []) + [secrets, server, MaintenanceService(services: services, logger: logger)]
            if let minute = config.server.collections.scheduleMinuteOfDay {
                members.append(DunningScheduler(services: services, minuteOfDay: minute, logger: logger))
            }
            if OutboxWorker.isNeeded(config.server.delivery) {
                members.append(OutboxWorker(services: services, logger: logger))
                if config.server.delivery.smtp != nil, !OutboxWorker.canAttachPDF {
                    logger.warning("weasyprint is not installed: e-mails go out without the letter as a PDF (Debian: apt-get install weasyprint)")
                }
            } else {
                logger.notice("delivery is off (no delivery.smtp.url, delivery.sms.url or delivery.whatsapp.url): letters wait in the outbox to be sent by hand")
            }
            let group = ServiceGroup(services: members, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
        } catch let error as PostgresError {
            logger.error("cannot start", metadata: ["error": "\(error.message)", "sqlstate": "\(error.sqlState ?? "")"])
            throw ExitCode(1)
        }
    }
}

/// Migrates when a migration URL is configured, then opens the application pool and refuses
/// to go on if any migration is pending.
func openCurrentDatabase(_ config: AshraiConfiguration, logger: Logger) async throws -> PostgresClient {
    if let migrationURL = config.migrationDatabaseURL {
        _ = try await DatabaseSetup.migrate(
            migrationURL: migrationURL, applicationURL: config.databaseURL,
            migrationsDirectory: config.migrationsDirectory, logger: logger)
    }
    let database = PostgresClient(
        configuration: try config.applicationDatabase(),
        maxConnections: config.poolSize, logger: logger)
    let pending = try await DatabaseSetup.pendingMigrations(
        on: database, migrationsDirectory: config.migrationsDirectory, logger: logger)
    guard pending.isEmpty else {
        logger.error("database schema is not current; run `ashraid migrate`", metadata: ["pending": "\(pending)"])
        await database.shutdown()
        throw ExitCode(1)
    }
    return database
}
