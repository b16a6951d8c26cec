import AshraiProtocol
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Runs `dunning.run` once a day at `dunning.schedule`, a time on the business's clock
/// (`business.timezone`), when configured. On start and on
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
        logger.info("dunning scheduled daily", metadata: [
            "at": "\(minuteOfDay / 60):\(minuteOfDay % 60 < 10 ? "0" : "")\(minuteOfDay % 60)",
            "timezone": "\(services.clock.timeZone.identifier)",
        ])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await runIfDue()
            // Wake at the local time, or within 15 minutes whatever happens (a switch to or from
            // daylight saving time moves the wall clock by an hour; the check above is by the clock).
            let wait = min(services.clock.secondsUntil(minuteOfDay: minuteOfDay, from: services.now()), 900)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(wait)) }
            } catch {
                return
            }
        }
    }

    /// Runs today's scheduled dunning if its time has come on the business's clock and it has
    /// not run yet today (the business's today). Returns whether it ran.
    @discardableResult
    public func runIfDue() async -> Bool {
        let now = services.now()
        guard services.clock.minuteOfDay(at: now) >= minuteOfDay else { return false }
        let today = PostgresDate(daysSinceEpoch: services.clock.day(at: now))
        do {
            let context = CallContext(connectionID: 0, clientAddress: "scheduler", logger: logger).asDaemon
            let summary = try await services.transaction(context) { tx -> DunningRun.Outcome? in
                // The run's lock first, so a second daemon checks only after the first committed.
                try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.dunning.run'))")
                let done = try await tx.query("""
                    SELECT EXISTS (SELECT 1 FROM dunning_runs WHERE scheduled AND as_of = \(today))
                    """).scalar(Bool.self)
                guard !done else { return nil }
                // Money first: with dunning.requireStatementBy, wait for today's bank statement (an invoice paid today
                // gets no letter tonight) until that time, then run anyway.
                if let deadline = services.settings.collections.requireStatementByMinute {
                    let statementIn = try await tx.query("""
                        SELECT EXISTS (SELECT 1 FROM bank_statements WHERE imported_at::date = \(today))
                        """).scalar(Bool.self)
                    if !statementIn {
                        guard services.clock.minuteOfDay(at: now) >= deadline else { return nil }
                        logger.warning("no bank statement imported today; the scheduled dunning run goes ahead without it",
                                       metadata: ["require_statement_by": "\(deadline / 60):\(deadline % 60 < 10 ? "0" : "")\(deadline % 60)"])
                    }
                }
                return try await DunningRun.execute(services: services, context: context, asOf: today, dryRun: false,
                                                                 scheduled: true, on: tx)
            }
            if let summary {
                logger.notice("scheduled dunning run", metadata: [
                    "as_of": "\(summary.asOf)", "letters": "\(summary.letters)", "calls": "\(summary.calls)", "holds": "\(summary.holds)",
                    "referrals": "\(summary.referrals)", "skipped": "\(summary.skipped)", "plans_defaulted": "\(summary.plansDefaulted)",
                ])
            }
            return summary != nil
        } catch {
            logger.error("scheduled dunning run failed; will retry within the hour", metadata: ["error": "\(error)"])
            return false
        }
    }
}
