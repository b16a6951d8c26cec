import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `outbox.*`: what the outbox holds, and a manager's retry or cancel.
enum OutboxMethods {
    static let handlers: [String: MethodHandler] = [
        "outbox.list": list, "outbox.get": get, "outbox.retry": retry, "outbox.cancel": cancel,
    ]

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let state = try params.optionalChoice("state", MessageState.self)?.rawValue
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let channel = try params.optionalChoice("channel", MessageChannel.self)?.rawValue
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: OutboxStore.columns) FROM messages m
            WHERE m.id > \(after) AND (\(state)::text IS NULL OR m.state = \(state))
              AND (\(customerID)::bigint IS NULL OR m.customer_id = \(customerID))
              AND (\(channel)::text IS NULL OR m.channel = \(channel))
            ORDER BY m.id LIMIT \(limit)
            """)
        return ["messages": .array(rows.decodeEach("message", logger: context.logger) { try $0.decode(MessageRecord.self).json() }),
                "next_after": rows.nextAfter(limit: limit)]
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let withRaw = try params.optionalBool("raw") ?? false
        let maxReply = services.settings.maxReplyBytes
        return try await services.read(context) { connection in
            var json = try await OutboxStore.load(id, on: connection).json(bodies: true)
            if withRaw, case .object(var object) = json {
                let raw = try await connection.query("SELECT raw FROM messages WHERE id = \(id)").one().decode([UInt8]?.self, at: 0)
                let encoded = raw.map { Data($0).base64EncodedString() }
                if let encoded, encoded.utf8.count > maxReply - 65_536 {
                    throw RPCFailure.invalidParams("raw", "the message is too large to return in one reply")
                }
                object["raw_base64"] = .optional(encoded)
                json = .object(object)
            }
            return json
        }
    }

    static func retry(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        return try await transition(id, method: "outbox.retry", allowed: MessageState.retryable, verb: "retried", services: services, context: context) { tx in
            try await tx.query("""
                UPDATE messages SET state = 'queued', next_attempt_at = now(), cancel_reason = NULL, updated_at = now() WHERE id = \(id)
                """)
        }
    }

    static func cancel(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason")
        return try await transition(id, method: "outbox.cancel", allowed: MessageState.cancellable, verb: "cancelled", services: services, context: context) { tx in
            try await tx.query("UPDATE messages SET state = 'cancelled', cancel_reason = \(reason), updated_at = now() WHERE id = \(id)")
        }
    }

    /// A manager's change of a message's state: under its row lock, only from `allowed` states
    /// (else 409), audited with the message before and after.
    static func transition(_ id: Int64, method: String, allowed: [MessageState], verb: String, services: Services, context: CallContext,
                           _ change: (PostgresConnection) async throws -> Void) async throws -> JSONValue {
        try await services.transaction(context) { tx in
            let before = try await OutboxStore.load(id, forUpdate: true, on: tx)
            guard allowed.contains(before.state) else {
                throw RPCFailure.conflict("a \(before.state.rawValue) message cannot be \(verb)")
            }
            try await change(tx)
            let after = try await OutboxStore.load(id, on: tx).json()
            try await Audit.record(tx, context: context, method: method, entity: "message", entityID: String(id),
                                   before: before.json(), after: after)
            return after
        }
    }
}
