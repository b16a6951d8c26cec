import AshraiCore
import Foundation
import Postgres

/// The inputs of `Forecast.forecast` (AshraiCore) read from the ledger as it stood on a day, so a
/// forecast made for a past day sees only what was known then (the backtest in `make bench` depends on
/// it): the invoices open that day (`AgingStore.openInvoicesSQL`, the aging's own rule), each customer's
/// payment lags from the two years before, the promises, plan installments and post-dated cheques then
/// outstanding, and the rates at which the customer had kept such commitments by then. The grade is the
/// customer's current one (grades are not kept by date).
enum ForecastStore {
    /// How far back a customer's payments teach the forecast.
    static let historyDays = 730

    struct Inputs: Sendable {
        var invoices: [Forecast.OpenInvoice] = []
        var commitments: [Forecast.Commitment] = []
        var model = Forecast.Model(own: [:], ledger: Forecast.LagDistribution())
    }

    /// Reads the inputs; amounts come as minor units (`scale` decimals), computed exactly in SQL.
    static func inputs(asOf: PostgresDate, today: PostgresDate, scale: Int, on connection: PostgresConnection) async throws -> Inputs {
        let asOfDay = asOf.daysSinceEpoch
        let binds: [PostgresBindValue] = [try asOf.postgresBind(), try (asOf < today).postgresBind(), .null(.unspecified),
                                          try historyDays.postgresBind(), try Forecast.LagDistribution.neverAfter.postgresBind(),
                                          try scale.postgresBind()]
        func minor(_ amount: Decimal) -> Int64 { Forecast.minorUnits(amount, scale: scale) }
        let openCTE = AgingStore.openInvoicesSQL(asOf: "$1", past: "$2", customer: "$3")
        var inputs = Inputs()

        let open = try await connection.query(PostgresQuery(unsafeSQL: """
            WITH \(openCTE)
            SELECT invoice_id, customer_id, due_date - $1::date AS due, (open_amount * power(10::numeric, $6::int))::bigint AS open
            FROM open WHERE open_amount > 0 ORDER BY invoice_id
            """, binds: binds))
        inputs.invoices.reserveCapacity(open.count)
        for row in open {
            inputs.invoices.append(Forecast.OpenInvoice(
                customerID: try row.decode(Int64.self, at: 1), invoiceID: try row.decode(Int64.self, at: 0),
                dueDay: asOfDay + (try row.decode(Int.self, at: 2)), open: try row.decode(Int64.self, at: 3)))
        }

        // Lags: money received by the day (and not reversed by then), in the two years before it; unpaid more
        // than neverAfter days past due, or written off, is money that never came.
        let history = try await connection.query(PostgresQuery(unsafeSQL: """
            WITH \(openCTE), samples AS (
                SELECT i.customer_id, i.id AS invoice_id, p.received_on - i.due_date AS lag, a.amount + a.discount AS weight
                FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
                WHERE p.received_on <= $1::date AND p.received_on > $1::date - $4::int
                  AND (a.reversed_at IS NULL OR a.reversed_at::date > $1::date)
                UNION ALL
                SELECT o.customer_id, o.invoice_id, NULL, o.open_amount FROM open o
                WHERE o.open_amount > 0 AND o.due_date < $1::date - $5::int AND o.due_date > $1::date - $4::int
                UNION ALL
                SELECT i.customer_id, i.id, NULL, w.amount FROM writeoffs w JOIN invoices i ON i.id = w.invoice_id
                WHERE w.written_off_on <= $1::date AND w.written_off_on > $1::date - $4::int
            )
            SELECT customer_id, lag, (sum(weight) * power(10::numeric, $6::int))::bigint AS weight, count(*) AS invoices
            FROM samples GROUP BY customer_id, lag
            """, binds: binds))
        var own: [Int64: Forecast.LagDistribution] = [:]
        for row in history {
            let customer = try row.decode(Int64.self, at: 0)
            own[customer, default: Forecast.LagDistribution()].add(lag: try row.decode(Int?.self, at: 1), weight: try row.decode(Int64.self, at: 2))
            own[customer, default: Forecast.LagDistribution()].invoices += try row.decode(Int.self, at: 3)
        }
        // The grades' priors pool their customers' histories; the ledger's pools everyone's.
        var grades: [Int64: Grade] = [:]
        for row in try await connection.query("SELECT id, grade FROM customers WHERE grade IS NOT NULL") {
            if let grade = Grade(rawValue: try row.decode(String.self, at: 1)) { grades[try row.decode(Int64.self, at: 0)] = grade }
        }
        var gradePriors: [Grade: Forecast.LagDistribution] = [:]
        var ledger = Forecast.LagDistribution()
        for (customer, distribution) in own {
            ledger.merge(distribution)
            if let grade = grades[customer] { gradePriors[grade, default: Forecast.LagDistribution()].merge(distribution) }
        }
        inputs.model = Forecast.Model(own: own, grades: grades, gradePriors: gradePriors, ledger: ledger)

        // Promises: open ones are expected on their due date (what is left of them); kept and broken ones in the
        // year before give the kept rate, together with plans completed and defaulted by then.
        var kept: [Int64: (kept: Int, broken: Int)] = [:]
        let promises = try await InteractionMethods.promises(asOf: asOf, dueFrom: PostgresDate(daysSinceEpoch: asOfDay - 365), limit: 200_000,
                                                             on: connection)
        for promise in promises {
            switch promise.status {
            case .kept: kept[promise.customerID, default: (0, 0)].kept += 1
            case .broken: kept[promise.customerID, default: (0, 0)].broken += 1
            case .open: break
            }
        }
        let plans = try await connection.query("""
            SELECT p.id, p.customer_id, (p.status = 'active' AND p.ended_on IS NULL) OR p.ended_on > \(asOf)::date AS running,
                   p.status, p.ended_on <= \(asOf)::date AS ended,
                   (SELECT string_agg(pi.invoice_id::text, ',') FROM plan_invoices pi WHERE pi.plan_id = p.id) AS invoice_ids
            FROM plans p
            WHERE p.agreed_on <= \(asOf)::date AND p.agreed_on > \(asOf)::date - \(historyDays)::int
              AND p.status IN ('active', 'completed', 'defaulted')
            """)
        var running: [(id: Int64, customer: Int64, invoices: [Int64])] = []
        for row in plans {
            let customer = try row.decode(Int64.self, at: 1)
            if try row.decode(Bool.self, at: 2) {
                running.append((try row.decode(Int64.self, at: 0), customer,
                                (try row.decode(String?.self, at: 5) ?? "").split(separator: ",").compactMap { Int64($0) }))
            } else if try row.decode(Bool?.self, at: 4) == true {
                let status = try row.decode(String.self, at: 3)
                if status == "completed" { kept[customer, default: (0, 0)].kept += 1 }
                if status == "defaulted" { kept[customer, default: (0, 0)].broken += 1 }
            }
        }
        func keptRate(_ customer: Int64) -> Decimal {
            let record = kept[customer] ?? (0, 0)
            return Forecast.rate(kept: record.kept, broken: record.broken, priorKept: 1, priorBroken: 1)
        }
        for promise in promises where promise.status == .open {
            inputs.commitments.append(Forecast.Commitment(customerID: promise.customerID, kind: .promise, day: promise.dueOn.daysSinceEpoch,
                                                          amount: minor(promise.amount - promise.paid), invoiceIDs: promise.invoiceIDs,
                                                          rate: keptRate(promise.customerID)))
        }
        if !running.isEmpty {
            let openByInvoice = Dictionary(inputs.invoices.map { ($0.invoiceID, $0.open) }, uniquingKeysWith: +)
            let installments = try await connection.query("""
                SELECT plan_id, due_on, amount FROM plan_installments
                WHERE plan_id = ANY (\(PostgresArray(running.map { String($0.id) }))::bigint[]) ORDER BY plan_id, seq
                """)
            var schedule: [Int64: [(day: Int, amount: Int64)]] = [:]
            for row in installments {
                schedule[try row.decode(Int64.self, at: 0), default: []].append(
                    (try row.decode(PostgresDate.self, at: 1).daysSinceEpoch, minor(try row.decode(Decimal.self, at: 2))))
            }
            for plan in running {
                let remaining = plan.invoices.reduce(Int64(0)) { $0 + (openByInvoice[$1] ?? 0) }
                for installment in Forecast.planSchedule(remaining: remaining, installments: schedule[plan.id] ?? [], asOfDay: asOfDay) {
                    inputs.commitments.append(Forecast.Commitment(customerID: plan.customer, kind: .installment, day: installment.day,
                                                                  amount: installment.amount, invoiceIDs: plan.invoices, rate: keptRate(plan.customer)))
                }
            }
        }

        // Post-dated cheques in hand that day, at their value dates, weighted by the customer's cheques honoured.
        let cheques = try await connection.query("""
            WITH record AS (
                SELECT customer_id, count(*) FILTER (WHERE applied_on <= \(asOf)::date) AS honoured,
                       count(*) FILTER (WHERE bounced_on <= \(asOf)::date) AS bounced
                FROM cheques WHERE received_on > \(asOf)::date - \(historyDays)::int GROUP BY customer_id
            )
            SELECT q.customer_id, q.value_date, q.amount,
                   (SELECT string_agg(ci.invoice_id::text, ',') FROM cheque_invoices ci WHERE ci.cheque_id = q.id) AS invoice_ids,
                   coalesce(r.honoured, 0) AS honoured, coalesce(r.bounced, 0) AS bounced
            FROM cheques q LEFT JOIN record r ON r.customer_id = q.customer_id
            WHERE q.received_on <= \(asOf)::date AND q.status <> 'cancelled'
              AND (q.applied_on IS NULL OR q.applied_on > \(asOf)::date) AND (q.bounced_on IS NULL OR q.bounced_on > \(asOf)::date)
            ORDER BY q.value_date, q.id
            """)
        for row in cheques {
            inputs.commitments.append(Forecast.Commitment(
                customerID: try row.decode(Int64.self, at: 0), kind: .cheque, day: try row.decode(PostgresDate.self, at: 1).daysSinceEpoch,
                amount: minor(try row.decode(Decimal.self, at: 2)),
                invoiceIDs: (try row.decode(String?.self, at: 3) ?? "").split(separator: ",").compactMap { Int64($0) },
                rate: Forecast.rate(kept: try row.decode(Int.self, at: 4), broken: try row.decode(Int.self, at: 5), priorKept: 9, priorBroken: 1)))
        }
        return inputs
    }
}
