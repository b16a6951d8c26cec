import Foundation

/// The collections forecast (`reports.forecast`, issue 17): how much of today's open receivables is
/// expected to come in, week by week, as pure arithmetic over exact decimals.
///
/// The model, in three parts:
/// 1. **When a customer pays.** A `LagDistribution`: days from an invoice's due date to the day its money
///    came (negative: early), weighted by amount, with a "never" mass for what was left unpaid past
///    `LagDistribution.neverAfter` days or written off. A customer's own distribution is blended with its
///    grade's (and the ledger's, when the grade has none) by `blend`: the customer's weighs as many
///    invoices as it was learned from, the prior as `priorWeight` invoices.
/// 2. **Where an open invoice lands.** Given it is unpaid at `asOf`, its lag is beyond today's days past
///    due: the probability of week k is the distribution's mass in that week's lags over the mass beyond
///    today (`LagDistribution.conditional`). When the customer's blend has no mass beyond (a customer now
///    later than ever before), the ledger's distribution answers; when that has none either, the invoice
///    is not expected.
/// 3. **What was promised.** Open promises, the remaining installments of active plans, and post-dated
///    cheques in hand are expected on their dates, weighted by a rate: the customer's kept rate for
///    promises and plans, its cheque rate for cheques (`rate`). They cover the customer's open invoices
///    (those they name first, then the oldest); the part not expected from them goes through part 2 like
///    any open amount, so every agora open is either in a week or in `notExpected`.
///
/// Low and high are the expected total ∓ 1.645 standard deviations (a 90% band), each invoice and each
/// commitment an independent draw; low is never below zero.
public enum Forecast {
    /// A distribution of payment lags (days after the due date), weighted by amount.
    public struct LagDistribution: Sendable, Equatable {
        /// Unpaid this many days after the due date counts as never paid when the history is read.
        public static let neverAfter = 120

        public private(set) var mass: [Int: Decimal] = [:]
        public private(set) var never: Decimal = 0
        /// How many invoices it was learned from: its weight against a prior.
        public var invoices: Int = 0

        public init() {}

        public init(mass: [Int: Decimal], never: Decimal = 0, invoices: Int) {
            for (lag, weight) in mass where weight > 0 { self.mass[lag] = weight }
            self.never = max(0, never)
            self.invoices = invoices
        }

        /// Adds money that came `lag` days after the due date (nil: never came).
        public mutating func add(lag: Int?, weight: Decimal) {
            guard weight > 0 else { return }
            if let lag { mass[lag, default: 0] += weight } else { never += weight }
        }

        public mutating func merge(_ other: LagDistribution) {
            for (lag, weight) in other.mass { mass[lag, default: 0] += weight }
            never += other.never
            invoices += other.invoices
        }

        public var total: Decimal { mass.values.reduce(0, +) + never }
        public var isEmpty: Bool { total == 0 }

        /// The distribution scaled to total 1 (itself when empty).
        func normalized(times factor: Decimal = 1) -> LagDistribution {
            let total = total
            guard total > 0 else { return self }
            return LagDistribution(mass: mass.mapValues { $0 / total * factor }, never: never / total * factor, invoices: invoices)
        }

        /// The probability of each window of lags (inclusive ranges), given the lag is above `after`;
        /// nil when nothing is beyond `after`.
        public func conditional(after: Int, windows: [ClosedRange<Int>]) -> [Decimal]? {
            CDF(self).conditional(after: after, windows: windows)
        }
    }

    /// How many invoices a prior counts as when blended with a customer's own history.
    public static let priorWeight = 10

    /// The customer's distribution blended with a prior: each normalized, weighted n : `priorWeight`
    /// where n is the number of invoices the customer's was learned from.
    public static func blend(_ own: LagDistribution, prior: LagDistribution, priorWeight: Int = priorWeight) -> LagDistribution {
        if own.isEmpty { return prior }
        if prior.isEmpty { return own }
        let n = Decimal(max(own.invoices, 1))
        let m = Decimal(priorWeight)
        var result = own.normalized(times: n / (n + m))
        result.merge(prior.normalized(times: m / (n + m)))
        result.invoices = own.invoices
        return result
    }

    /// A rate with a prior: (kept + priorKept) / (kept + broken + priorKept + priorBroken). Promises and
    /// plans use 1 : 1 (a customer without a record keeps half); cheques 9 : 1.
    public static func rate(kept: Int, broken: Int, priorKept: Int, priorBroken: Int) -> Decimal {
        Decimal(kept + priorKept) / Decimal(kept + broken + priorKept + priorBroken)
    }

    /// What remains to come of an active plan: its installments after `asOfDay`, latest first, up to what is
    /// still owed; what is owed beyond them (installments missed) is expected the next day.
    public static func planSchedule(remaining: Decimal, installments: [(day: Int, amount: Decimal)], asOfDay: Int) -> [(day: Int, amount: Decimal)] {
        var left = remaining
        var schedule: [(day: Int, amount: Decimal)] = []
        for installment in installments.filter({ $0.day > asOfDay }).sorted(by: { $0.day > $1.day }) where left > 0 {
            let amount = min(installment.amount, left)
            schedule.append((installment.day, amount))
            left -= amount
        }
        if left > 0 { schedule.append((asOfDay + 1, left)) }
        return schedule.sorted { $0.day < $1.day }
    }

    public struct OpenInvoice: Sendable {
        public var customerID: Int64
        public var invoiceID: Int64
        public var dueDay: Int
        public var open: Decimal

        public init(customerID: Int64, invoiceID: Int64, dueDay: Int, open: Decimal) {
            self.customerID = customerID
            self.invoiceID = invoiceID
            self.dueDay = dueDay
            self.open = open
        }
    }

    public enum CommitmentKind: String, Sendable, CaseIterable {
        case promise, installment, cheque
    }

    /// Money promised for a day: an open promise, a plan installment, a post-dated cheque in hand.
    public struct Commitment: Sendable {
        public var customerID: Int64
        public var kind: CommitmentKind
        public var day: Int
        public var amount: Decimal
        /// The invoices it is for (none: the customer's oldest).
        public var invoiceIDs: [Int64]
        /// How likely it is to come (the customer's kept or cheque rate).
        public var rate: Decimal

        public init(customerID: Int64, kind: CommitmentKind, day: Int, amount: Decimal, invoiceIDs: [Int64] = [], rate: Decimal) {
            self.customerID = customerID
            self.kind = kind
            self.day = day
            self.amount = amount
            self.invoiceIDs = invoiceIDs
            self.rate = rate
        }
    }

    public struct Week: Sendable, Equatable {
        public var first: Int
        public var last: Int
        public var expected: Decimal
        public var low: Decimal
        public var high: Decimal
        /// The part of `expected` that comes from promises, installments and cheques.
        public var committed: Decimal
    }

    public struct Result: Sendable, Equatable {
        public var weeks: [Week]
        /// Open amount not expected within the horizon (later, or never).
        public var notExpected: Decimal
        /// All that is open as of the day.
        public var open: Decimal
    }

    /// The forecast as of `asOfDay` for `weeks` weeks (week k: days asOf+1+7(k-1) … asOf+7k).
    /// `distribution` gives each customer's blended distribution (`blend`), `fallback` the ledger's.
    /// Amounts are rounded half-even to `scale` decimals at the end, per week.
    public static func forecast(asOfDay: Int, weeks: Int, invoices: [OpenInvoice], commitments: [Commitment],
                                distribution: (Int64) -> LagDistribution, fallback: LagDistribution, scale: Int = 2) -> Result {
        let weekRanges = (0..<weeks).map { (asOfDay + 1 + 7 * $0)...(asOfDay + 7 * ($0 + 1)) }
        let horizon = asOfDay + 7 * weeks
        var expected = [Decimal](repeating: 0, count: weeks)
        var variance = [Decimal](repeating: 0, count: weeks)
        var committed = [Decimal](repeating: 0, count: weeks)
        var open: Decimal = 0

        // What stays for the lag distribution, per customer and due day (same day, same probabilities):
        // the amount, and the sum of the squares of its pieces (for the variance).
        struct Pool { var amount: Decimal = 0; var squares: Decimal = 0 }
        var pools: [Int64: [Int: Pool]] = [:]
        var remaining: [Int64: Decimal] = [:]
        for invoice in invoices where invoice.open > 0 {
            remaining[invoice.invoiceID] = invoice.open
            open += invoice.open
        }
        let byCustomer = Dictionary(grouping: invoices.filter { $0.open > 0 }, by: \.customerID)
        func addToPool(_ customer: Int64, dueDay: Int, _ amount: Decimal) {
            guard amount > 0 else { return }
            pools[customer, default: [:]][dueDay, default: Pool()].amount += amount
            pools[customer, default: [:]][dueDay, default: Pool()].squares += amount * amount
        }

        // Commitments cover open invoices, named ones first, then the oldest; a covered piece is expected on
        // the commitment's day × its rate, and the rest of it goes to the pool of its invoice's due day.
        for commitment in commitments.sorted(by: { ($0.day, $0.customerID) < ($1.day, $1.customerID) }) where commitment.amount > 0 {
            let candidates = (byCustomer[commitment.customerID] ?? []).sorted { lhs, rhs in
                let lhsNamed = commitment.invoiceIDs.contains(lhs.invoiceID), rhsNamed = commitment.invoiceIDs.contains(rhs.invoiceID)
                if lhsNamed != rhsNamed { return lhsNamed }
                return (lhs.dueDay, lhs.invoiceID) < (rhs.dueDay, rhs.invoiceID)
            }
            var left = commitment.amount
            let day = max(commitment.day, asOfDay + 1)
            let week = day > horizon ? nil : (day - asOfDay - 1) / 7
            for invoice in candidates where left > 0 {
                let piece = min(left, remaining[invoice.invoiceID] ?? 0)
                guard piece > 0 else { continue }
                left -= piece
                remaining[invoice.invoiceID]! -= piece
                let rate = min(max(commitment.rate, 0), 1)
                if let week {
                    expected[week] += piece * rate
                    committed[week] += piece * rate
                    variance[week] += piece * piece * rate * (1 - rate)
                    addToPool(invoice.customerID, dueDay: invoice.dueDay, piece * (1 - rate))
                } else {
                    addToPool(invoice.customerID, dueDay: invoice.dueDay, piece)   // promised beyond the horizon: as if not promised
                }
            }
        }
        for invoice in invoices {
            addToPool(invoice.customerID, dueDay: invoice.dueDay, remaining[invoice.invoiceID] ?? 0)
        }

        let fallbackCDF = CDF(fallback)
        for (customer, days) in pools {
            let cdf = CDF(distribution(customer))
            for (dueDay, pool) in days {
                let windows = weekRanges.map { ($0.lowerBound - dueDay)...($0.upperBound - dueDay) }
                let overdue = asOfDay - dueDay
                guard let probabilities = cdf.conditional(after: overdue, windows: windows)
                        ?? fallbackCDF.conditional(after: overdue, windows: windows) else { continue }
                for (week, p) in probabilities.enumerated() where p > 0 {
                    expected[week] += pool.amount * p
                    variance[week] += pool.squares * p * (1 - p)
                }
            }
        }

        var result = Result(weeks: [], notExpected: 0, open: Money.round(open, scale: scale))
        for (index, range) in weekRanges.enumerated() {
            let sigma = squareRoot(variance[index]) * Decimal(string: "1.645")!
            let value = Money.round(expected[index], scale: scale)
            result.weeks.append(Week(first: range.lowerBound, last: range.upperBound, expected: value,
                                     low: Money.round(max(0, expected[index] - sigma), scale: scale),
                                     high: Money.round(expected[index] + sigma, scale: scale),
                                     committed: Money.round(committed[index], scale: scale)))
        }
        result.notExpected = max(0, result.open - result.weeks.reduce(0) { $0 + $1.expected })
        return result
    }

    /// The square root of a non-negative decimal (Newton's method, to 1e-6 of a minor unit).
    static func squareRoot(_ value: Decimal) -> Decimal {
        guard value > 0 else { return 0 }
        var x = Decimal(sign: .plus, exponent: value.exponent / 2, significand: 1)
        if x == 0 { x = 1 }
        for _ in 0..<60 {
            let next = (x + value / x) / 2
            if abs(next - x) < Decimal(string: "0.000001")! { return next }
            x = next
        }
        return x
    }

    /// A distribution as sorted lags with cumulative weights, for window sums by binary search.
    struct CDF {
        var lags: [Int] = []
        var cumulative: [Decimal] = []
        var total: Decimal = 0

        init(_ distribution: LagDistribution) {
            var running: Decimal = 0
            for lag in distribution.mass.keys.sorted() {
                running += distribution.mass[lag]!
                lags.append(lag)
                cumulative.append(running)
            }
            total = running + distribution.never
        }

        /// The weight of lags ≤ `lag`.
        func upTo(_ lag: Int) -> Decimal {
            var low = 0, high = lags.count
            while low < high {
                let mid = (low + high) / 2
                if lags[mid] <= lag { low = mid + 1 } else { high = mid }
            }
            return low == 0 ? 0 : cumulative[low - 1]
        }

        func conditional(after: Int, windows: [ClosedRange<Int>]) -> [Decimal]? {
            let floor = upTo(after)
            let beyond = total - floor
            guard beyond > 0 else { return nil }
            return windows.map { window in
                let low = max(window.lowerBound - 1, after)
                guard window.upperBound > low else { return 0 }
                return (upTo(window.upperBound) - upTo(low)) / beyond
            }
        }
    }
}
