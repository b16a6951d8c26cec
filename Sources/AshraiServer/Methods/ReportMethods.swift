import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `reports.*`.
public enum ReportMethods {
    static let handlers: [String: MethodHandler] = ["reports.aging": aging]

    /// The aging statement (shared with `make bench`, which runs it bare for comparison).
    public static func agingQuery(asOf: PostgresDate, today: PostgresDate, customerID: Int64?, minOverdueDays minOverdue: Int?,
                                  bounds: [Int]) -> PostgresQuery {
        let boundsText = "{" + bounds.map(String.init).joined(separator: ",") + "}"
        return """
                WITH open AS (
                    SELECT i.customer_id,
                           \(asOf)::date - i.due_date AS days,
                           i.amount - CASE WHEN \(asOf >= today) THEN i.written_off_amount
                               ELSE coalesce((SELECT sum(w.amount) FROM writeoffs w WHERE w.invoice_id = i.id AND w.written_off_on <= \(asOf)), 0) END
                           - CASE WHEN \(asOf >= today) THEN i.paid_amount + i.discount_amount
                               ELSE coalesce((SELECT sum(a.amount + a.discount) FROM allocations a JOIN payments p ON p.id = a.payment_id
                                              WHERE a.invoice_id = i.id AND p.received_on <= \(asOf)
                                                AND (a.reversed_at IS NULL OR a.reversed_at::date > \(asOf))), 0) END AS open_amount
                    FROM invoices i
                    WHERE i.issue_date <= \(asOf)
                      AND (i.status IN ('open', 'partially_paid') OR (\(asOf < today) AND i.status <> 'void')
                           OR (i.status = 'void' AND i.voided_at::date > \(asOf)))
                      AND (\(customerID)::bigint IS NULL OR i.customer_id = \(customerID))
                ), bucketed AS (
                    SELECT customer_id, open_amount,
                           CASE WHEN days <= 0 THEN 0
                                ELSE 1 + (SELECT count(*) FROM unnest(\(boundsText)::int[]) AS b(bound) WHERE days > b.bound) END AS bucket
                    FROM open
                    WHERE open_amount > 0 AND (\(minOverdue)::int IS NULL OR days >= \(minOverdue))
                )
                SELECT b.customer_id, c.code, c.name, b.bucket, sum(b.open_amount) AS amount, count(*) AS invoices,
                       \(asOf)::date AS as_of
                FROM bucketed b JOIN customers c ON c.id = b.customer_id
                GROUP BY b.customer_id, c.code, c.name, b.bucket
                ORDER BY b.customer_id, b.bucket
                """
    }

    /// Aging in one set-based statement: the open amount of every invoice as of the date,
    /// bucketed by days past due in SQL, summed per customer and bucket. For today (or later)
    /// the settled amounts kept on the invoice are used; for a past date the allocations of
    /// payments received by then (and not reversed by then) are summed instead.
    static func aging(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        let requestedAsOf = try params.optionalDate("as_of")
        var bounds = [30, 60, 90]
        if let value = params.object["buckets"], !value.isNull {
            guard case .array(let items) = value, let ints = Optional(items.compactMap(\.intValue)), ints.count == items.count else {
                throw RPCFailure.invalidParams("buckets", "buckets must be an array of day counts, e.g. [30, 60, 90]")
            }
            bounds = ints
        }
        guard let buckets = AgingBuckets(bounds), bounds.count <= 10, bounds.allSatisfy({ $0 <= 3650 }) else {
            throw RPCFailure.invalidParams("buckets", "buckets must be 1–10 ascending positive day counts up to 3650")
        }
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let groupBy = try params.optionalString("group_by", maxLength: 10) ?? "customer"
        guard groupBy == "customer" || groupBy == "none" else { throw RPCFailure.invalidParams("group_by", "group_by must be customer or none") }
        let minOverdue = try params.optionalInt("min_overdue_days", range: 0...36500)
        let rows = try await services.database.withConnection { connection -> PostgresRows in
            let asOf: PostgresDate
            if let requestedAsOf { asOf = requestedAsOf } else {
                asOf = try await connection.query("SELECT current_date").scalar(PostgresDate.self)
            }
            let today = try await connection.query("SELECT current_date").scalar(PostgresDate.self)
            return try await connection.query(agingQuery(asOf: asOf, today: today, customerID: customerID,
                                                         minOverdueDays: minOverdue, bounds: bounds))
        }
        let labels = buckets.labels
        struct Line { var code: String?; var name: String; var amounts: [Decimal]; var invoices: Int }
        var lines: [Int64: Line] = [:]
        var order: [Int64] = []
        var asOfText = requestedAsOf?.description
        for row in rows {
            let id = try row.decode(Int64.self, column: "customer_id")
            if lines[id] == nil {
                lines[id] = Line(code: try row.decode(String?.self, column: "code"), name: try row.decode(String.self, column: "name"),
                                 amounts: Array(repeating: 0, count: labels.count), invoices: 0)
                order.append(id)
            }
            let bucket = try row.decode(Int.self, column: "bucket")
            lines[id]!.amounts[bucket] += try row.decode(Decimal.self, column: "amount")
            lines[id]!.invoices += try row.decode(Int.self, column: "invoices")
            asOfText = try row.decode(PostgresDate.self, column: "as_of").description
        }
        if asOfText == nil {
            asOfText = try await services.database.query("SELECT current_date").scalar(PostgresDate.self).description
        }
        func amounts(_ values: [Decimal]) -> JSONValue {
            .object(JSONObject(zip(labels, values).map { ($0, JSONValue.money($1)) }))
        }
        var totals = Array(repeating: Decimal(0), count: labels.count)
        var totalInvoices = 0
        var jsonRows: [JSONValue] = []
        // Largest balance first.
        for id in order.sorted(by: { lines[$0]!.amounts.reduce(0, +) > lines[$1]!.amounts.reduce(0, +) }) {
            let line = lines[id]!
            for (index, value) in line.amounts.enumerated() { totals[index] += value }
            totalInvoices += line.invoices
            if groupBy == "customer" {
                jsonRows.append(["customer_id": .id(id), "code": .optional(line.code), "name": .string(line.name),
                                 "amounts": amounts(line.amounts), "total": .money(line.amounts.reduce(0, +)), "invoices": .int(line.invoices)])
            }
        }
        return [
            "as_of": .string(asOfText ?? ""), "buckets": .array(labels.map(JSONValue.string)), "rows": .array(jsonRows),
            "totals": ["amounts": amounts(totals), "total": .money(totals.reduce(0, +)), "invoices": .int(totalInvoices)],
        ]
    }
}
