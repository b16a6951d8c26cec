import AshraiCore
import Foundation
import Postgres

/// The aging statement's SQL: one statement for `reports.aging`, the KPIs, and `make bench`
/// (which runs it bare beside the daemon).
public enum AgingStore {
    /// The aging statement (shared with `make bench`, which runs it bare for comparison).
    ///
    /// Invoices are reduced to (customer, bucket) sums before customers are joined, so the
    /// join and the output stay small. Bucket = 0 when not yet due, else 1 + the number of
    /// bounds the days past due exceed (the same rule as `AgingBuckets.index`). For a past
    /// date, what was settled and written off by then is summed set-wise (hash joins), never
    /// per invoice.
    public static func query(asOf: PostgresDate, today: PostgresDate, customerID: Int64?, minOverdueDays minOverdue: Int?,
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
        let bucket = bucketSQL(days: "(\(asOfParam)::date - i.due_date)", bounds: bounds.map { "\(bind($0))::int" })
        // One text column per bucket (b0 = current …), pivoted in SQL: exact numeric sums
        // printed with two decimals, so Swift copies strings and never parses amounts.
        let bucketColumns = (0...(bounds.count + 1)).map {
            "coalesce(sum(a.amount) FILTER (WHERE a.bucket = \($0)), 0)::numeric(18,2)::text AS b\($0)"
        }.joined(separator: ", ")
        let outputColumns = "customer_id, code, name, " + (0...(bounds.count + 1)).map { "b\($0)" }.joined(separator: ", ") + ", total, invoices"
        query.sql = """
            WITH \(openInvoicesSQL(asOf: asOfParam, past: pastParam, customer: customerParam)), aggregated AS (
                SELECT i.customer_id,
                       \(bucket) AS bucket,
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

    /// The invoices open on a day and how much of each (CTEs `settled`, `written`, `open`; `open` has
    /// invoice_id, customer_id, due_date, open_amount — possibly 0), given the SQL of three binds: the day,
    /// whether it is in the past, and a customer id or NULL. For today the settled amounts kept on the invoice
    /// are used; for a past day the allocations of payments received by then (and not reversed by then), the
    /// write-offs and credit notes by then, summed set-wise (hash joins), never per invoice. Shared by the
    /// aging and the forecast.
    public static func openInvoicesSQL(asOf asOfParam: String, past pastParam: String, customer customerParam: String) -> String {
        """
            settled AS (
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
                SELECT i.id AS invoice_id, i.customer_id, i.due_date,
                       i.amount - CASE WHEN \(pastParam)::boolean THEN coalesce(s.amount, 0) + coalesce(w.amount, 0)
                                       ELSE i.paid_amount + i.discount_amount + i.written_off_amount + i.credited_amount END AS open_amount
                FROM invoices i
                LEFT JOIN settled s ON s.invoice_id = i.id
                LEFT JOIN written w ON w.invoice_id = i.id
                WHERE i.issue_date <= \(asOfParam)::date
                  AND (i.status IN (\(InvoiceStatus.owingSQL)) OR (\(pastParam)::boolean AND i.status <> 'void')
                       OR (i.status = 'void' AND i.voided_at::date > \(asOfParam)::date))
                  AND (\(customerParam)::bigint IS NULL OR i.customer_id = \(customerParam)::bigint)
            )
        """
    }

    /// The bucket of an invoice `days` past due (SQL expressions): 0 when not yet due, else 1 +
    /// the number of bounds exceeded — `AgingBuckets.index` in SQL, checked against it by a test.
    public static func bucketSQL(days: String, bounds: [String]) -> String {
        "CASE WHEN \(days) <= 0 THEN 0 ELSE 1 + \(bounds.map { "(\(days) > \($0))::int" }.joined(separator: " + ")) END"
    }
}
