import AshraiProtocol
import Foundation
import Postgres

/// Appends to `audit_log` inside the caller's transaction, so the write and its record
/// commit or roll back together.
public enum Audit {
    /// Records one change. `before`/`after` are the entity as the API shows it (never secrets).
    public static func record(
        _ tx: PostgresConnection, context: CallContext, method: String, entity: String, entityID: String?,
        before: JSONValue? = nil, after: JSONValue? = nil, details: JSONObject = [:]
    ) async throws {
        var contextObject = details
        contextObject["connection_id"] = .int(context.connectionID)
        if let address = context.clientAddress { contextObject["client_address"] = .string(address) }
        try await tx.query("""
            INSERT INTO audit_log (actor_user_id, actor_username, action, entity_type, entity_id, before, after, context)
            VALUES (\(context.session?.userID), \(context.session?.username), \(method), \(entity), \(entityID),
                    \(before), \(after), \(JSONValue.object(contextObject)))
            """)
    }
}
