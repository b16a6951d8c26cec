import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `reports.*`.
public enum ReportMethods {
    static let handlers: [String: MethodHandler] = ["reports.aging": aging]

    /// The aging statement (shared with `make bench`, which runs it bare for comparison).
    ///
    /// Invoices are reduced to (customer, bucket) sums before customers are joined, so the
    /// join and the output stay small. Bucket = 0 when not yet due, else 1 + the number of
    /// bounds the days past due exceed (the same rule as `AgingBuckets.index`). For a past
    /// date, what was settled and written off by then is summed set-wise (hash joins), never
    /// per invoice.
    public static func agingQuery(asOf: PostgresDate, today: PostgresDate, customerID: Int64?, minOverdueDays minOverdue: Int?,
                                  bounds: [Int], limit: Int = 1000, offset: Int = 0) -> PostgresQuery {
        let past = asOf < today
        var query = PostgresQuery(unsafeSQL: "")
        var binds: [PostgresBindValue] = []
        func bind(_ value: some PostgresEncodable) -> String {
            binds.append((try? value.postgresBind()) ?? .null(.unspecified))
            return "$\(binds.count)"
        }
        let asOfParam = bind(asOf)
        let pastParam = bind(past)
        let customerParam = bind(customerID)
        let minParam = bind(minOverdue)
        let bucketTerms = bounds.map { "((\(asOfParam)::date - i.due_date) > \(bind($0))::int)::int" }.joined(separator: " + ")
        // One text column per bucket (b0 = current …), pivoted in SQL: exact numeric sums
        // printed with two decimals, so Swift copies strings and never parses amounts.
        let bucketColumns = (0...(bounds.count + 1)).map {
            "coalesce(sum(a.amount) FILTER (WHERE a.bucket = \($0)), 0)::numeric(18,2)::text AS b\($0)"
        }.joined(separator: ", ")
        let outputColumns = "customer_id, code, name, " + (0...(bounds.count + 1)).map { "b\($0)" }.joined(separator: ", ") + ", total, invoices"
        query.sql = """
            WITH settled AS (
                SELECT a.invoice_id, sum(a.amount + a.discount) AS amount
                FROM allocations a JOIN payments p ON p.id = a.payment_id
                WHERE \(pastParam)::boolean AND p.received_on <= \(asOfParam)::date
                  AND (a.reversed_at IS NULL OR a.reversed_at::date > \(asOfParam)::date)
                GROUP BY a.invoice_id
            ), written AS (
                SELECT w.invoice_id, sum(w.amount) AS amount
                FROM (SELECT invoice_id, amount, written_off_on AS day FROM writeoffs
                      UNION ALL SELECT invoice_id, amount, issued_on FROM credit_notes) w
                WHERE \(pastParam)::boolean AND w.day <= \(asOfParam)::date
                GROUP BY w.invoice_id
            ), open AS (
                SELECT i.customer_id, i.due_date,
                       i.amount - CASE WHEN \(pastParam)::boolean THEN coalesce(s.amount, 0) + coalesce(w.amount, 0)
                                       ELSE i.paid_amount + i.discount_amount + i.written_off_amount + i.credited_amount END AS open_amount
                FROM invoices i
                LEFT JOIN settled s ON s.invoice_id = i.id
                LEFT JOIN written w ON w.invoice_id = i.id
                WHERE i.issue_date <= \(asOfParam)::date
                  AND (i.status IN (\(InvoiceStatus.owingSQL)) OR (\(pastParam)::boolean AND i.status <> 'void')
                       OR (i.status = 'void' AND i.voided_at::date > \(asOfParam)::date))
                  AND (\(customerParam)::bigint IS NULL OR i.customer_id = \(customerParam)::bigint)
            ), aggregated AS (
                SELECT i.customer_id,
                       CASE WHEN \(asOfParam)::date - i.due_date <= 0 THEN 0 ELSE 1 + \(bucketTerms) END AS bucket,
                       sum(i.open_amount) AS amount, count(*) AS invoices
                FROM open i
                WHERE i.open_amount > 0 AND (\(minParam)::int IS NULL OR \(asOfParam)::date - i.due_date >= \(minParam)::int)
                GROUP BY 1, 2
            )
            , grouped AS (
                SELECT a.customer_id, c.code, c.name, \(bucketColumns),
                       coalesce(sum(a.amount), 0)::numeric(18,2)::text AS total, coalesce(sum(a.invoices), 0) AS invoices,
                       sum(a.amount) AS sort_total
                FROM aggregated a JOIN customers c ON c.id = a.customer_id
                GROUP BY GROUPING SETS ((a.customer_id, c.code, c.name), ())
            )
            (SELECT \(outputColumns), \(asOfParam)::date AS as_of FROM grouped WHERE customer_id IS NULL)
            UNION ALL
            (SELECT \(outputColumns), \(asOfParam)::date AS as_of FROM grouped WHERE customer_id IS NOT NULL
             ORDER BY sort_total DESC, customer_id LIMIT \(bind(limit + 1))::int OFFSET \(bind(offset))::int)
            """
        query.binds = binds
        return query
    }

    /// Aging in one set-based statement: the open amount of every invoice as of the date,
    /// bucketed by days past due in SQL, summed per customer and bucket. For today (or later)
    /// the settled amounts kept on the invoice are used; for a past date the allocations of
    /// payments received by then (and not reversed by then) are summed instead.
    static func aging(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
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
        // The grand total always comes first (and counts every customer); the customer rows
        // are a page, largest balance first.
        let limit = try params.optionalInt("limit", range: 1...100_000) ?? 1000
        let offset = try params.optionalInt("offset", range: 0...10_000_000) ?? 0
        let (rows, asOf) = try await services.read(context) { connection -> (PostgresRows, PostgresDate) in
            let today = services.today()
            let asOf = requestedAsOf ?? today
            return (try await connection.query(agingQuery(asOf: asOf, today: today, customerID: customerID,
                                                          minOverdueDays: minOverdue, bounds: bounds, limit: limit, offset: offset)), asOf)
        }
        let labels = buckets.labels
        var jsonRows: [JSONValue] = []
        var totals: JSONValue = ["amounts": .object(JSONObject(labels.map { ($0, JSONValue.string("0.00")) })), "total": "0.00", "invoices": 0]
        for row in rows {
            let amounts = JSONValue.object(JSONObject(try labels.indices.map { (labels[$0], JSONValue.string(try row.decode(String.self, at: 3 + $0))) }))
            let total = JSONValue.string(try row.decode(String.self, column: "total"))
            let invoices = JSONValue.int(try row.decode(Int.self, column: "invoices"))
            guard let id = try row.decode(Int64?.self, at: 0) else {
                totals = ["amounts": amounts, "total": total, "invoices": invoices]   // the grand-total row
                continue
            }
            if groupBy == "customer" {
                jsonRows.append(["customer_id": .id(id), "code": .optional(try row.decode(String?.self, at: 1)),
                                 "name": .string(try row.decode(String.self, at: 2)), "amounts": amounts, "total": total, "invoices": invoices])
            }
        }
        // The query returns the total row, then up to limit + 1 customers (one more tells whether a next page exists).
        let hasMore = jsonRows.count > limit
        if hasMore { jsonRows.removeLast() }
        return ["as_of": .date(asOf), "buckets": .array(labels.map(JSONValue.string)), "rows": .array(jsonRows),
                "totals": totals, "next_offset": hasMore ? .int(offset + limit) : .null]
    }
}
