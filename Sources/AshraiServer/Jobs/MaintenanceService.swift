import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Housekeeping every daemon runs hourly: the tasks the rules call for are made (`TaskRules`), post-dated
/// cheques whose day has come are applied, idempotency keys older than `keepDays` (never less
/// than the 30 days the protocol promises) are deleted, and so are events older than `EventFeed.keepDays`. Safe with several daemons: a DELETE of
/// rows another daemon already deleted deletes nothing.
public struct MaintenanceService: Service {
    let services: Services
    let logger: Logger
    let interval: Duration

    /// What the protocol promises: a replay within 30 days gets the original answer.
    public static let keepDays = 30

    public init(services: Services, logger: Logger, interval: Duration = .seconds(3600)) {
        self.services = services
        self.logger = logger
        self.interval = interval
    }

    /// Deletes idempotency keys created more than `keepDays` days before `now` (the business's
    /// clock unless given); returns how many.
    @discardableResult
    public static func pruneIdempotencyKeys(services: Services, now: Date? = nil) async throws -> Int {
        let cutoff = (now ?? services.now()).addingTimeInterval(-Double(keepDays) * 86_400)
        let daemon = CallContext(connectionID: 0, clientAddress: nil, logger: Logger(label: "ashraid.maintenance")).asDaemon
        return try await services.transaction(daemon) { tx in
            try await tx.query("""
                WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < \(cutoff) RETURNING 1) SELECT count(*) FROM gone
                """).scalar(Int.self)
        }
    }

    /// Applies the post-dated cheques whose value date has come (the business's today); returns how many
    /// customers were paid. The dunning run does the same before it writes a letter.
    @discardableResult
    public static func applyDueCheques(services: Services) async throws -> Int {
        let daemon = CallContext(connectionID: 0, clientAddress: nil, logger: Logger(label: "ashraid.maintenance")).asDaemon
        return try await services.transaction(daemon) { tx in
            let paid = try await ChequeStore.applyDue(asOf: services.today(), services: services, context: daemon, on: tx)
            _ = try await OutboxStore.recheck(customerIDs: paid, today: services.today(), method: "cheques.apply", context: daemon, on: tx)
            return paid.count
        }
    }

    /// Makes the tasks the rules call for as of `asOf` (the business's today unless given); returns how many
    /// (`TaskRules`: each once, however many daemons run it).
    @discardableResult
    public static func makeDueTasks(services: Services, asOf: PostgresDate? = nil) async throws -> Int {
        let daemon = CallContext(connectionID: 0, clientAddress: nil, logger: Logger(label: "ashraid.maintenance")).asDaemon
        return try await services.transaction(daemon) { tx in
            try await TaskRules.makeDue(asOf: asOf ?? services.today(), disputeReviewDays: services.settings.taskDisputeReviewDays,
                                        context: daemon, on: tx)
        }
    }

    /// `TaskRules.closeSettled`, as the daemon: the rule-made tasks whose invoices were all settled.
    public static func closeSettledTasks(services: Services) async throws -> Int {
        let daemon = CallContext(connectionID: 0, clientAddress: nil, logger: Logger(label: "ashraid.maintenance")).asDaemon
        return try await services.transaction(daemon) { tx in try await TaskRules.closeSettled(context: daemon, on: tx) }
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let made = try await Self.makeDueTasks(services: services)
                if made > 0 { logger.info("made the tasks the rules call for", metadata: ["tasks": "\(made)"]) }
                let closed = try await Self.closeSettledTasks(services: services)
                if closed > 0 { logger.info("closed tasks whose invoices are settled", metadata: ["tasks": "\(closed)"]) }
            } catch {
                logger.warning("making due tasks failed; will retry", metadata: ["error": "\(error)"])
            }
            do {
                let paid = try await Self.applyDueCheques(services: services)
                if paid > 0 { logger.info("applied post-dated cheques on their value date", metadata: ["customers": "\(paid)"]) }
            } catch {
                logger.warning("applying due cheques failed; will retry", metadata: ["error": "\(error)"])
            }
            do {
                let pruned = try await Self.pruneIdempotencyKeys(services: services)
                if pruned > 0 { logger.info("pruned idempotency keys", metadata: ["count": "\(pruned)", "older_than_days": "\(Self.keepDays)"]) }
            } catch {
                logger.warning("idempotency key pruning failed; will retry", metadata: ["error": "\(error)"])
            }
            do {
                let pruned = try await EventFeed.prune(services: services)
                if pruned > 0 { logger.info("pruned events", metadata: ["count": "\(pruned)", "older_than_days": "\(EventFeed.keepDays)"]) }
            } catch {
                logger.warning("event pruning failed; will retry", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
        }
    }
}
