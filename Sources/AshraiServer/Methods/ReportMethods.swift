import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `reports.*`.
enum ReportMethods {
    static let handlers: [String: MethodHandler] = ["reports.aging": aging, "reports.forecast": forecast]

    /// The collections forecast: `ForecastStore` reads the ledger as it stood on `as_of`, `Forecast`
    /// (AshraiCore) does the arithmetic, this encodes it.
    static func forecast(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let requestedAsOf = try params.optionalDate("as_of")
        let weeks = try params.optionalInt("weeks", range: 1...26) ?? 13
        let started = ContinuousClock.now
        let ((asOf, inputs), source) = try await services.report(context) { connection in
            let today = services.today()
            let asOf = min(requestedAsOf ?? today, today)
            return (asOf, try await ForecastStore.inputs(asOf: asOf, today: today, scale: services.settings.currency.minorUnits, on: connection))
        }
        let read = ContinuousClock.now
        let result = Forecast.forecast(asOfDay: asOf.daysSinceEpoch, weeks: weeks, invoices: inputs.invoices, commitments: inputs.commitments,
                                       model: inputs.model, scale: services.settings.currency.minorUnits)
        context.logger.debug("reports.forecast", metadata: ["read": "\(read - started)", "computed": "\(ContinuousClock.now - read)",
                                                             "invoices": "\(inputs.invoices.count)", "customers": "\(inputs.model.own.count)"])
        let currency = services.settings.currency
        return source.stamp([
            "as_of": .date(asOf), "currency": .string(currency.code),
            "weeks": .array(result.weeks.enumerated().map { index, week in
                ["week": .int(index + 1), "from": .date(PostgresDate(daysSinceEpoch: week.first)), "to": .date(PostgresDate(daysSinceEpoch: week.last)),
                 "expected": .money(week.expected, currency), "low": .money(week.low, currency), "high": .money(week.high, currency),
                 "committed": .money(week.committed, currency)]
            }),
            "expected_total": .money(result.weeks.reduce(0) { $0 + $1.expected }, currency),
            "not_expected": .money(result.notExpected, currency), "open": .money(result.open, currency),
            "basis": ["open_invoices": .int(inputs.invoices.count), "customers_with_history": .int(inputs.model.own.count),
                      "commitments": .int(inputs.commitments.count), "prior_weight": .int(Forecast.priorWeight),
                      "never_after_days": .int(Forecast.LagDistribution.neverAfter)],
        ])
    }

    /// Aging in one set-based statement: the open amount of every invoice as of the date,
    /// bucketed by days past due in SQL, summed per customer and bucket. For today (or later)
    /// the settled amounts kept on the invoice are used; for a past date the allocations of
    /// payments received by then (and not reversed by then) are summed instead.
    static func aging(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let requestedAsOf = try params.optionalDate("as_of")
        var bounds = AgingBuckets.standard.bounds
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
        let ((rows, asOf, cheques), source) = try await services.report(context) { connection -> (PostgresRows, PostgresDate, Decimal) in
            let today = services.today()
            let asOf = requestedAsOf ?? today
            let rows = try await connection.query(AgingStore.query(asOf: asOf, today: today, customerID: customerID,
                                                                   minOverdueDays: minOverdue, bounds: bounds, limit: limit, offset: offset))
            // Post-dated cheques in hand on that day: not money, so not in the buckets; shown beside them.
            let cheques = try await connection.query("""
                SELECT coalesce(sum(amount), 0) FROM cheques
                WHERE received_on <= \(asOf) AND status <> 'cancelled' AND currency = \(services.settings.currency.code)
                  AND (applied_on IS NULL OR applied_on > \(asOf)) AND (bounced_on IS NULL OR bounced_on > \(asOf))
                  AND (\(customerID)::bigint IS NULL OR customer_id = \(customerID))
                """).scalar(Decimal.self)
            return (rows, asOf, cheques)
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
        if case .object(var object) = totals {
            let total = Decimal(string: object["total"]?.stringValue ?? "0") ?? 0
            object["secured_by_cheques"] = .money(cheques)
            object["total_after_cheques"] = .money(max(0, total - cheques))
            totals = .object(object)
        }
        return source.stamp(["as_of": .date(asOf), "buckets": .array(labels.map(JSONValue.string)), "rows": .array(jsonRows),
                             "totals": totals, "next_offset": hasMore ? .int(offset + limit) : .null])
    }
}
