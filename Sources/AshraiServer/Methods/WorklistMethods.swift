import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `worklist.today`: whom to call today, ranked by expected loss (`Worklist`, AshraiCore). A clerk
/// sees their own portfolio; managers and admins all of it, or one owner's, or the unowned.
enum WorklistMethods {
    static let handlers: [String: MethodHandler] = ["worklist.today": today]

    /// Broken promises count this long.
    static let promiseWindowDays = 180

    /// The settled invoices of the last two years, by the age they reached before they were settled (the
    /// last write-off or payment applied, less the due date), for `Worklist.calibrated`.
    static func history(today: PostgresDate, currency: Currency, on connection: PostgresConnection) async throws -> [Worklist.BucketHistory] {
        try await connection.query("""
            WITH settled AS (   -- joins with the last dates grouped once (a subquery per invoice was 6 s on 500k invoices)
                SELECT i.amount, i.written_off_amount AS written_off,
                       greatest(coalesce(w.last, a.last, i.due_date) - i.due_date, 0) AS age
                FROM invoices i
                LEFT JOIN (SELECT invoice_id, max(written_off_on) AS last FROM writeoffs GROUP BY invoice_id) w ON w.invoice_id = i.id
                LEFT JOIN (SELECT invoice_id, max(applied_on) AS last FROM allocations WHERE reversed_at IS NULL GROUP BY invoice_id) a
                       ON a.invoice_id = i.id
                WHERE i.status IN ('paid', 'written_off', 'credited') AND i.currency = \(currency.code)
                  AND i.due_date >= \(today)::date - 730 AND i.due_date < \(today)::date
            )
            SELECT s.start, count(*) FILTER (WHERE st.age >= s.start) AS invoices,
                   coalesce(sum(st.amount) FILTER (WHERE st.age >= s.start), 0) AS amount,
                   coalesce(sum(st.written_off) FILTER (WHERE st.age >= s.start), 0) AS written_off
            FROM unnest(\(PostgresArray(Worklist.bucketStarts.map { Int64($0) }))::int[]) AS s(start) CROSS JOIN settled st
            GROUP BY s.start ORDER BY s.start
            """).map { row in
            Worklist.BucketHistory(invoices: try row.decode(Int.self, column: "invoices"), amount: try row.decode(Decimal.self, column: "amount"),
                                   writtenOff: try row.decode(Decimal.self, column: "written_off"))
        }
    }

    static func today(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let limit = try params.optionalInt("limit", range: 1...500) ?? 50
        var owner = try params.optionalInt("owner_id", range: 1...Int.max).map(Int64.init)
        let unowned = try params.optionalBool("unowned") ?? false
        if context.session?.role == .clerk {
            guard owner == nil || owner == context.session?.userID, !unowned else {
                throw RPCFailure.forbidden("a clerk's worklist is their own portfolio")
            }
            owner = context.session?.userID
        }
        if owner != nil, unowned { throw RPCFailure.invalidParams("unowned", "owner_id and unowned together match nothing") }
        let today = services.today()
        let currency = services.settings.currency
        return try await services.read(context) { connection in
            let rows = try await connection.query("""
                WITH overdue AS (
                    SELECT i.customer_id, sum(invoice_open_amount(i)) AS overdue, max(\(today)::date - i.due_date) AS days,
                           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status = 'open')) AS disputed
                    FROM invoices i
                    WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.due_date < \(today)::date AND i.currency = \(currency.code)
                    GROUP BY i.customer_id
                ), first_task AS (
                    SELECT DISTINCT ON (t.customer_id) t.customer_id, t.due_on, t.kind
                    FROM tasks t WHERE t.state = 'open' ORDER BY t.customer_id, t.due_on, t.id
                )
                SELECT c.id, c.name, c.owner_id, c.grade, coalesce(o.overdue, 0) AS overdue, coalesce(o.days, 0) AS days,
                       coalesce(o.disputed, 0) AS disputed, ft.due_on AS task_due, ft.kind AS task_kind,
                       lc.occurred_at AS last_at, lc.kind AS last_kind, lc.summary AS last_summary
                FROM customers c
                LEFT JOIN overdue o ON o.customer_id = c.id
                LEFT JOIN first_task ft ON ft.customer_id = c.id
                LEFT JOIN LATERAL (SELECT x.occurred_at, x.kind, x.summary FROM interactions x WHERE x.customer_id = c.id
                                   ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1) lc ON true
                WHERE (o.customer_id IS NOT NULL OR ft.due_on <= \(today)::date)
                  AND (\(owner)::bigint IS NULL OR c.owner_id = \(owner)) AND (NOT \(unowned) OR c.owner_id IS NULL)
                """)
            // Promises: the broken ones of the last 180 days, and the next one still running, by customer.
            var broken: [Int64: Int] = [:], running: [Int64: Int] = [:]
            let promises = try await InteractionMethods.promises(asOf: today, dueFrom: PostgresDate(daysSinceEpoch: today.daysSinceEpoch - promiseWindowDays),
                                                                 on: connection)
            for promise in promises {
                switch promise.status {
                case .broken: broken[promise.customerID, default: 0] += 1
                case .open: running[promise.customerID] = min(running[promise.customerID] ?? Int.max, promise.dueOn.daysSinceEpoch)
                case .kept: break
                }
            }
            let calibrated = Worklist.calibrated(try await history(today: today, currency: currency, on: connection))
            var extras: [Int64: (name: String, owner: Int64?, last: JSONValue)] = [:]
            let accounts = rows.decodeEach("worklist row", logger: context.logger) { row -> Worklist.Account in
                let id = try row.decode(Int64.self, column: "id")
                let lastAt = try row.decode(Date?.self, column: "last_at")
                extras[id] = (try row.decode(String.self, column: "name"), try row.decode(Int64?.self, column: "owner_id"),
                              lastAt.map { at in
                                  ["occurred_at": .string(rfc3339(at)), "kind": .optional(try? row.decode(String.self, column: "last_kind")),
                                   "summary": .optional(try? row.decode(String.self, column: "last_summary"))]
                              } ?? .null)
                return Worklist.Account(customerID: id, overdue: try row.decode(Decimal.self, column: "overdue"),
                                        daysPastDue: try row.decode(Int.self, column: "days"),
                                        grade: try row.decode(String?.self, column: "grade").flatMap(Grade.init(rawValue:)),
                                        brokenPromises: broken[id] ?? 0, disputedInvoices: try row.decode(Int.self, column: "disputed"),
                                        promiseDueDay: running[id], taskDueDay: try row.decode(PostgresDate?.self, column: "task_due")?.daysSinceEpoch,
                                        taskKind: try row.decode(String?.self, column: "task_kind").flatMap(TaskKind.init(rawValue:)))
            }
            let ranked = Worklist.rank(accounts, today: today.daysSinceEpoch, calibrated: calibrated) { Money($0, currency).text }
            let total = ranked.reduce(Decimal(0)) { $0 + $1.expectedLoss }
            let byAge: [JSONValue] = Worklist.bucketStarts.enumerated().map { bucket, start in
                ["from_days": .int(start), "prior": .number(String(format: "%.4f", Worklist.priorByAge[bucket].probability)),
                 "ledger": calibrated[bucket].map { .number(String(format: "%.4f", $0)) } ?? .null]
            }
            return ["as_of": .date(today), "customers": .int(ranked.count), "expected_loss": .money(total, currency), "by_age": .array(byAge),
                    "rows": .array(ranked.prefix(limit).map { row in
                        let extra = extras[row.account.customerID]
                        let a = row.account
                        return [
                            "customer_id": .id(a.customerID), "customer_name": .string(extra?.name ?? ""),
                            "owner_id": extra?.owner.map(JSONValue.id) ?? .null, "overdue": .money(a.overdue, currency),
                            "days_past_due": .int(a.daysPastDue), "grade": .optional(a.grade?.rawValue), "broken_promises": .int(a.brokenPromises),
                            "disputed_invoices": .int(a.disputedInvoices), "probability": .number(String(format: "%.4f", row.probability)),
                            "expected_loss": .money(row.expectedLoss, currency), "reason": .string(row.reason), "next_action": .string(row.nextAction),
                            "promise_due_on": a.promiseDueDay.map { .date(PostgresDate(daysSinceEpoch: $0)) } ?? .null,
                            "task_due_on": a.taskDueDay.map { .date(PostgresDate(daysSinceEpoch: $0)) } ?? .null,
                            "task_kind": .optional(a.taskKind?.rawValue), "last_contact": extra?.last ?? .null,
                        ]
                    })]
        }
    }
}
