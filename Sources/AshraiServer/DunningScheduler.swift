import AshraiProtocol
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Runs `dunning.run` once a day at `dunning.schedule` (UTC) when configured. On start and on
/// every wake it checks whether today's scheduled run has happened, so a daemon that was down
/// at the scheduled time runs as soon as it is back (the run itself catches up the invoices).
/// Two daemons may both be scheduled: the run's advisory lock and its per-(invoice, level)
/// key keep them from sending twice.
public struct DunningScheduler: Service {
    let services: Services
    let minuteOfDay: Int
    let logger: Logger

    public init(services: Services, minuteOfDay: Int, logger: Logger) {
        self.services = services
        self.minuteOfDay = minuteOfDay
        self.logger = logger
    }

    public func run() async throws {
        logger.info("dunning scheduled daily", metadata: ["at_utc": "\(minuteOfDay / 60):\(minuteOfDay % 60 < 10 ? "0" : "")\(minuteOfDay % 60)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await runIfDue()
            let now = Date()
            let secondsToday = Int(now.timeIntervalSince1970) % 86_400
            let untilNext = minuteOfDay * 60 - secondsToday
            let wait = min(untilNext <= 0 ? untilNext + 86_400 : untilNext, 3600)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(wait)) }
            } catch {
                return
            }
        }
    }

    /// Runs today's scheduled dunning if its time has come and it has not run yet.
    public func runIfDue() async {
        let secondsToday = Int(Date().timeIntervalSince1970) % 86_400
        guard secondsToday >= minuteOfDay * 60 else { return }
        do {
            var context = CallContext(connectionID: 0, clientAddress: "scheduler", logger: logger)
            context.isSystem = true
            let summary = try await services.transaction(context) { tx -> JSONValue? in
                // The run's lock first, so a second daemon checks only after the first committed.
                try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.dunning.run'))")
                let done = try await tx.query("""
                    SELECT EXISTS (SELECT 1 FROM dunning_runs WHERE scheduled AND as_of = current_date)
                    """).scalar(Bool.self)
                guard !done else { return nil }
                return try await DunningMethods.runInTransaction(services: services, context: context, asOf: nil, dryRun: false,
                                                                 scheduled: true, on: tx)
            }
            if let summary {
                logger.notice("scheduled dunning run", metadata: [
                    "as_of": "\(summary["as_of"]?.stringValue ?? "")",
                    "letters": "\(summary["letters"]?.arrayValue?.count ?? 0)", "holds": "\(summary["holds"]?.arrayValue?.count ?? 0)",
                    "referrals": "\(summary["referrals"]?.arrayValue?.count ?? 0)", "skipped": "\(summary["skipped"]?.arrayValue?.count ?? 0)",
                    "plans_defaulted": "\(summary["plans_defaulted"]?.arrayValue?.count ?? 0)",
                ])
            }
        } catch {
            logger.error("scheduled dunning run failed; will retry within the hour", metadata: ["error": "\(error)"])
        }
    }
}
