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
    /// Nil when e-mail is off; then only the gateways' messages are sent.
    let mailer: SMTPMailer?
    /// Nil when no SMS or WhatsApp gateway is configured.
    let gateway: HTTPGateway?
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
        /// A whole batch was claimed: more may be waiting, so the next pass starts at once.
        public var full = false
    }

    /// Whether letters can be attached as PDFs (WeasyPrint is installed).
    public static var canAttachPDF: Bool { LetterPDF.executable != nil }

    /// The channels a worker sends (post is printed by staff: `letters.print`).
    var channels: [MessageChannel] {
        let delivery = services.settings.delivery
        return (delivery.smtp != nil ? [.email] : []) + (delivery.sms != nil ? [.sms] : []) + (delivery.whatsapp != nil ? [.whatsapp] : [])
    }

    /// Whether there is anything for a worker to send with.
    public static func isNeeded(_ delivery: DeliverySettings) -> Bool { delivery.smtp != nil || delivery.sms != nil || delivery.whatsapp != nil }

    public init(services: Services, logger: Logger) {
        self.services = services
        let delivery = services.settings.delivery
        self.mailer = delivery.smtp.map { SMTPMailer(settings: $0, threads: delivery.concurrency) }
        self.gateway = delivery.sms != nil || delivery.whatsapp != nil ? HTTPGateway() : nil
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
                if pass.full { continue }
            } catch {
                logger.warning("outbox pass failed; will try again", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
        }
        await mailer?.shutdown()
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
                  AND m.channel = ANY(\(PostgresArray(channels.map(\.rawValue)))::text[])
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
        pass.full = claimed.count + cancelled >= delivery.batchSize
        // Up to `delivery.concurrency` hand-offs at once, each recorded in its own transaction as soon as it is done.
        let states = try await withThrowingTaskGroup(of: MessageState.self) { group in
            var states: [MessageState] = []
            var pending = claimed[...]
            func start(_ message: MessageRecord) {
                group.addTask {
                    let (outcome, raw, attachments) = await handOver(message)
                    try await services.transaction(daemon) { tx in
                        try await Self.record(outcome, for: message, raw: raw, attachments: attachments, services: services, context: daemon, on: tx)
                    }
                    return Self.state(after: outcome, attempts: message.attempts, retry: delivery.retry)
                }
            }
            while states.count < claimed.count {
                while let message = pending.first, claimed.count - pending.count - states.count < delivery.concurrency {
                    pending.removeFirst()
                    start(message)
                }
                guard let state = try await group.next() else { break }
                states.append(state)
            }
            return states
        }
        for state in states {
            switch state {
            case .sent: pass.sent += 1
            case .retrying: pass.retrying += 1
            default: pass.failed += 1
            }
        }
        return pass
    }

    /// Sends one claimed message on its channel: what happened, the exact bytes handed over, and
    /// the attachments they carry.
    func handOver(_ message: MessageRecord) async -> (DeliveryOutcome, [UInt8], JSONValue) {
        let delivery = services.settings.delivery
        switch message.channel {
        case .email:
            guard let mailer else { return (.temporary("e-mail is not configured on this daemon"), [], []) }
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
            let raw = MailFormat.message(outgoing)
            return (await mailer.send(outgoing, raw: raw), raw, attachments)
        case .sms, .whatsapp:
            guard let gateway, let settings = message.channel == .sms ? delivery.sms : delivery.whatsapp else {
                return (.temporary("\(message.channel.rawValue) is not configured on this daemon"), [], [])
            }
            let (outcome, body) = await gateway.send(to: message.recipient, text: message.bodyText, reference: message.messageID, settings: settings)
            return (outcome, body, [])
        case .post:
            return (.temporary("post is printed by staff (letters.print)"), [], [])
        }
    }

    func mail(for message: MessageRecord) -> OutgoingMail {
        let delivery = services.settings.delivery
        let business = services.settings.collections.business.name
        // The business's headers: Organization (its name) unless configured otherwise, then delivery.headers.
        var headers = delivery.headers
        if !business.isEmpty, !headers.contains(where: { $0.name.lowercased() == "organization" }) { headers.insert(("Organization", business), at: 0) }
        return OutgoingMail(fromAddress: delivery.fromAddress, fromName: delivery.fromName, replyTo: delivery.replyTo, to: message.recipient,
                            subject: message.subject, text: message.bodyText, html: message.bodyHtml, messageID: message.messageID,
                            date: services.now(), headers: headers)
    }

    /// The state a hand-off leaves a message in.
    static func state(after outcome: DeliveryOutcome, attempts: Int, retry: RetryPolicy) -> MessageState {
        switch outcome {
        case .sent: return .sent
        case .temporary: return retry.delay(afterAttempts: attempts) == nil ? .failed : .retrying
        case .permanent: return .failed
        }
    }

    /// Stores what a hand-off did, with its audit row: a sent message is logged in the customer's
    /// interactions (pointing at the message and so at the bytes sent); an address refused for good
    /// is flagged so nothing more goes to it, and the letter falls back to its next channel.
    static func record(_ outcome: DeliveryOutcome, for message: MessageRecord, raw: [UInt8] = [], attachments: JSONValue = [],
                       services: Services, context: CallContext, on tx: PostgresConnection) async throws {
        let delivery = services.settings.delivery
        let state = state(after: outcome, attempts: message.attempts, retry: delivery.retry)
        var details: JSONObject = ["outcome": .string(state.rawValue), "attempt": .int(message.attempts)]
        switch outcome {
        case .sent(let providerID):
            try await OutboxStore.markSent(message, providerID: providerID, attachments: attachments, raw: raw, sentBy: nil,
                                             today: services.today(), context: context, on: tx)
            let what = message.letterID.map { "letter #\($0)" } ?? "message #\(message.id)"
            let summary = switch message.channel {
            case .email: "E-mailed \(what) to \(message.recipient): \(message.subject) (Message-ID <\(message.messageID)>)"
            default: "Sent \(what) by \(message.channel.rawValue) to \(message.recipient)\(providerID.map { " (gateway id \($0))" } ?? "")"
            }
            _ = try await InteractionMethods.insert(
                customerID: message.customerID, kind: message.channel == .email ? .email : .sms, channelDetail: message.recipient, occurredAt: nil,
                summary: summary, outcome: nil, reason: nil, invoiceIDs: [], correctsID: nil, letterID: message.letterID, messageID: message.id,
                context: context, on: tx)
        case .temporary(let error):
            let delay = delivery.retry.delay(afterAttempts: message.attempts) ?? 0
            try await tx.query("""
                UPDATE messages SET state = \(state.rawValue), last_error = \(error), updated_at = now(),
                    next_attempt_at = now() + make_interval(secs => \(delay))
                WHERE id = \(message.id)
                """)
            if state == .failed, let channel = try await LetterStore.fallBack(from: message, services: services, on: tx) {
                details["fallback"] = .string(channel.rawValue)
            }
        case .permanent(let error, let badAddress):
            try await tx.query("UPDATE messages SET state = 'failed', last_error = \(error), updated_at = now() WHERE id = \(message.id)")
            if badAddress {
                let (column, what) = message.channel == .email ? ("email", "mail server") : ("phone", "\(message.channel.rawValue) gateway")
                try await tx.query("""
                    UPDATE customers SET \(unescaped: column)_refused_at = now() WHERE id = \(message.customerID) AND btrim(\(unescaped: column)) = \(message.recipient)
                    """)
                _ = try await InteractionMethods.insert(
                    customerID: message.customerID, kind: .note, channelDetail: message.recipient, occurredAt: nil,
                    summary: "The \(what) refused \(message.recipient) (\(error)): nothing more goes there until the \(column == "email" ? "address" : "number") is changed",
                    outcome: nil, reason: nil, invoiceIDs: [], correctsID: nil, letterID: message.letterID, messageID: message.id,
                    context: context, on: tx)
            }
            if let channel = try await LetterStore.fallBack(from: message, services: services, on: tx) {
                details["fallback"] = .string(channel.rawValue)
            }
        }
        if state == .failed {   // someone has to act on it: a task, now, not at the next hourly run
            _ = try await TaskRules.makeDue(asOf: services.today(), disputeReviewDays: services.settings.taskDisputeReviewDays, only: .failedMessage,
                                            context: context, on: tx)
        }
        try await Audit.record(tx, context: context, method: "outbox.send", entity: "message", entityID: String(message.id), details: details)
    }
}
