import AshraiProtocol
import Foundation
import Postgres

/// Appends to `audit_log` inside the caller's transaction, so the write and its record
/// commit or roll back together.
public enum Audit {
    /// One change. `before`/`after` are the entity as the API shows it (never secrets).
    public struct Entry: Sendable {
        public var method: String
        public var entity: String
        public var entityID: String?
        public var before: JSONValue?
        public var after: JSONValue?
        public var details: JSONObject

        public init(method: String, entity: String, entityID: String?, before: JSONValue? = nil, after: JSONValue? = nil, details: JSONObject = [:]) {
            self.method = method
            self.entity = entity
            self.entityID = entityID
            self.before = before
            self.after = after
            self.details = details
        }
    }

    /// Records one change.
    public static func record(
        _ tx: PostgresConnection, context: CallContext, method: String, entity: String, entityID: String?,
        before: JSONValue? = nil, after: JSONValue? = nil, details: JSONObject = [:]
    ) async throws {
        try await record([Entry(method: method, entity: entity, entityID: entityID, before: before, after: after, details: details)],
                         context: context, on: tx)
    }

    /// Records changes made by one request, in one statement (a bank import audits thousands).
    public static func record(_ entries: [Entry], context: CallContext, on tx: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        func column(_ value: (Entry) -> String?) -> PostgresArray { PostgresArray(entries.map(value)) }
        try await tx.query("""
            INSERT INTO audit_log (actor_user_id, actor_username, action, entity_type, entity_id, before, after, context)
            SELECT \(context.session?.userID), \(context.session?.username), e.*
            FROM unnest(\(column(\.method))::text[], \(column(\.entity))::text[], \(column(\.entityID))::text[],
                        \(column { $0.before?.encoded() })::jsonb[], \(column { $0.after?.encoded() })::jsonb[],
                        \(column { JSONValue.object(contextObject($0.details, context)).encoded() })::jsonb[])
                 AS e(action, entity_type, entity_id, before, after, context)
            """)
    }

    /// An entry's `context`: its details, and where the request came from.
    static func contextObject(_ details: JSONObject, _ context: CallContext) -> JSONObject {
        var object = details
        object["connection_id"] = .int(context.connectionID)
        if let address = context.clientAddress { object["client_address"] = .string(address) }
        return object
    }
}
