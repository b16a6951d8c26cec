import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `holds.*`: credit hold (stop supplying on credit), with history.
enum HoldMethods {
    static let handlers: [String: MethodHandler] = ["holds.place": place, "holds.release": release, "holds.list": list]

    static let columns = """
        h.id, h.customer_id, h.reason, h.interaction_id, p.username AS placed_by, h.placed_at, h.release_reason,
        r.username AS released_by, h.released_at
        """
    static let from = "holds h LEFT JOIN users p ON p.id = h.placed_by LEFT JOIN users r ON r.id = h.released_by"

    static func holdJSON(_ row: PostgresRow) throws -> JSONValue {
        let releasedAt = try row.decode(Date?.self, column: "released_at")
        return [
            "id": .id(try row.decode(Int64.self, column: "id")),
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "reason": .string(try row.decode(String.self, column: "reason")),
            "interaction_id": try row.decode(Int64?.self, column: "interaction_id").map(JSONValue.id) ?? .null,
            "placed_by": .optional(try row.decode(String?.self, column: "placed_by")),
            "placed_at": .string(rfc3339(try row.decode(Date.self, column: "placed_at"))),
            "release_reason": .optional(try row.decode(String?.self, column: "release_reason")),
            "released_by": .optional(try row.decode(String?.self, column: "released_by")),
            "released_at": releasedAt.map { .string(rfc3339($0)) } ?? .null,
            "active": .bool(releasedAt == nil),
        ]
    }

    static func load(id: Int64, on tx: PostgresConnection) async throws -> JSONValue {
        try holdJSON(try await tx.query("SELECT \(unescaped: columns) FROM \(unescaped: from) WHERE h.id = \(id)").one())
    }

    /// A hold is a last step after contact and mediation; `interaction_id` records the
    /// conversation that preceded it (README, "Holds").
    static func place(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let reason = try params.text("reason")
        let interactionID = try params.optionalInt("interaction_id", range: 1...Int.max).map(Int64.init)
        let current = context
        return try await services.transaction(current) { tx in
            let customer = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            if customer.status == .closed {
                throw RPCFailure.ruleViolated(.customerClosed, "the customer's account is closed")
            }
            if customer.status == .onHold { throw RPCFailure.conflict("the customer is already on hold") }
            return try await insertHold(customerID: customerID, reason: reason, interactionID: interactionID, method: "holds.place",
                                        context: current, on: tx).json
        }
    }

    /// Puts an active customer (already locked by the caller) on hold, with its audit record:
    /// the one way a hold is placed, by a manager or by the dunning run.
    static func insertHold(customerID: Int64, reason: String, interactionID: Int64?, method: String, details: JSONObject = [:],
                           context: CallContext, on tx: PostgresConnection) async throws -> (id: Int64, json: JSONValue) {
        let id = try await tx.query("""
            INSERT INTO holds (customer_id, reason, interaction_id, placed_by)
            VALUES (\(customerID), \(reason), \(interactionID), \(context.session?.userID)) RETURNING id
            """).scalar(Int64.self)
        try await tx.query("UPDATE customers SET status = 'on_hold', updated_at = now(), version = version + 1 WHERE id = \(customerID)")
        let hold = try await load(id: id, on: tx)
        try await Audit.record(tx, context: context, method: method, entity: "customer", entityID: String(customerID),
                               before: ["status": "active"], after: hold, details: details)
        return (id, hold)
    }

    static func release(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let reason = try params.text("reason")
        let current = context
        return try await services.transaction(current) { tx in
            let customer = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let rows = try await tx.query("""
                UPDATE holds SET released_at = now(), released_by = \(current.session?.userID), release_reason = \(reason)
                WHERE customer_id = \(customerID) AND released_at IS NULL RETURNING id
                """)
            guard let id = try rows.first?.decode(Int64.self, at: 0) else {
                throw RPCFailure.conflict("the customer is not on hold")
            }
            if customer.status == .onHold {
                try await tx.query("UPDATE customers SET status = 'active', updated_at = now(), version = version + 1 WHERE id = \(customerID)")
            }
            let hold = try await load(id: id, on: tx)
            try await Audit.record(tx, context: current, method: "holds.release", entity: "customer", entityID: String(customerID),
                                   before: ["status": .string(customer.status.rawValue)], after: hold)
            return hold
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let active = try params.optionalBool("active")
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: columns) FROM \(unescaped: from)
            WHERE (\(customerID)::bigint IS NULL OR h.customer_id = \(customerID))
              AND (\(active)::boolean IS NULL OR (h.released_at IS NULL) = \(active))
            ORDER BY h.id DESC LIMIT 500
            """)
        return ["holds": .array(try rows.map(holdJSON))]
    }
}

/// `reviews.*`: periodic credit reviews on a grade-dependent schedule.
enum ReviewMethods {
    static let handlers: [String: MethodHandler] = ["reviews.record": record, "reviews.due": due]

    static func record(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let findings = try params.text("findings")
        let decision = try params.text("decision")
        let reviewedOn = try params.optionalDate("reviewed_on")
        let nextGiven = try params.optionalDate("next_review_on")
        let policy = services.settings.creditPolicy
        let current = context
        return try await services.transaction(current) { tx in
            let customer = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let grade = customer.grade.flatMap(Grade.init(rawValue:)) ?? .E
            let months = policy.reviewMonths[grade] ?? 1
            let row = try await tx.query("""
                WITH r AS (
                    INSERT INTO credit_reviews (customer_id, reviewed_on, findings, decision, grade, next_review_on, reviewed_by)
                    SELECT \(customerID), d.day, \(findings), \(decision), \(customer.grade),
                           coalesce(\(nextGiven)::date, (d.day + make_interval(months => \(months)::int))::date), \(current.session?.userID)
                    FROM (SELECT \(services.day(reviewedOn)) AS day) d
                    RETURNING *
                )
                SELECT r.id, r.customer_id, r.reviewed_on, r.findings, r.decision, r.grade, r.next_review_on, u.username AS reviewed_by
                FROM r LEFT JOIN users u ON u.id = r.reviewed_by
                """).one()
            let next = try row.decode(PostgresDate.self, column: "next_review_on")
            let reviewed = try row.decode(PostgresDate.self, column: "reviewed_on")
            guard next > reviewed else {
                throw RPCFailure.invalidParams("next_review_on", "next_review_on must be after the review date")
            }
            try await tx.query("UPDATE customers SET next_review_on = \(next), updated_at = now(), version = version + 1 WHERE id = \(customerID)")
            let review: JSONValue = [
                "id": .id(try row.decode(Int64.self, column: "id")), "customer_id": .id(customerID),
                "reviewed_on": .date(reviewed), "findings": .string(findings), "decision": .string(decision),
                "grade": .optional(customer.grade), "next_review_on": .date(next),
                "reviewed_by": .optional(try row.decode(String?.self, column: "reviewed_by")),
            ]
            try await Audit.record(tx, context: current, method: "reviews.record", entity: "customer", entityID: String(customerID),
                                   after: review)
            return review
        }
    }

    /// Due or overdue as of a date; never-reviewed customers count from their creation. Worst
    /// grade first (ungraded as E), then the longest overdue.
    static func due(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let asOf = try params.optionalDate("as_of")
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: CustomerRecord.columns),
                   \(services.day(asOf)) - coalesce(c.next_review_on, c.created_at::date) AS days_overdue
            FROM customers c
            WHERE c.status <> 'closed' AND coalesce(c.next_review_on, c.created_at::date) <= \(services.day(asOf))
            ORDER BY coalesce(c.grade, 'E') DESC, days_overdue DESC, c.id
            LIMIT 1000
            """)
        return ["due": .array(try rows.map { row in
            ["customer": try CustomerRecord(row: row).json, "days_overdue": .int(try row.decode(Int.self, column: "days_overdue"))]
        })]
    }
}
