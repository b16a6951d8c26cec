import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `interactions.*` and `promises.list`: every contact with a customer, append-only, and the
/// promises to pay made in them.
enum InteractionMethods {
    static let handlers: [String: MethodHandler] = [
        "interactions.log": log, "interactions.list": list, "promises.list": listPromises,
    ]


    static let columns = """
        x.id, x.customer_id, x.kind, x.channel_detail, x.occurred_at, x.summary, x.outcome, x.reason_for_nonpayment,
        array_to_string(x.invoice_ids, ',') AS invoice_ids, x.corrects_id, x.letter_id, x.message_id, u.username AS created_by,
        (SELECT pr.id FROM promises pr WHERE pr.interaction_id = x.id) AS promise_id
        """
    static let from = "interactions x LEFT JOIN users u ON u.id = x.created_by"

    static func ids(_ text: String?) -> [JSONValue] {
        (text ?? "").split(separator: ",").compactMap { Int64($0) }.map(JSONValue.id)
    }

    static func interactionJSON(_ row: PostgresRow) throws -> JSONValue {
        [
            "id": .id(try row.decode(Int64.self, column: "id")),
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "kind": .string(try row.decode(String.self, column: "kind")),
            "channel_detail": .optional(try row.decode(String?.self, column: "channel_detail")),
            "occurred_at": .string(rfc3339(try row.decode(Date.self, column: "occurred_at"))),
            "summary": .string(try row.decode(String.self, column: "summary")),
            "outcome": .optional(try row.decode(String?.self, column: "outcome")),
            "reason_for_nonpayment": .optional(try row.decode(String?.self, column: "reason_for_nonpayment")),
            "invoice_ids": .array(ids(try row.decode(String?.self, column: "invoice_ids"))),
            "corrects_id": try row.decode(Int64?.self, column: "corrects_id").map(JSONValue.id) ?? .null,
            "letter_id": try row.decode(Int64?.self, column: "letter_id").map(JSONValue.id) ?? .null,
            "message_id": try row.decode(Int64?.self, column: "message_id").map(JSONValue.id) ?? .null,
            "created_by": .optional(try row.decode(String?.self, column: "created_by")),
            "promise_id": try row.decode(Int64?.self, column: "promise_id").map(JSONValue.id) ?? .null,
        ]
    }

    /// Checks that every id is an invoice of this customer (not-found names none of the others').
    static func requireInvoices(_ ids: [Int64], customerID: Int64, on tx: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        let found = try await tx.query("""
            SELECT count(*) FROM invoices WHERE id = ANY(\(PostgresArray(ids.map { String($0) }))::bigint[]) AND customer_id = \(customerID)
            """).scalar(Int.self)
        guard found == ids.count else { throw RPCFailure.invalidParams("invoice_ids", "every invoice must be one of this customer's") }
    }

    /// Writes an interaction (and its audit record) inside `tx`; letters and holds use it too.
    static func insert(customerID: Int64, kind: InteractionKind, channelDetail: String?, occurredAt: Date?, summary: String, outcome: String?,
                       reason: String?, invoiceIDs: [Int64], correctsID: Int64?, letterID: Int64?, messageID: Int64? = nil, context: CallContext,
                       on tx: PostgresConnection) async throws -> Int64 {
        let id = try await tx.query("""
            INSERT INTO interactions (customer_id, kind, channel_detail, occurred_at, summary, outcome, reason_for_nonpayment,
                                      invoice_ids, corrects_id, letter_id, message_id, created_by)
            VALUES (\(customerID), \(kind.rawValue), \(channelDetail), coalesce(\(occurredAt)::timestamptz, now()), \(summary), \(outcome),
                    \(reason), \(PostgresArray(invoiceIDs.map { String($0) }))::bigint[], \(correctsID), \(letterID), \(messageID),
                    \(context.session?.userID))
            RETURNING id
            """).scalar(Int64.self)
        return id
    }

    static func log(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await log(services: services, context: context, params: params, joining: nil)
    }

    /// The core, also used by `tasks.complete` inside its transaction.
    static func log(services: Services, context: CallContext, params: Params, joining existing: PostgresConnection?) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let kind = try params.choice("kind", InteractionKind.self)
        let channelDetail = try params.optionalString("channel_detail", maxLength: 200)
        let occurredAt = try params.optionalInstant("occurred_at")
        if let occurredAt, occurredAt > services.now().addingTimeInterval(300) {
            throw RPCFailure.invalidParams("occurred_at", "occurred_at cannot be in the future")
        }
        let summary = try params.text("summary", maxLength: 4000)
        let outcome = try params.optionalString("outcome", maxLength: 2000)
        let reason = try params.optionalString("reason_for_nonpayment", maxLength: 2000)
        let invoiceIDs = try params.optionalIDs("invoice_ids") ?? []
        let correctsID = try params.optionalInt("corrects_id", range: 1...Int.max).map(Int64.init)
        var promise: (amount: Decimal, dueOn: PostgresDate)?
        if let value = params.object["promise"], !value.isNull {
            guard let object = value.objectValue else { throw RPCFailure.invalidParams("promise", "promise must be {amount, due_on}") }
            promise = try promiseFields(Params(object), currency: services.settings.currency)
        }
        let current = context
        return try await services.transaction(current, joining: existing) { tx in
            _ = try await CustomerRecord.require(customerID, on: tx)
            try await requireInvoices(invoiceIDs, customerID: customerID, on: tx)
            if let correctsID {
                let owner = try await tx.query("SELECT customer_id FROM interactions WHERE id = \(correctsID)").first?.decode(Int64.self, at: 0)
                guard owner == customerID else { throw RPCFailure.invalidParams("corrects_id", "corrects_id must be an interaction of this customer") }
            }
            let id = try await insert(customerID: customerID, kind: kind, channelDetail: channelDetail, occurredAt: occurredAt, summary: summary,
                                      outcome: outcome, reason: reason, invoiceIDs: invoiceIDs, correctsID: correctsID, letterID: nil,
                                      context: current, on: tx)
            var promiseJSON: JSONValue = .null
            if let promise {
                let promisedOn = try await tx.query("SELECT occurred_at::date FROM interactions WHERE id = \(id)").scalar(PostgresDate.self)
                guard promise.dueOn >= promisedOn else {
                    throw RPCFailure.invalidParams("promise", "promise: due_on cannot be before the day the promise was made")
                }
                guard promise.dueOn.daysSinceEpoch - promisedOn.daysSinceEpoch <= 366 else {
                    throw RPCFailure.invalidParams("promise", "promise: due_on is more than a year away — make it an installment plan")
                }
                let promiseID = try await tx.query("""
                    INSERT INTO promises (interaction_id, customer_id, amount, promised_on, due_on, invoice_ids, created_by)
                    VALUES (\(id), \(customerID), \(promise.amount), \(promisedOn), \(promise.dueOn),
                            \(PostgresArray(invoiceIDs.map { String($0) }))::bigint[], \(current.session?.userID))
                    RETURNING id
                    """).scalar(Int64.self)
                let today = services.today()
                promiseJSON = try await promises(asOf: max(today, promisedOn), customerID: customerID, promiseID: promiseID, on: tx).first?.json ?? .null
            }
            let interaction = try interactionJSON(try await tx.query("SELECT \(unescaped: columns) FROM \(unescaped: from) WHERE x.id = \(id)").one())
            try await Audit.record(tx, context: current, method: "interactions.log", entity: "customer", entityID: String(customerID),
                                   after: ["interaction": interaction, "promise": promiseJSON])
            return ["interaction": interaction, "promise": promiseJSON]
        }
    }

    /// `promise {amount, due_on}`; its errors name `promise`.
    static func promiseFields(_ inner: Params, currency: Currency) throws -> (amount: Decimal, dueOn: PostgresDate) {
        let amount = try? inner.money("amount", currency: currency)
        guard let amount, amount > 0 else { throw RPCFailure.invalidParams("promise", "promise: amount must be a positive amount of money") }
        guard let dueOn = try? inner.date("due_on") else { throw RPCFailure.invalidParams("promise", "promise: due_on must be a YYYY-MM-DD date") }
        return (amount, dueOn)
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let kind = try params.optionalChoice("kind", InteractionKind.self)?.rawValue
        let since = try params.optionalInstant("since")
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let agency = AgencyScope.agency(context)
        return try await services.read(context) { connection in
            try await AgencyScope.requireCustomer(customerID, agency: agency, on: connection)
            _ = try await CustomerRecord.require(customerID, on: connection)
            let rows = try await connection.query("""
                SELECT \(unescaped: columns) FROM \(unescaped: from)
                WHERE x.customer_id = \(customerID) AND (\(kind)::text IS NULL OR x.kind = \(kind))
                  AND (\(agency)::bigint IS NULL OR x.invoice_ids && ARRAY(SELECT agency_invoice_ids(\(agency))))
                  AND (\(since)::timestamptz IS NULL OR x.occurred_at >= \(since))
                ORDER BY x.occurred_at DESC, x.id DESC LIMIT \(limit)
                """)
            var interactions = rows.decodeEach("interaction", logger: context.logger, interactionJSON)
            if let agency {
                // An agency sees which of *its* invoices an entry is about, never the others'.
                let visible = Set(try await connection.query("SELECT agency_invoice_ids(\(agency))").map { try $0.decode(Int64.self, at: 0) })
                interactions = interactions.map { AgencyScope.interactionView($0, visibleInvoices: visible) }
            }
            return ["interactions": .array(interactions)]
        }
    }

    /// A promise as of a day.
    struct Promise {
        var id: Int64
        var customerID: Int64
        var invoiceIDs: [Int64]
        var amount: Decimal
        var dueOn: PostgresDate
        var status: PromiseStatus
        /// Paid toward it so far (from the day it was made to its due date), at most its amount.
        var paid: Decimal
        var json: JSONValue
    }

    /// Promises made on or before `asOf`, with their status then. Payments count when received
    /// from the day of the promise to its due day (and not after `asOf`), unless reversed by then.
    static func promises(asOf: PostgresDate, customerID: Int64? = nil, promiseID: Int64? = nil, dueFrom: PostgresDate? = nil,
                         limit: Int = 5000, on connection: PostgresConnection) async throws -> [Promise] {
        let rows = try await connection.query("""
            SELECT pr.id, pr.interaction_id, pr.customer_id, c.name AS customer_name, pr.amount, pr.promised_on, pr.due_on,
                   array_to_string(pr.invoice_ids, ',') AS invoice_ids, u.username AS created_by,
                   coalesce((SELECT sum(p.amount) FROM payments p
                             WHERE p.customer_id = pr.customer_id AND p.received_on >= pr.promised_on
                               AND p.received_on <= least(pr.due_on, \(asOf)::date)
                               AND (p.status = 'recorded' OR p.reversed_at::date > \(asOf)::date)), 0) AS paid
            FROM promises pr JOIN customers c ON c.id = pr.customer_id LEFT JOIN users u ON u.id = pr.created_by
            WHERE pr.promised_on <= \(asOf)::date
              AND (\(customerID)::bigint IS NULL OR pr.customer_id = \(customerID))
              AND (\(promiseID)::bigint IS NULL OR pr.id = \(promiseID))
              AND (\(dueFrom)::date IS NULL OR pr.due_on >= \(dueFrom)::date)
            ORDER BY pr.due_on, pr.id
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let amount = try row.decode(Decimal.self, column: "amount")
            let dueOn = try row.decode(PostgresDate.self, column: "due_on")
            let paid = try row.decode(Decimal.self, column: "paid")
            let status = PromiseStatus.evaluate(amount: amount, dueDay: dueOn.daysSinceEpoch, paidInWindow: paid, asOfDay: asOf.daysSinceEpoch)
            let invoiceText = try row.decode(String?.self, column: "invoice_ids")
            let json: JSONValue = [
                "id": .id(try row.decode(Int64.self, column: "id")),
                "interaction_id": .id(try row.decode(Int64.self, column: "interaction_id")),
                "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
                "customer_name": .string(try row.decode(String.self, column: "customer_name")),
                "amount": .money(amount), "promised_on": .date(try row.decode(PostgresDate.self, column: "promised_on")),
                "due_on": .date(dueOn), "invoice_ids": .array(ids(invoiceText)), "paid_in_window": .money(min(paid, amount)),
                "status": .string(status.rawValue), "created_by": .optional(try row.decode(String?.self, column: "created_by")),
            ]
            return Promise(id: try row.decode(Int64.self, column: "id"), customerID: try row.decode(Int64.self, column: "customer_id"),
                           invoiceIDs: (invoiceText ?? "").split(separator: ",").compactMap { Int64($0) }, amount: amount, dueOn: dueOn,
                           status: status, paid: min(paid, amount), json: json)
        }
    }

    static func listPromises(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let status = try params.optionalChoice("status", PromiseStatus.self)
        let asOfParam = try params.optionalDate("as_of")
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        return try await services.read(context) { connection in
            let asOf = services.day(asOfParam)
            let found = try await promises(asOf: asOf, customerID: customerID, on: connection).filter { status == nil || $0.status == status }
            return ["as_of": .date(asOf), "promises": .array(found.map(\.json))]
        }
    }
}
