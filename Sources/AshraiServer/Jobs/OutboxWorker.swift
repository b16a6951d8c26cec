import AshraiCore
import AshraiProtocol
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Delivers the outbox. Every daemon may run one: messages are claimed with `FOR UPDATE SKIP
/// LOCKED` and marked `sending` in a committed transaction before the hand-off, so two workers
/// never take the same message, and a crash mid-send leaves a `sending` row that becomes
/// `unknown` (for a person to decide) rather than being sent again blindly.
public struct OutboxWorker: Service {
    let services: Services
    let mailer: SMTPMailer
    let logger: Logger

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        public var sent = 0
        public var retrying = 0
        public var failed = 0
        public var cancelled = 0
        public var recovered = 0
        /// Outside the sending hours: nothing was claimed.
        public var closed = false
    }

    /// Whether letters can be attached as PDFs (WeasyPrint is installed).
    public static var canAttachPDF: Bool { LetterPDF.executable != nil }

    public init(services: Services, smtp: SMTPSettings, logger: Logger) {
        self.services = services
        self.mailer = SMTPMailer(settings: smtp)
        self.logger = logger
    }

    public func run() async throws {
        let interval = services.settings.delivery.pollInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let pass = try await drain()
                if pass.sent + pass.failed + pass.retrying + pass.cancelled + pass.recovered > 0 {
                    logger.info("outbox pass", metadata: ["sent": "\(pass.sent)", "retrying": "\(pass.retrying)", "failed": "\(pass.failed)",
                                                         "cancelled": "\(pass.cancelled)", "unknown": "\(pass.recovered)"])
                }
            } catch {
                logger.warning("outbox pass failed; will try again", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
        }
        await mailer.shutdown()
    }

    /// One pass: recover interrupted sends, then (inside the sending hours) claim a batch, re-check
    /// each letter, and hand the rest over one by one.
    public func drain() async throws -> Pass {
        let delivery = services.settings.delivery
        let daemon = CallContext(connectionID: 0, clientAddress: "outbox", logger: logger).asDaemon
        var pass = Pass()
        let stale = Int(delivery.sendingStaleAfter.components.seconds)
        pass.recovered = try await services.transaction(daemon) { tx in
            try await tx.execute("""
                UPDATE messages SET state = 'unknown', updated_at = now(),
                    last_error = 'interrupted while sending (the daemon stopped): it may have been delivered; retry or cancel it'
                WHERE state = 'sending' AND sending_at < now() - make_interval(secs => \(stale))
                """)
        }
        let now = services.now()
        guard delivery.hours.isOpen(day: services.clock.day(at: now), minuteOfDay: services.clock.minuteOfDay(at: now)) else {
            pass.closed = true
            return pass
        }
        let today = services.today()
        var cancelled = 0
        let claimed: [MessageRecord] = try await services.transaction(daemon) { tx in
            let rows = try await tx.query("""
                SELECT \(unescaped: OutboxStore.columns) FROM messages m
                WHERE m.state IN (\(unescaped: MessageState.due.map { "'\($0.rawValue)'" }.joined(separator: ", "))) AND m.next_attempt_at <= now()
                  AND m.channel = 'email'
                ORDER BY m.next_attempt_at, m.id LIMIT \(delivery.batchSize)
                FOR UPDATE SKIP LOCKED
                """)
            var sending: [MessageRecord] = []
            cancelled = 0
            for message in try rows.decode(MessageRecord.self) {
                if try await OutboxStore.cancelIfNoLongerStands(message, today: today, method: "outbox.send", context: daemon, on: tx) != nil {
                    cancelled += 1
                    continue
                }
                try await tx.query("""
                    UPDATE messages SET state = 'sending', sending_at = now(), attempts = attempts + 1, updated_at = now()
                    WHERE id = \(message.id)
                    """)
                var claimed = message
                claimed.attempts += 1
                sending.append(claimed)
            }
            return sending
        }
        pass.cancelled = cancelled
        for message in claimed {
            var outgoing = mail(for: message)
            var attachments: JSONValue = []
            if let html = message.bodyHtml, delivery.attachPDF, LetterPDF.executable != nil {
                // The letter as a PDF; without it the e-mail still goes.
                let name = message.letterID.map { "letter-\($0).pdf" } ?? "message-\(message.id).pdf"
                do {
                    let pdf = try await LetterPDF.render(html: html)
                    outgoing.attachments = [.init(filename: name, contentType: "application/pdf", bytes: pdf)]
                    attachments = [["name": .string(name), "content_type": "application/pdf", "sha256": .string(Secrets.sha256Hex(pdf)),
                                    "bytes": .int(pdf.count)]]
                } catch {
                    logger.warning("letter PDF not made; sending without it", metadata: ["message": "\(message.id)", "error": "\(error)"])
                }
            }
            let outcome = await mailer.send(outgoing)
            let recorded = attachments
            try await services.transaction(daemon) { tx in
                try await Self.record(outcome, for: message, attachments: recorded, delivery: delivery, context: daemon, on: tx)
            }
            switch Self.state(after: outcome, attempts: message.attempts, retry: delivery.retry) {
            case .sent: pass.sent += 1
            case .retrying: pass.retrying += 1
            default: pass.failed += 1
            }
        }
        return pass
    }

    func mail(for message: MessageRecord) -> OutgoingMail {
        let delivery = services.settings.delivery
        return OutgoingMail(fromAddress: delivery.fromAddress, fromName: delivery.fromName, replyTo: delivery.replyTo, to: message.recipient,
                            subject: message.subject, text: message.bodyText, html: message.bodyHtml, messageID: message.messageID,
                            date: services.now())
    }

    /// The state a hand-off leaves a message in.
    static func state(after outcome: DeliveryOutcome, attempts: Int, retry: RetryPolicy) -> MessageState {
        switch outcome {
        case .sent: return .sent
        case .temporary: return retry.delay(afterAttempts: attempts) == nil ? .failed : .retrying
        case .permanent: return .failed
        }
    }

    /// Stores what a hand-off did, with its audit row; a sent letter is logged in the customer's
    /// interactions, and a refused address is flagged so no more e-mail goes to it.
    static func record(_ outcome: DeliveryOutcome, for message: MessageRecord, attachments: JSONValue = [], delivery: DeliverySettings,
                       context: CallContext, on tx: PostgresConnection) async throws {
        let state = state(after: outcome, attempts: message.attempts, retry: delivery.retry)
        switch outcome {
        case .sent(let providerID):
            try await OutboxStore.markSent(message, providerID: providerID, attachments: attachments, sentBy: nil, on: tx)
            _ = try await InteractionMethods.insert(
                customerID: message.customerID, kind: .email, channelDetail: message.recipient, occurredAt: nil,
                summary: "E-mailed \(message.letterID.map { "letter #\($0)" } ?? "message #\(message.id)") to \(message.recipient): \(message.subject) (Message-ID <\(message.messageID)>)",
                outcome: nil, reason: nil, invoiceIDs: [], correctsID: nil, letterID: message.letterID, context: context, on: tx)
        case .temporary(let error):
            let delay = delivery.retry.delay(afterAttempts: message.attempts) ?? 0
            try await tx.query("""
                UPDATE messages SET state = \(state.rawValue), last_error = \(error), updated_at = now(),
                    next_attempt_at = now() + make_interval(secs => \(delay))
                WHERE id = \(message.id)
                """)
        case .permanent(let error, let badAddress):
            try await tx.query("UPDATE messages SET state = 'failed', last_error = \(error), updated_at = now() WHERE id = \(message.id)")
            if badAddress {
                try await tx.query("UPDATE customers SET email_refused_at = now() WHERE id = \(message.customerID) AND email = \(message.recipient)")
                _ = try await InteractionMethods.insert(
                    customerID: message.customerID, kind: .note, channelDetail: message.recipient, occurredAt: nil,
                    summary: "The mail server refused \(message.recipient) (\(error)): no more e-mail goes there until the address is changed",
                    outcome: nil, reason: nil, invoiceIDs: [], correctsID: nil, letterID: message.letterID, context: context, on: tx)
            }
        }
        try await Audit.record(tx, context: context, method: "outbox.send", entity: "message", entityID: String(message.id),
                               details: ["outcome": .string(state.rawValue), "attempt": .int(message.attempts)])
    }
}
