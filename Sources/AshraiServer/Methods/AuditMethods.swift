import AshraiProtocol
import Foundation
import Postgres

/// `audit.list`.
enum AuditMethods {
    static let handlers: [String: MethodHandler] = ["audit.list": list]

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let entity = try params.optionalString("entity", maxLength: 64)
        let entityID = try params.optionalString("entity_id", maxLength: 64)
        let userID = try params.optionalInt("user_id").map(Int64.init)
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let beforeID = try params.optionalInt("before_id").map(Int64.init)
        let since = try params.optionalInstant("since")
        let rows = try await services.read(context, query: """
            SELECT id, occurred_at, actor_user_id, actor_username, action, entity_type, entity_id, before, after, context
            FROM audit_log
            WHERE (\(entity)::text IS NULL OR entity_type = \(entity))
              AND (\(entityID)::text IS NULL OR entity_id = \(entityID))
              AND (\(userID)::bigint IS NULL OR actor_user_id = \(userID))
              AND (\(since)::timestamptz IS NULL OR occurred_at >= \(since))
              AND (\(beforeID)::bigint IS NULL OR id < \(beforeID))
            ORDER BY id DESC
            LIMIT \(limit)
            """)
        let entries: [JSONValue] = try rows.map { row in
            [
                "id": .number(String(try row.decode(Int64.self, column: "id"))),
                "at": .string(rfc3339(try row.decode(Date.self, column: "occurred_at"))),
                "user_id": try row.decode(Int64?.self, column: "actor_user_id").map { .number(String($0)) } ?? .null,
                "username": try row.decode(String?.self, column: "actor_username").map(JSONValue.string) ?? .null,
                "method": .string(try row.decode(String.self, column: "action")),
                "entity": .string(try row.decode(String.self, column: "entity_type")),
                "entity_id": try row.decode(String?.self, column: "entity_id").map(JSONValue.string) ?? .null,
                "before": try row.decode(JSONValue?.self, column: "before") ?? .null,
                "after": try row.decode(JSONValue?.self, column: "after") ?? .null,
                "context": try row.decode(JSONValue.self, column: "context"),
            ]
        }
        let next: JSONValue = rows.count == limit ? (entries.last?["id"] ?? .null) : .null
        return ["entries": .array(entries), "next_before_id": next]
    }
}
