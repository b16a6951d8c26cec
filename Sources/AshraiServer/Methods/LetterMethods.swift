import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `letters.*`: what dunning wrote, exactly as rendered then.
enum LetterMethods {
    static let handlers: [String: MethodHandler] = ["letters.list": list, "letters.get": get, "letters.mark_sent": markSent, "letters.print": printForPost]

    /// The letters waiting for the post (their outbox messages, oldest first), re-checked like an
    /// e-mail, as one PDF — one letter per page, the address where a window envelope shows it —
    /// and then sent: the messages and letters are marked sent by post, and logged.
    static func printForPost(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let since = try params.optionalDate("since")
        let limit = try params.optionalInt("limit", range: 1...100) ?? 50
        guard LetterPDF.executable != nil else {
            throw RPCFailure(.unavailable, "printing needs WeasyPrint on the server (Debian: apt-get install weasyprint)")
        }
        let today = services.today()
        return try await services.transaction(context) { tx in
            let rows = try await tx.query("""
                SELECT \(unescaped: OutboxStore.columns), l.language FROM messages m JOIN letters l ON l.id = m.letter_id
                WHERE m.channel = 'post' AND m.state = 'queued' AND (\(since)::date IS NULL OR l.as_of >= \(since))
                ORDER BY m.id LIMIT \(limit)
                FOR UPDATE OF m SKIP LOCKED
                """)
            var printed: [(MessageRecord, String)] = []
            var cancelled: [JSONValue] = []
            for row in rows {
                let message = try row.decode(MessageRecord.self)
                if let reason = try await OutboxStore.cancelIfNoLongerStands(message, today: today, method: "letters.print", context: context, on: tx) {
                    cancelled.append(["letter_id": message.letterID.map(JSONValue.id) ?? .null, "reason": .string(reason)])
                    continue
                }
                printed.append((message, try row.decode(String.self, column: "language")))
            }
            guard !printed.isEmpty else { return ["letters": [], "pages": 0, "pdf_base64": .null, "cancelled": .array(cancelled)] }
            let pdf = try await PostBatch.pdf(printed.map { PostBatch.Letter(recipient: $0.0.recipient, language: $0.1, html: $0.0.bodyHtml ?? $0.0.bodyText) })
            let encoded = Data(pdf).base64EncodedString()
            // The PDF goes back in this reply: one too long for a reply line would be lost after the letters were
            // marked sent, so refuse it here, before anything is committed (about 10 KB a letter is usual).
            guard encoded.utf8.count < services.settings.maxReplyBytes - 65_536 else {
                throw RPCFailure.invalidParams("limit", "the batch is too large for one reply; print fewer letters at a time (limit)")
            }
            let hash = Secrets.sha256Hex(pdf)
            for (message, _) in printed {
                try await tx.query("UPDATE messages SET attempts = attempts + 1 WHERE id = \(message.id)")
                try await OutboxStore.markSent(message, attachments: [["name": "post-batch.pdf", "content_type": "application/pdf", "sha256": .string(hash)]],
                                               sentBy: context.session?.userID, today: today, context: context, on: tx)
                _ = try await InteractionMethods.insert(
                    customerID: message.customerID, kind: .letter, channelDetail: "post", occurredAt: nil,
                    summary: "Printed for the post: \(message.letterID.map { "letter #\($0)" } ?? "message #\(message.id)") (batch \(hash.prefix(12)))",
                    outcome: nil, reason: nil, invoiceIDs: [], correctsID: nil, letterID: message.letterID, context: context, on: tx)
            }
            let letters: [JSONValue] = printed.compactMap { $0.0.letterID.map(JSONValue.id) }
            try await Audit.record(tx, context: context, method: "letters.print", entity: "post_batch", entityID: String(hash.prefix(16)),
                                   details: ["letters": .array(letters), "sha256": .string(hash)])
            return ["letters": .array(letters), "pages": .int(printed.count), "sha256": .string(hash),
                    "pdf_base64": .string(encoded), "cancelled": .array(cancelled)]
        }
    }

    static let columns = """
        l.id, l.kind, l.customer_id, c.name AS customer_name, l.run_id, l.level, l.action, l.template, l.language, l.as_of, l.last_date_to_pay,
        l.total, l.fee, l.status, l.sent_channel, l.sent_at,
        (SELECT x.id FROM interactions x WHERE x.letter_id = l.id ORDER BY x.id LIMIT 1) AS interaction_id
        """
    static let from = "letters l JOIN customers c ON c.id = l.customer_id"

    static func letterJSON(_ row: PostgresRow, full: Bool) throws -> JSONValue {
        var json: JSONObject = [
            "id": .id(try row.decode(Int64.self, column: "id")),
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "customer_name": .string(try row.decode(String.self, column: "customer_name")),
            "run_id": try row.decode(Int64?.self, column: "run_id").map(JSONValue.id) ?? .null,
            "kind": .string(try row.decode(String.self, column: "kind")),
            "level": try row.decode(Int?.self, column: "level").map(JSONValue.int) ?? .null,
            "action": .optional(try row.decode(String?.self, column: "action")),
            "template": .string(try row.decode(String.self, column: "template")),
            "language": .string(try row.decode(String.self, column: "language")),
            "as_of": .date(try row.decode(PostgresDate.self, column: "as_of")),
            "last_date_to_pay": .date(try row.decode(PostgresDate?.self, column: "last_date_to_pay")),
            "total": .money(try row.decode(Decimal.self, column: "total")),
            "fee": .money(try row.decode(Decimal.self, column: "fee")),
            "status": .string(try row.decode(String.self, column: "status")),
            "sent_channel": .optional(try row.decode(String?.self, column: "sent_channel")),
            "sent_at": try row.decode(Date?.self, column: "sent_at").map { .string(rfc3339($0)) } ?? .null,
            "interaction_id": try row.decode(Int64?.self, column: "interaction_id").map(JSONValue.id) ?? .null,
        ]
        if full {
            json["text"] = .string(try row.decode(String.self, column: "body_text"))
            json["html"] = .string(try row.decode(String.self, column: "body_html"))
            json["data"] = try row.decode(JSONValue.self, column: "data")
        }
        return .object(json)
    }

    static func load(_ id: Int64, agency: Int64? = nil, on connection: PostgresConnection) async throws -> JSONValue {
        guard let row = try await connection.query("""
            SELECT \(unescaped: columns), l.body_text, l.body_html, l.data FROM \(unescaped: from)
            WHERE l.id = \(id)
              AND (\(agency)::bigint IS NULL OR l.id IN (SELECT agency_letter_ids(\(agency))))
            """).first else { throw RPCFailure.notFound("letter") }
        return try letterJSON(row, full: true)
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let status = try params.optionalString("status", maxLength: 16)
        if let status, !["pending", "sent"].contains(status) { throw RPCFailure.invalidParams("status", "status must be pending or sent") }
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let kind = try params.optionalChoice("kind", LetterKind.self)?.rawValue
        let agency = AgencyScope.agency(context)
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: columns) FROM \(unescaped: from)
            WHERE (\(customerID)::bigint IS NULL OR l.customer_id = \(customerID)) AND (\(status)::text IS NULL OR l.status = \(status))
              AND (\(kind)::text IS NULL OR l.kind = \(kind))
              AND (\(agency)::bigint IS NULL OR l.id IN (SELECT agency_letter_ids(\(agency))))
            ORDER BY l.id DESC LIMIT \(limit)
            """)
        return ["letters": .array(rows.decodeEach("letter", logger: context.logger) { try letterJSON($0, full: false) })]
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let agency = AgencyScope.agency(context)
        return try await services.read(context) { try await load(id, agency: agency, on: $0) }
    }


    static func markSent(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let channel = try params.choice("channel", LetterChannel.self)
        let current = context
        return try await services.transaction(current) { tx in
            guard let status = try await tx.query("SELECT status FROM letters WHERE id = \(id) FOR UPDATE").first?.decode(String.self, at: 0) else {
                throw RPCFailure.notFound("letter")
            }
            guard status == "pending" else { throw RPCFailure.conflict("the letter was already marked sent") }
            try await tx.query("""
                UPDATE letters SET status = 'sent', sent_channel = \(channel.rawValue), sent_by = \(current.session?.userID), sent_at = now()
                WHERE id = \(id)
                """)
            // Sent by hand: its outbox messages that were waiting are done (post) or not needed any more.
            try await tx.query("""
                UPDATE messages SET state = CASE WHEN channel = 'post' THEN 'sent' ELSE 'cancelled' END,
                    sent_at = CASE WHEN channel = 'post' THEN now() END,
                    cancel_reason = CASE WHEN channel = 'post' THEN NULL ELSE 'the letter was sent by hand' END, updated_at = now()
                WHERE letter_id = \(id) AND state IN ('queued', 'retrying', 'unknown', 'failed')
                """)
            try await LetterStore.afterSent(letterID: id, today: services.today(), context: current, on: tx)
            let letter = try await load(id, on: tx)
            try await Audit.record(tx, context: current, method: "letters.mark_sent", entity: "letter", entityID: String(id),
                                   before: ["status": "pending"], after: ["status": "sent", "channel": .string(channel.rawValue)])
            return letter
        }
    }
}
