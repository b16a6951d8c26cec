import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `reports.kpis`: the period's receivables KPIs, gathered from the ledger and computed by
/// `AshraiCore.KPI` (the formulas live there and in the README).
enum KPIMethods {
    static let handlers: [String: MethodHandler] = ["reports.kpis": kpis]

    /// Total, not-yet-due and 90+ open AR as of a day — the aging statement's grand total.
    static func receivables(asOf: PostgresDate, on connection: PostgresConnection) async throws -> (total: Decimal, current: Decimal, over90: Decimal) {
        let today = try await connection.query("SELECT current_date").scalar(PostgresDate.self)
        let rows = try await connection.query(ReportMethods.agingQuery(asOf: asOf, today: today, customerID: nil, minOverdueDays: nil,
                                                                       bounds: [90], limit: 0))
        guard let total = try rows.first(where: { try $0.decode(Int64?.self, at: 0) == nil }) else { return (0, 0, 0) }
        return (try PostgresNumeric.decimal(from: total.decode(String.self, column: "total")),
                try PostgresNumeric.decimal(from: total.decode(String.self, column: "b0")),
                try PostgresNumeric.decimal(from: total.decode(String.self, column: "b2")))
    }

    static func kpis(services: Services, context: inout CallContext, params: Params) async throws -> JSONValue {
        let from = try params.date("from")
        let to = try params.date("to")
        guard from <= to else { throw RPCFailure.invalidParams("from", "from must not be after to") }
        guard to.daysSinceEpoch - from.daysSinceEpoch < 3660 else { throw RPCFailure.invalidParams("to", "a period is at most ten years") }
        let asOf = try params.optionalDate("as_of") ?? to
        guard asOf >= to else { throw RPCFailure.invalidParams("as_of", "as_of cannot be before to") }
        return try await services.read(context) { connection in
            let sales = try await connection.query("""
                SELECT coalesce(sum(amount), 0) AS sales, count(*) AS issued FROM invoices
                WHERE issue_date BETWEEN \(from) AND \(to) AND (status <> 'void' OR voided_at::date > \(asOf))
                """).one()
            let creditSales = try sales.decode(Decimal.self, column: "sales")
            let ending = try await receivables(asOf: asOf, on: connection)
            let beginning = try await receivables(asOf: PostgresDate(daysSinceEpoch: from.daysSinceEpoch - 1), on: connection)
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
}
