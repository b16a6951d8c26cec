import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `letters.*`: what dunning wrote, exactly as rendered then.
enum LetterMethods {
    static let handlers: [String: MethodHandler] = ["letters.list": list, "letters.get": get, "letters.mark_sent": markSent]

    static let columns = """
        l.id, l.customer_id, c.name AS customer_name, l.run_id, l.level, l.action, l.template, l.language, l.as_of, l.last_date_to_pay,
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
            "level": .int(try row.decode(Int.self, column: "level")),
            "action": .string(try row.decode(String.self, column: "action")),
            "template": .string(try row.decode(String.self, column: "template")),
            "language": .string(try row.decode(String.self, column: "language")),
            "as_of": .date(try row.decode(PostgresDate.self, column: "as_of")),
            "last_date_to_pay": .date(try row.decode(PostgresDate.self, column: "last_date_to_pay")),
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
        let agency = AgencyScope.agency(context)
        let rows = try await services.read(context) { try await $0.query("""
            SELECT \(unescaped: columns) FROM \(unescaped: from)
            WHERE (\(customerID)::bigint IS NULL OR l.customer_id = \(customerID)) AND (\(status)::text IS NULL OR l.status = \(status))
              AND (\(agency)::bigint IS NULL OR l.id IN (SELECT agency_letter_ids(\(agency))))
            ORDER BY l.id DESC LIMIT \(limit)
            """) }
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
            let letter = try await load(id, on: tx)
            try await Audit.record(tx, context: current, method: "letters.mark_sent", entity: "letter", entityID: String(id),
                                   before: ["status": "pending"], after: ["status": "sent", "channel": .string(channel.rawValue)])
            return letter
        }
    }
}
