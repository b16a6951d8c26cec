import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `reports.kpis`: the period's receivables KPIs, gathered from the ledger and computed by
/// `AshraiCore.KPI` (the formulas live there and in the README).
enum KPIMethods {
    static let handlers: [String: MethodHandler] = [
        "reports.kpis": kpis, "reports.kpis_trend": trend, "reports.collectors": collectors, "reports.review": review,
    ]

    /// Total, not-yet-due and 90+ open AR as of a day — the aging statement's grand total.
    static func receivables(asOf: PostgresDate, today: PostgresDate, on connection: PostgresConnection) async throws -> (total: Decimal, current: Decimal, over90: Decimal) {
        let rows = try await connection.query(AgingStore.query(asOf: asOf, today: today, customerID: nil, minOverdueDays: nil,
                                                                       bounds: [90], limit: 0))
        guard let total = try rows.first(where: { try $0.decode(Int64?.self, at: 0) == nil }) else { return (0, 0, 0) }
        return (try PostgresNumeric.decimal(from: total.decode(String.self, column: "total")),
                try PostgresNumeric.decimal(from: total.decode(String.self, column: "b0")),
                try PostgresNumeric.decimal(from: total.decode(String.self, column: "b2")))
    }

    static func kpis(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let from = try params.date("from")
        let to = try params.date("to")
        guard from <= to else { throw RPCFailure.invalidParams("from", "from must not be after to") }
        guard to.daysSinceEpoch - from.daysSinceEpoch < 3660 else { throw RPCFailure.invalidParams("to", "a period is at most ten years") }
        let asOf = try params.optionalDate("as_of") ?? to
        guard asOf >= to else { throw RPCFailure.invalidParams("as_of", "as_of cannot be before to") }
        return try await services.reportReply(context) { connection in
            try await report(from: from, to: to, asOf: asOf, today: services.today(), on: connection)
        }
    }

    /// The KPIs of one period.
    static func report(from: PostgresDate, to: PostgresDate, asOf: PostgresDate, today: PostgresDate, on connection: PostgresConnection) async throws -> JSONValue {
        do {
            let sales = try await connection.query("""
                SELECT coalesce(sum(amount), 0) AS sales, count(*) AS issued FROM invoices
                WHERE issue_date BETWEEN \(from) AND \(to) AND (status <> 'void' OR voided_at::date > \(asOf))
                """).one()
            let creditSales = try sales.decode(Decimal.self, column: "sales")
            let ending = try await receivables(asOf: asOf, today: today, on: connection)
            let beginning = try await receivables(asOf: PostgresDate(daysSinceEpoch: from.daysSinceEpoch - 1), today: today, on: connection)
            // Monthly credit sales for the countback, 24 months back from the period's end.
            var byMonth: [String: Decimal] = [:]
            for row in try await connection.query("""
                SELECT to_char(issue_date, 'YYYY-MM') AS month, sum(amount) AS sales FROM invoices
                WHERE issue_date <= \(to) AND issue_date >= (date_trunc('month', \(to)::date) - interval '23 months')::date
                  AND (status <> 'void' OR voided_at::date > \(asOf))
                GROUP BY 1
                """) { byMonth[try row.decode(String.self, column: "month")] = try row.decode(Decimal.self, column: "sales") }
            var months: [(sales: Decimal, days: Int)] = []
            var year = to.year, month = to.month
            for index in 0..<24 {
                let key = "\(year)-\(month < 10 ? "0" : "")\(month)"
                let length = index == 0 ? to.day : PostgresDate.daysIn(month: month, year: year)
                months.append((byMonth[key] ?? 0, length))
                month -= 1
                if month == 0 { month = 12; year -= 1 }
            }
            let writeOffs = try await connection.query("""
                SELECT coalesce(sum(amount), 0) FROM writeoffs WHERE written_off_on BETWEEN \(from) AND \(to)
                """).scalar(Decimal.self)
            let promises = try await InteractionMethods.promises(asOf: asOf, on: connection)
                .filter { $0.dueOn >= from && $0.dueOn <= to }
            let disputes = try await connection.query("""
                SELECT count(*) FROM disputes WHERE opened_on BETWEEN \(from) AND \(to)
                """).scalar(Int.self)
            let paid = try await connection.query("""
                SELECT coalesce(sum(a.amount * (p.received_on - i.issue_date)), 0) AS amount_days, coalesce(sum(a.amount), 0) AS amount
                FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
                WHERE p.received_on BETWEEN \(from) AND \(to) AND a.amount > 0
                  AND (a.reversed_at IS NULL OR a.reversed_at::date > \(asOf))
                """).one()
            var agencyCollected: Decimal = 0, agencyCommission: Decimal = 0
            for row in try await connection.query("""
                SELECT s.commission_rate, sum(p.amount) AS collected FROM payments p JOIN assignments s ON s.id = p.via_assignment_id
                WHERE p.received_on BETWEEN \(from) AND \(to) AND (p.status = 'recorded' OR p.reversed_at::date > \(asOf))
                GROUP BY s.id, s.commission_rate
                """) {
                let collected = try row.decode(Decimal.self, column: "collected")
                agencyCollected += collected
                agencyCommission += Commission.due(collected: collected, ratePercent: try row.decode(Decimal.self, column: "commission_rate"))
            }
            let inputs = KPI.Inputs(
                days: to.daysSinceEpoch - from.daysSinceEpoch + 1, creditSales: creditSales, beginningAR: beginning.total,
                endingAR: ending.total, endingCurrentAR: ending.current, endingAR90Plus: ending.over90, monthlySales: months,
                writeOffs: writeOffs, promisesKept: promises.filter { $0.status == .kept }.count,
                promisesBroken: promises.filter { $0.status == .broken }.count, disputesOpened: disputes,
                invoicesIssued: try sales.decode(Int.self, column: "issued"),
                paidAmountDays: try paid.decode(Decimal.self, column: "amount_days"), paidAmount: try paid.decode(Decimal.self, column: "amount"))
            let result = KPI.compute(inputs)
            func number(_ value: Decimal?) -> JSONValue { value.map { .decimal($0) } ?? .null }
            return [
                "from": .date(from), "to": .date(to), "as_of": .date(asOf), "days": .int(inputs.days),
                "figures": [
                    "credit_sales": .money(creditSales), "invoices_issued": .int(inputs.invoicesIssued),
                    "beginning_ar": .money(beginning.total), "ending_ar": .money(ending.total), "ending_current_ar": .money(ending.current),
                    "ending_ar_90_plus": .money(ending.over90), "write_offs": .money(writeOffs),
                    "promises_kept": .int(inputs.promisesKept), "promises_broken": .int(inputs.promisesBroken),
                    "disputes_opened": .int(disputes), "collected_by_agencies": .money(agencyCollected),
                    "agency_commission": .money(agencyCommission),
                ],
                "kpis": [
                    "dso_simple": number(result.dsoSimple), "dso_countback": number(result.dsoCountback),
                    "best_possible_dso": number(result.bestPossibleDSO), "average_days_delinquent": number(result.averageDaysDelinquent),
                    "cei": number(result.cei), "bad_debt_ratio": number(result.badDebtRatio), "at_risk_rate": number(result.atRiskRate),
                    "promises_kept_rate": number(result.promisesKeptRate), "dispute_rate": number(result.disputeRate),
                    "average_days_to_pay": number(result.averageDaysToPay),
                ],
            ]
        }
    }

    /// The same KPIs per calendar month, the last `months` months (the current one up to today).
    static func trend(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let months = try params.optionalInt("months", range: 1...36) ?? 12
        return try await services.reportReply(context) { connection in
            let today = services.today()
            var rows: [JSONValue] = []
            var year = today.year, month = today.month
            for index in 0..<months {
                let first = PostgresDate(year: year, month: month, day: 1)!
                let last = index == 0 ? today : PostgresDate(year: year, month: month, day: PostgresDate.daysIn(month: month, year: year))!
                var row = try await report(from: first, to: last, asOf: last, today: services.today(), on: connection)
                if case .object(var object) = row {
                    object["month"] = .string(String(first.description.prefix(7)))
                    row = .object(object)
                }
                rows.append(row)
                month -= 1
                if month == 0 { month = 12; year -= 1 }
            }
            return ["months": .array(rows.reversed())]
        }
    }

    /// Per staff member in a period: interactions logged, promises obtained and kept (as of the
    /// period's end), and money collected after their contact — each payment received in the
    /// period is credited to whoever last logged a contact with that customer in the 30 days before it.
    static func collectors(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let from = try params.date("from")
        let to = try params.date("to")
        guard from <= to else { throw RPCFailure.invalidParams("from", "from must not be after to") }
        return try await services.reportReply(context) { connection in
            var staff: [Int64: (username: String, interactions: Int, promises: Int, promised: Decimal, kept: Int, collected: Decimal)] = [:]
            for row in try await connection.query("""
                SELECT u.id, u.username, count(x.id) AS interactions FROM users u
                JOIN interactions x ON x.created_by = u.id AND x.kind <> 'letter'
                WHERE x.occurred_at::date BETWEEN \(from) AND \(to) GROUP BY u.id, u.username
                """) {
                staff[try row.decode(Int64.self, column: "id")] = (try row.decode(String.self, column: "username"),
                                                                  try row.decode(Int.self, column: "interactions"), 0, 0, 0, 0)
            }
            let usernames = Dictionary(uniqueKeysWithValues: try await connection.query("SELECT id, username FROM users").map {
                (try $0.decode(Int64.self, at: 0), try $0.decode(String.self, at: 1)) })
            let promiseOwners = Dictionary(uniqueKeysWithValues: try await connection.query("""
                SELECT id, created_by FROM promises WHERE promised_on BETWEEN \(from) AND \(to) AND created_by IS NOT NULL
                """).map { (try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)) })
            for promise in try await InteractionMethods.promises(asOf: to, on: connection) {
                guard let owner = promiseOwners[promise.id] else { continue }
                var entry = staff[owner] ?? (usernames[owner] ?? "?", 0, 0, 0, 0, 0)
                entry.promises += 1
                entry.promised += promise.amount
                if promise.status == .kept { entry.kept += 1 }
                staff[owner] = entry
            }
            for row in try await connection.query("""
                SELECT contact.created_by, sum(p.amount) AS collected
                FROM payments p
                CROSS JOIN LATERAL (SELECT x.created_by FROM interactions x
                                    WHERE x.customer_id = p.customer_id AND x.created_by IS NOT NULL AND x.kind <> 'letter'
                                      AND x.occurred_at::date BETWEEN p.received_on - 30 AND p.received_on
                                    ORDER BY x.occurred_at DESC LIMIT 1) contact
                WHERE p.received_on BETWEEN \(from) AND \(to) AND p.status = 'recorded'
                GROUP BY contact.created_by
                """) {
                let owner = try row.decode(Int64.self, column: "created_by")
                var entry = staff[owner] ?? (usernames[owner] ?? "?", 0, 0, 0, 0, 0)
                entry.collected += try row.decode(Decimal.self, column: "collected")
                staff[owner] = entry
            }
            // Tasks each closed as done in the period, and how soon the customer paid after (its first payment within 60 days).
            var tasks: [Int64: (done: Int, paid: Int, averageDays: Decimal?)] = [:]
            for row in try await connection.query("""
                SELECT t.closed_by, count(*) AS done, count(fp.received_on) AS paid,
                       round(avg(fp.received_on - t.closed_at::date), 1) AS average_days
                FROM tasks t
                LEFT JOIN LATERAL (SELECT min(p.received_on) AS received_on FROM payments p
                                   WHERE p.customer_id = t.customer_id AND p.status = 'recorded'
                                     AND p.received_on BETWEEN t.closed_at::date AND t.closed_at::date + 60) fp ON true
                WHERE t.state = 'done' AND t.closed_by IS NOT NULL AND t.closed_at::date BETWEEN \(from) AND \(to)
                GROUP BY t.closed_by
                """) {
                let owner = try row.decode(Int64.self, column: "closed_by")
                if staff[owner] == nil { staff[owner] = (usernames[owner] ?? "?", 0, 0, 0, 0, 0) }
                tasks[owner] = (try row.decode(Int.self, column: "done"), try row.decode(Int.self, column: "paid"),
                                try row.decode(Decimal?.self, column: "average_days"))
            }
            let rows: [JSONValue] = staff.sorted { $0.value.username < $1.value.username }.map { id, e in
                let t = tasks[id]
                return ["user_id": .id(id), "username": .string(e.username), "interactions": .int(e.interactions), "promises": .int(e.promises),
                        "promised_amount": .money(e.promised), "promises_kept": .int(e.kept), "collected_after_contact": .money(e.collected),
                        "tasks_done": .int(t?.done ?? 0), "tasks_followed_by_payment": .int(t?.paid ?? 0),
                        "average_days_task_to_payment": t?.averageDays.map { .number(PostgresNumeric.text(of: $0)) } ?? .null]
            }
            return ["from": .date(from), "to": .date(to), "collectors": .array(rows)]
        }
    }

    /// The periodic audit of the credit process: what needs a person's attention as of a day.
    static func review(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let asOfParam = try params.optionalDate("as_of")
        let holdDays = try params.optionalInt("hold_days", range: 1...3650) ?? 30
        return try await services.reportReply(context) { connection in
            let asOf = services.day(asOfParam)
            func customers(_ rows: PostgresRows, extra: (PostgresRow) throws -> JSONObject = { _ in [:] }) throws -> JSONValue {
                .array(try rows.map { row in
                    var object: JSONObject = ["customer_id": .id(try row.decode(Int64.self, column: "id")), "name": .string(try row.decode(String.self, column: "name"))]
                    for (key, value) in try extra(row) { object[key] = value }
                    return .object(object)
                })
            }
            let overdueReviews = try customers(try await connection.query("""
                SELECT id, name, next_review_on FROM customers WHERE status <> 'closed' AND next_review_on < \(asOf) ORDER BY next_review_on, id LIMIT 500
                """)) { ["next_review_on": .date(try $0.decode(PostgresDate.self, column: "next_review_on"))] }
            let overLimit = try customers(try await connection.query("""
                SELECT c.id, c.name, sum(invoice_open_amount(i)) AS exposure, max(i.credit_limit) AS credit_limit
                FROM customers c JOIN invoices i ON i.customer_id = c.id
                WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.override_reason IS NOT NULL
                GROUP BY c.id, c.name ORDER BY c.id LIMIT 500
                """)) { ["exposure": .money(try $0.decode(Decimal.self, column: "exposure")), "credit_limit": .money(try $0.decode(Decimal.self, column: "credit_limit"))] }
            let oldHolds = try customers(try await connection.query("""
                SELECT c.id, c.name, h.placed_at::date AS since FROM holds h JOIN customers c ON c.id = h.customer_id
                WHERE h.released_at IS NULL AND h.placed_at::date <= \(asOf)::date - \(holdDays)::int ORDER BY h.placed_at LIMIT 500
                """)) { ["on_hold_since": .date(try $0.decode(PostgresDate.self, column: "since"))] }
            var brokenWithoutFollowUp: [JSONValue] = []
            for promise in try await InteractionMethods.promises(asOf: asOf, on: connection) where promise.status == .broken {
                let followed = try await connection.query("""
                    SELECT EXISTS (SELECT 1 FROM interactions WHERE customer_id = \(promise.customerID)
                                   AND occurred_at::date > \(promise.dueOn) AND occurred_at::date <= \(asOf))
                    """).scalar(Bool.self)
                if !followed { brokenWithoutFollowUp.append(promise.json) }
            }
            let silent = try await connection.query("""
                SELECT i.id, i.number, i.customer_id, c.name, \(asOf)::date - i.due_date AS days_overdue, invoice_open_amount(i) AS open
                FROM invoices i JOIN customers c ON c.id = i.customer_id
                WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND \(asOf)::date - i.due_date > 90
                  AND NOT EXISTS (SELECT 1 FROM interactions x WHERE x.customer_id = i.customer_id
                                  AND x.occurred_at::date BETWEEN \(asOf)::date - 14 AND \(asOf))
                ORDER BY i.due_date, i.id LIMIT 500
                """).map { row -> JSONValue in
                ["invoice_id": .id(try row.decode(Int64.self, column: "id")), "number": .string(try row.decode(String.self, column: "number")),
                 "customer_id": .id(try row.decode(Int64.self, column: "customer_id")), "name": .string(try row.decode(String.self, column: "name")),
                 "days_overdue": .int(try row.decode(Int.self, column: "days_overdue")), "open_amount": .money(try row.decode(Decimal.self, column: "open"))]
            }
            let agencies = try await connection.query("""
                SELECT g.id, g.name, coalesce(sum(s.assigned_amount), 0) AS assigned,
                       coalesce((SELECT sum(p.amount) FROM payments p JOIN assignments t ON t.id = p.via_assignment_id
                                 WHERE t.agency_id = g.id AND p.status = 'recorded'), 0) AS collected
                FROM agencies g LEFT JOIN assignments s ON s.agency_id = g.id AND s.status <> 'pending'
                WHERE g.active GROUP BY g.id, g.name ORDER BY g.name
                """).map { row -> JSONValue in
                let assigned = try row.decode(Decimal.self, column: "assigned"), collected = try row.decode(Decimal.self, column: "collected")
                return ["agency_id": .id(try row.decode(Int64.self, column: "id")), "name": .string(try row.decode(String.self, column: "name")),
                        "assigned": .money(assigned), "collected": .money(collected),
                        "recovery_rate": Commission.recoveryRate(collected: collected, assigned: assigned).map { .decimal($0) } ?? .null]
            }
            // The outbox: what did not reach customers, and addresses the mail server refused.
            let outbox = try await connection.query("""
                SELECT (SELECT count(*) FROM messages WHERE state = 'failed') AS failed,
                       (SELECT count(*) FROM messages WHERE state = 'unknown') AS unknown,
                       (SELECT count(*) FROM messages WHERE state = 'retrying') AS retrying,
                       (SELECT count(*) FROM customers WHERE email_refused_at IS NOT NULL AND status <> 'closed') AS refused_addresses
                """).one()
            let messages: JSONValue = [
                "failed": .int(try outbox.decode(Int.self, column: "failed")), "unknown": .int(try outbox.decode(Int.self, column: "unknown")),
                "retrying": .int(try outbox.decode(Int.self, column: "retrying")),
                "refused_addresses": .int(try outbox.decode(Int.self, column: "refused_addresses")),
            ]
            let untrained: [JSONValue] = try await TrainingMethods.requirements(asOf: asOf, on: connection)
                .filter { $0.status == .expired || $0.status == .missing }
                .map { ["user_id": .id($0.userID), "username": .string($0.username), "course": .string($0.code), "status": .string($0.status.rawValue)] }
            return [
                "as_of": .date(asOf), "reviews_overdue": overdueReviews, "over_limit_by_override": overLimit, "holds_older_than_days": .int(holdDays),
                "old_holds": oldHolds, "broken_promises_without_follow_up": .array(brokenWithoutFollowUp),
                "invoices_90_plus_without_contact_in_14_days": .array(silent), "agencies": .array(agencies), "staff_missing_training": .array(untrained),
                "messages": messages,
            ]
        }
    }
}
