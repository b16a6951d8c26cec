import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A message in the outbox.
struct MessageRecord: Decodable, Sendable {
    var id: Int64
    var letterID: Int64?
    var customerID: Int64
    var channel: MessageChannel
    var recipient: String
    var subject: String
    var bodyText: String
    var bodyHtml: String?
    var messageID: String
    var state: MessageState
    var attempts: Int
    var nextAttemptAt: Date
    var lastError: String?
    var providerID: String?
    var cancelReason: String?
    var createdAt: Date
    var sendingAt: Date?
    var sentAt: Date?
    /// Where the letter goes if this message fails for good.
    var fallback: [MessageChannel]
    /// The exact bytes handed over, by hash and length (`outbox.get` with `raw` returns them).
    var rawSha256: String?
    var rawBytes: Int?

    enum CodingKeys: String, CodingKey {
        case id, letterID = "letter_id", customerID = "customer_id", channel, recipient, subject, bodyText = "body_text"
        case bodyHtml = "body_html", messageID = "message_id", state, attempts, nextAttemptAt = "next_attempt_at"
        case lastError = "last_error", providerID = "provider_id", cancelReason = "cancel_reason", createdAt = "created_at"
        case sendingAt = "sending_at", sentAt = "sent_at", fallback, rawSha256 = "raw_sha256", rawBytes = "raw_bytes"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        letterID = try c.decodeIfPresent(Int64.self, forKey: .letterID)
        customerID = try c.decode(Int64.self, forKey: .customerID)
        channel = try c.decode(MessageChannel.self, forKey: .channel)
        recipient = try c.decode(String.self, forKey: .recipient)
        subject = try c.decode(String.self, forKey: .subject)
        bodyText = try c.decode(String.self, forKey: .bodyText)
        bodyHtml = try c.decodeIfPresent(String.self, forKey: .bodyHtml)
        messageID = try c.decode(String.self, forKey: .messageID)
        state = try c.decode(MessageState.self, forKey: .state)
        attempts = try c.decode(Int.self, forKey: .attempts)
        nextAttemptAt = try c.decode(Date.self, forKey: .nextAttemptAt)
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
        providerID = try c.decodeIfPresent(String.self, forKey: .providerID)
        cancelReason = try c.decodeIfPresent(String.self, forKey: .cancelReason)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        sendingAt = try c.decodeIfPresent(Date.self, forKey: .sendingAt)
        sentAt = try c.decodeIfPresent(Date.self, forKey: .sentAt)
        // Stored as a comma-joined list; a channel this build does not know is left out rather than failing the row.
        rawSha256 = try c.decodeIfPresent(String.self, forKey: .rawSha256)
        rawBytes = try c.decodeIfPresent(Int.self, forKey: .rawBytes)
        fallback = (try c.decodeIfPresent(String.self, forKey: .fallback) ?? "").split(separator: ",").compactMap { MessageChannel(rawValue: String($0)) }
    }

    /// The reply form; `bodies` adds the text and HTML (outbox.get).
    func json(bodies: Bool = false) -> JSONValue {
        var object: JSONObject = [
            "id": .id(id), "letter_id": letterID.map(JSONValue.id) ?? .null, "customer_id": .id(customerID),
            "channel": .string(channel.rawValue), "recipient": .string(recipient), "subject": .string(subject),
            "message_id": .string(messageID), "state": .string(state.rawValue), "attempts": .int(attempts),
            "next_attempt_at": .string(rfc3339(nextAttemptAt)), "last_error": .optional(lastError), "provider_id": .optional(providerID),
            "cancel_reason": .optional(cancelReason), "created_at": .string(rfc3339(createdAt)),
            "sending_at": sendingAt.map { .string(rfc3339($0)) } ?? .null, "sent_at": sentAt.map { .string(rfc3339($0)) } ?? .null,
            "fallback": .array(fallback.map { .string($0.rawValue) }),
            "raw_sha256": .optional(rawSha256), "raw_bytes": rawBytes.map(JSONValue.int) ?? .null,
        ]
        if bodies {
            object["body_text"] = .string(bodyText)
            object["body_html"] = .optional(bodyHtml)
        }
        return .object(object)
    }
}

/// The outbox's SQL: queueing, claiming, and recording what happened.
enum OutboxStore {
    static let columns = """
        m.id, m.letter_id, m.customer_id, m.channel, m.recipient, m.subject, m.body_text, m.body_html, m.message_id, m.state,
        m.attempts, m.next_attempt_at, m.last_error, m.provider_id, m.cancel_reason, m.created_at, m.sending_at, m.sent_at,
        array_to_string(m.fallback, ',') AS fallback, m.raw_sha256, octet_length(m.raw) AS raw_bytes
        """

    /// Queues a letter on one channel (once: a second queueing of the same letter and channel is a no-op).
    static func queue(letterID: Int64?, customerID: Int64, channel: MessageChannel, recipient: String, subject: String, text: String,
                      html: String?, fallback: [MessageChannel] = [], delivery: DeliverySettings, on tx: PostgresConnection) async throws {
        let token = Secrets.token().prefix(16)
        let messageID = MailFormat.messageID(token: "\(letterID.map { "L\($0)" } ?? "M").\(token)", fromAddress: delivery.fromAddress)
        try await tx.query("""
            INSERT INTO messages (letter_id, customer_id, channel, recipient, subject, body_text, body_html, message_id, fallback)
            VALUES (\(letterID), \(customerID), \(channel.rawValue), \(recipient), \(subject), \(text), \(html), \(messageID),
                    \(PostgresArray(fallback.map(\.rawValue)))::text[])
            ON CONFLICT (letter_id, channel) DO NOTHING
            """)
    }

    /// One message (404 when there is none), optionally locked.
    static func load(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> MessageRecord {
        guard let row = try await connection.query(
            "SELECT \(unescaped: columns) FROM messages m WHERE m.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")").first
        else { throw RPCFailure.notFound("message") }
        return try row.decode(MessageRecord.self)
    }

    /// The re-check before a hand-off (e-mail or print): when the letter no longer stands, the
    /// message is cancelled with the reason (audited under `method`) and the reason returned.
    static func cancelIfNoLongerStands(_ message: MessageRecord, today: PostgresDate, method: String, context: CallContext,
                                       on tx: PostgresConnection) async throws -> String? {
        guard let reason = try await reasonNotToSend(message, today: today, on: tx) else { return nil }
        try await tx.query("UPDATE messages SET state = 'cancelled', cancel_reason = \(reason), updated_at = now() WHERE id = \(message.id)")
        try await Audit.record(tx, context: context, method: method, entity: "message", entityID: String(message.id),
                               details: ["outcome": "cancelled", "reason": .string(reason)])
        return reason
    }

    /// Re-checks every message still waiting for these customers (after money came in): those whose
    /// letter no longer stands are cancelled now, with the reason, rather than at the hand-off. How many.
    static func recheck(customerIDs: Set<Int64>, today: PostgresDate, method: String, context: CallContext,
                        on tx: PostgresConnection) async throws -> Int {
        guard !customerIDs.isEmpty else { return 0 }
        let waiting = try await tx.query("""
            SELECT \(unescaped: columns) FROM messages m
            WHERE m.customer_id = ANY(\(PostgresArray(customerIDs.map { String($0) }))::bigint[]) AND m.state IN ('queued', 'retrying')
            ORDER BY m.id FOR UPDATE OF m
            """).decode(MessageRecord.self)
        var cancelled = 0
        for message in waiting where try await cancelIfNoLongerStands(message, today: today, method: method, context: context, on: tx) != nil {
            cancelled += 1
        }
        return cancelled
    }

    /// A message delivered (handed to the mail server, or printed for the post): it is sent, and so
    /// is its letter — what lets the sanction the letter announced follow.
    /// `raw`: the exact bytes handed over (kept with their SHA-256), when there are any.
    static func markSent(_ message: MessageRecord, providerID: String? = nil, attachments: JSONValue, raw: [UInt8] = [], sentBy: Int64?,
                         today: PostgresDate, context: CallContext, on tx: PostgresConnection) async throws {
        let rawHash: String? = raw.isEmpty ? nil : Secrets.sha256Hex(raw)
        let rawBytes: [UInt8]? = raw.isEmpty ? nil : raw
        try await tx.query("""
            UPDATE messages SET state = 'sent', sent_at = now(), provider_id = \(providerID), last_error = NULL,
                attachments = \(attachments), raw = coalesce(\(rawBytes), raw), raw_sha256 = coalesce(\(rawHash), raw_sha256), updated_at = now()
            WHERE id = \(message.id)
            """)
        if let letterID = message.letterID {
            try await tx.query("""
                UPDATE letters SET status = 'sent', sent_channel = \(message.channel.rawValue), sent_by = \(sentBy), sent_at = now()
                WHERE id = \(letterID) AND status = 'pending'
                """)
            try await LetterStore.afterSent(letterID: letterID, today: today, context: context, on: tx)
        }
    }

    /// Why a letter's message must not go out now, or nil: re-checked just before the hand-off.
    /// A dunning letter stands while LetterStanding says so; a referral notice while its assignment
    /// waits for it; a plan confirmation while the plan is in force; a statement always.
    static func reasonNotToSend(_ message: MessageRecord, today: PostgresDate, on tx: PostgresConnection) async throws -> String? {
        guard let letterID = message.letterID else { return nil }
        let kind = LetterKind(rawValue: try await tx.query("SELECT kind FROM letters WHERE id = \(letterID)").one().decode(String.self, at: 0))
        switch kind {
        case .dunning?: break
        case .agency_referral?:
            let status = try await tx.query("SELECT status FROM assignments WHERE notice_letter_id = \(letterID)").first?.decode(String.self, at: 0)
            return status == AssignmentStatus.pending.rawValue || status == AssignmentStatus.active.rawValue
                ? nil : "the assignment it announces was \(status ?? "removed")"
        case .plan_confirmation?:
            let status = try await tx.query("SELECT status FROM plans WHERE confirmation_letter_id = \(letterID)").first?.decode(String.self, at: 0)
            return status == PlanStatus.active.rawValue || status == PlanStatus.completed.rawValue ? nil : "the plan it confirms is \(status ?? "gone")"
        case .statement?, nil: return nil
        }
        let row = try await tx.query("""
            SELECT coalesce(bool_or(i.status IN (\(unescaped: InvoiceStatus.owingSQL))), false) AS owing,
                   coalesce(bool_or(EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status = 'open')), false) AS disputed,
                   coalesce(bool_or(EXISTS (SELECT 1 FROM plan_invoices pi JOIN plans p ON p.id = pi.plan_id
                                            WHERE pi.invoice_id = i.id AND p.status = 'active')), false) AS planned,
                   coalesce(bool_or(\(unescaped: ChequeStore.inHandSQL(invoice: "i.id"))), false) AS cheque_in_hand,
                   coalesce(array_to_string(array_agg(i.id), ','), '') AS invoice_ids,
                   (SELECT c.status FROM customers c WHERE c.id = \(message.customerID)) AS customer_status
            FROM dunning_steps s JOIN invoices i ON i.id = s.invoice_id
            WHERE s.letter_id = \(letterID)
            """).one()
        let invoiceIDs = Set((try row.decode(String.self, column: "invoice_ids")).split(separator: ",").compactMap { Int64($0) })
        let promised = try await InteractionMethods.promises(asOf: today, customerID: message.customerID, on: tx).contains { promise in
            promise.status == .open && (promise.invoiceIDs.isEmpty || !invoiceIDs.isDisjoint(with: promise.invoiceIDs))
        }
        return LetterStanding.reasonNotToSend(
            invoicesStillOwing: try row.decode(Bool.self, column: "owing"), openDispute: try row.decode(Bool.self, column: "disputed"),
            activePlan: try row.decode(Bool.self, column: "planned"), chequeInHand: try row.decode(Bool.self, column: "cheque_in_hand"),
            openPromise: promised,
            customerClosed: try row.decode(String?.self, column: "customer_status") == CustomerStatus.closed.rawValue)
    }
}
