import Foundation

/// The collections forecast (`reports.forecast`, issue 17): how much of today's open receivables is
/// expected to come in, week by week.
///
/// The model, in three parts:
/// 1. **When a customer pays.** A `LagDistribution`: days from an invoice's due date to the day its money
///    came (negative: early), weighted by amount, with a "never" weight for what was left unpaid past
///    `LagDistribution.neverAfter` days or written off. A customer's own distribution is blended with its
///    grade's (the ledger's when the grade has none): each normalized, the customer's weighing as many
///    invoices as it was learned from, the prior as `priorWeight` invoices (`Blend`).
/// 2. **Where an open invoice lands.** Given it is unpaid at `asOf`, its lag is beyond today's days past
///    due: the probability of week k is the blend's weight in that week's lags over its weight beyond
///    today. When the blend has no weight beyond (a customer now later than ever before), the ledger's
///    distribution answers; when that has none either, the invoice is not expected.
/// 3. **What was promised.** Open promises, the remaining installments of active plans, and post-dated
///    cheques in hand are expected on their dates, weighted by a rate: the customer's kept rate for
///    promises and plans, its cheque rate for cheques (`rate`). They cover the customer's open invoices
///    (those they name first, then the oldest); the part not expected from them goes through part 2 like
///    any open amount, so every minor unit open is either in a week or in `notExpected`.
///
/// Low and high are the expected total ∓ 1.645 standard deviations (a 90% band), each invoice and each
/// commitment an independent draw; low is never below zero.
///
/// Arithmetic: amounts are integer minor units (agorot) throughout; probabilities are exact ratios of
/// integer weights, taken to 62 binary places (an error below 10⁻¹⁸ each); sums are kept in `Int128` at that
/// precision and rounded half-even to the minor unit once, per week. No floating point.
public enum Forecast {
    /// A distribution of payment lags (days after the due date), weighted by amount in minor units.
    public struct LagDistribution: Sendable, Equatable {
        /// Unpaid this many days after the due date counts as never paid when the history is read.
        public static let neverAfter = 120

        public private(set) var mass: [Int: Int64] = [:]
        public private(set) var never: Int64 = 0
        /// How many invoices it was learned from: its weight against a prior.
        public var invoices: Int = 0

        public init() {}

        public init(mass: [Int: Int64], never: Int64 = 0, invoices: Int) {
            for (lag, weight) in mass where weight > 0 { self.mass[lag] = weight }
            self.never = max(0, never)
            self.invoices = invoices
        }

        /// Adds money that came `lag` days after the due date (nil: never came).
        public mutating func add(lag: Int?, weight: Int64) {
            guard weight > 0 else { return }
            if let lag { mass[lag, default: 0] += weight } else { never += weight }
        }

        public mutating func merge(_ other: LagDistribution) {
            for (lag, weight) in other.mass { mass[lag, default: 0] += weight }
            never += other.never
            invoices += other.invoices
        }

        public var total: Int64 { mass.values.reduce(0, +) + never }
        public var isEmpty: Bool { total == 0 }
    }

    /// How many invoices a prior counts as when blended with a customer's own history.
    public static let priorWeight = 3

    /// A rate with a prior: (kept + priorKept) / (kept + broken + priorKept + priorBroken). Promises and
    /// plans use 1 : 1 (a customer without a record keeps half); cheques 9 : 1.
    public static func rate(kept: Int, broken: Int, priorKept: Int, priorBroken: Int) -> Decimal {
        Decimal(kept + priorKept) / Decimal(kept + broken + priorKept + priorBroken)
    }

    /// What remains to come of an active plan: its installments after `asOfDay`, latest first, up to what is
    /// still owed; what is owed beyond them (installments missed) is expected the next day.
    public static func planSchedule(remaining: Int64, installments: [(day: Int, amount: Int64)], asOfDay: Int) -> [(day: Int, amount: Int64)] {
        var left = remaining
        var schedule: [(day: Int, amount: Int64)] = []
        for installment in installments.filter({ $0.day > asOfDay }).sorted(by: { $0.day > $1.day }) where left > 0 {
            let amount = min(installment.amount, left)
            schedule.append((installment.day, amount))
            left -= amount
        }
        if left > 0 { schedule.append((asOfDay + 1, left)) }
        return schedule.sorted { $0.day < $1.day }
    }

    /// An amount in minor units (exact for what the ledger stores; rounded half-even beyond `scale` decimals).
    public static func minorUnits(_ amount: Decimal, scale: Int) -> Int64 {
        var value = Money.round(amount, scale: scale)
        var scaled = Decimal()
        NSDecimalMultiplyByPowerOf10(&scaled, &value, Int16(scale), .bankers)
        return NSDecimalNumber(decimal: scaled).int64Value
    }

    /// Minor units back to an amount.
    public static func amount(_ minorUnits: Int128, scale: Int) -> Decimal {
        var value = Decimal(string: String(minorUnits))!
        var result = Decimal()
        NSDecimalMultiplyByPowerOf10(&result, &value, Int16(-scale), .bankers)
        return result
    }

    public struct OpenInvoice: Sendable {
        public var customerID: Int64
        public var invoiceID: Int64
        public var dueDay: Int
        /// Minor units.
        public var open: Int64

        public init(customerID: Int64, invoiceID: Int64, dueDay: Int, open: Int64) {
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
        /// Minor units.
        public var amount: Int64
        /// The invoices it is for (none: the customer's oldest).
        public var invoiceIDs: [Int64]
        /// How likely it is to come (the customer's kept or cheque rate), 0…1.
        public var rate: Decimal

        public init(customerID: Int64, kind: CommitmentKind, day: Int, amount: Int64, invoiceIDs: [Int64] = [], rate: Decimal) {
            self.customerID = customerID
            self.kind = kind
            self.day = day
            self.amount = amount
            self.invoiceIDs = invoiceIDs
            self.rate = rate
        }
    }

    /// What the lags are learned from: each customer's own distribution, its grade, the grades' pooled
    /// distributions and the ledger's.
    public struct Model: Sendable {
        public var own: [Int64: LagDistribution]
        public var grades: [Int64: Grade]
        public var gradePriors: [Grade: LagDistribution]
        public var ledger: LagDistribution
        public var priorWeight: Int

        public init(own: [Int64: LagDistribution], grades: [Int64: Grade] = [:], gradePriors: [Grade: LagDistribution] = [:],
                    ledger: LagDistribution, priorWeight: Int = Forecast.priorWeight) {
            self.own = own
            self.grades = grades
            self.gradePriors = gradePriors
            self.ledger = ledger
            self.priorWeight = priorWeight
        }

        /// The customer's blend, and the ledger's for when it has nothing beyond.
        func blends() -> (customer: (Int64) -> Blend, ledger: Blend) {
            let ledgerCDF = CDF(ledger)
            var gradeCDFs: [Grade: CDF] = [:]
            for (grade, prior) in gradePriors where !prior.isEmpty { gradeCDFs[grade] = CDF(prior) }
            let own = own, grades = grades, weight = priorWeight
            return ({ customer in
                let prior = grades[customer].flatMap { gradeCDFs[$0] } ?? ledgerCDF
                guard let history = own[customer], !history.isEmpty else { return Blend(own: nil, prior: prior, n: 0, m: 1) }
                return Blend(own: CDF(history), prior: prior, n: max(history.invoices, 1), m: weight)
            }, Blend(own: nil, prior: ledgerCDF, n: 0, m: 1))
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

    /// Binary places of a probability.
    static let bits = 62
    static let one = Int128(1) << bits

    /// `value` × `p` where p is a probability at `bits` places: the exact product, at `bits` places.
    static func times(_ value: Int64, _ p: Int128) -> Int128 { Int128(value) * p }

    /// A probability at 31 places, for variances (p(1-p) × amount² must fit 128 bits).
    static func coarse(_ p: Int128) -> Int128 { p >> (bits - 31) }

    /// The forecast as of `asOfDay` for `weeks` weeks (week k: days asOf+1+7(k-1) … asOf+7k), amounts in minor
    /// units with `scale` decimals.
    public static func forecast(asOfDay: Int, weeks: Int, invoices: [OpenInvoice], commitments: [Commitment], model: Model,
                                scale: Int = 2) -> Result {
        let weekRanges = (0..<weeks).map { (asOfDay + 1 + 7 * $0)...(asOfDay + 7 * ($0 + 1)) }
        let horizon = asOfDay + 7 * weeks
        // Expected at `bits` places; committed likewise; variance in minor units².
        var expected = [Int128](repeating: 0, count: weeks)
        var committed = [Int128](repeating: 0, count: weeks)
        var variance = [Int128](repeating: 0, count: weeks)
        var open: Int128 = 0
        func addVariance(_ week: Int, squares: Int128, p: Int128) {
            let p31 = coarse(p)
            let q = (p31 * ((Int128(1) << 31) - p31)) >> 31   // p(1-p) at 31 places (in Swift, >> binds tighter than *)
            variance[week] += squares > (Int128(1) << 96) ? (squares >> 31) * q : (squares * q) >> 31
        }

        // What stays for the lag distribution, per customer and due day (same day, same probabilities):
        // the amount, and the sum of the squares of its pieces (for the variance).
        struct Pool { var amount: Int64 = 0; var squares: Int128 = 0 }
        var pools: [Int64: [Int: Pool]] = [:]
        var remaining: [Int64: Int64] = [:]
        for invoice in invoices where invoice.open > 0 {
            remaining[invoice.invoiceID] = invoice.open
            open += Int128(invoice.open)
        }
        let byCustomer = Dictionary(grouping: invoices.filter { $0.open > 0 }, by: \.customerID)
        func addToPool(_ customer: Int64, dueDay: Int, _ amount: Int64) {
            guard amount > 0 else { return }
            pools[customer, default: [:]][dueDay, default: Pool()].amount += amount
            pools[customer, default: [:]][dueDay, default: Pool()].squares += Int128(amount) * Int128(amount)
        }

        // Commitments cover open invoices, named ones first, then the oldest; a covered piece is expected on
        // the commitment's day × its rate, and the rest of it (rounded to the minor unit) goes to the pool of its
        // invoice's due day.
        for commitment in commitments.sorted(by: { ($0.day, $0.customerID) < ($1.day, $1.customerID) }) where commitment.amount > 0 {
            let candidates = (byCustomer[commitment.customerID] ?? []).sorted { lhs, rhs in
                let lhsNamed = commitment.invoiceIDs.contains(lhs.invoiceID), rhsNamed = commitment.invoiceIDs.contains(rhs.invoiceID)
                if lhsNamed != rhsNamed { return lhsNamed }
                return (lhs.dueDay, lhs.invoiceID) < (rhs.dueDay, rhs.invoiceID)
            }
            let rateDecimal = min(max(commitment.rate, 0), 1)
            // The rate at `bits` places: rate × 2^62 (exact for the priors' fractions up to the last place).
            let rate = Int128(minorUnits(rateDecimal * Decimal(Int64(1) << 40), scale: 0)) << (bits - 40)
            var left = commitment.amount
            let day = max(commitment.day, asOfDay + 1)
            let week = day > horizon ? nil : (day - asOfDay - 1) / 7
            for invoice in candidates where left > 0 {
                let piece = min(left, remaining[invoice.invoiceID] ?? 0)
                guard piece > 0 else { continue }
                left -= piece
                remaining[invoice.invoiceID]! -= piece
                if let week {
                    let part = times(piece, rate)
                    expected[week] += part
                    committed[week] += part
                    addVariance(week, squares: Int128(piece) * Int128(piece), p: rate)
                    addToPool(invoice.customerID, dueDay: invoice.dueDay, piece - Int64(roundHalfEven(part)))
                } else {
                    addToPool(invoice.customerID, dueDay: invoice.dueDay, piece)   // promised beyond the horizon: as if not promised
                }
            }
        }
        for invoice in invoices {
            addToPool(invoice.customerID, dueDay: invoice.dueDay, remaining[invoice.invoiceID] ?? 0)
        }

        let (blend, ledger) = model.blends()
        for (customer, days) in pools {
            let distribution = blend(customer)
            for (dueDay, pool) in days {
                let boundaries = [weekRanges[0].lowerBound - 1 - dueDay] + weekRanges.map { $0.upperBound - dueDay }
                let overdue = asOfDay - dueDay
                guard let probabilities = distribution.probabilities(after: overdue, boundaries: boundaries)
                        ?? ledger.probabilities(after: overdue, boundaries: boundaries) else { continue }
                for (week, p) in probabilities.enumerated() where p > 0 {
                    expected[week] += times(pool.amount, p)
                    addVariance(week, squares: pool.squares, p: p)
                }
            }
        }

        var result = Result(weeks: [], notExpected: 0, open: amount(open, scale: scale))
        var expectedTotal: Int128 = 0
        // 1.645 σ = √(1.645² × variance) = √(2.706025 × variance).
        for (index, range) in weekRanges.enumerated() {
            let value = roundHalfEven(expected[index])
            let spread = squareRoot(variance[index] * 2_706_025 / 1_000_000)
            expectedTotal += value
            result.weeks.append(Week(first: range.lowerBound, last: range.upperBound, expected: amount(value, scale: scale),
                                     low: amount(max(0, value - spread), scale: scale), high: amount(value + spread, scale: scale),
                                     committed: amount(roundHalfEven(committed[index]), scale: scale)))
        }
        result.notExpected = amount(max(0, open - expectedTotal), scale: scale)
        return result
    }

    /// A value at `bits` places rounded half-even to an integer.
    static func roundHalfEven(_ value: Int128) -> Int128 {
        let whole = value >> bits
        let fraction = value - (whole << bits)
        let half = one >> 1
        if fraction > half || (fraction == half && whole & 1 == 1) { return whole + 1 }
        return whole
    }

    /// ⌊√value⌋ rounded to the nearest integer (Newton's method on integers).
    static func squareRoot(_ value: Int128) -> Int128 {
        guard value > 0 else { return 0 }
        var x = value, y = (value + 1) / 2
        while y < x { x = y; y = (x + value / x) / 2 }
        return (x + 1) * (x + 1) - value <= value - x * x ? x + 1 : x   // nearer of x and x + 1
    }

    /// A distribution as sorted lags with cumulative weights, for window sums by binary search.
    struct CDF: Sendable {
        var lags: [Int] = []
        var cumulative: [Int64] = []
        var total: Int64 = 0

        init(_ distribution: LagDistribution) {
            var running: Int64 = 0
            for lag in distribution.mass.keys.sorted() {
                running += distribution.mass[lag]!
                lags.append(lag)
                cumulative.append(running)
            }
            total = running + distribution.never
        }

        /// The weight of lags ≤ `lag`.
        func upTo(_ lag: Int) -> Int64 {
            var low = 0, high = lags.count
            while low < high {
                let mid = (low + high) / 2
                if lags[mid] <= lag { low = mid + 1 } else { high = mid }
            }
            return low == 0 ? 0 : cumulative[low - 1]
        }
    }

    /// A customer's own distribution blended with a prior, each normalized and weighted n : m, without
    /// building it: the blend's weight of a set of lags S is n·own(S)·prior.total + m·prior(S)·own.total
    /// (exact in 128 bits for any ledger whose totals fit 64).
    public struct Blend: Sendable {
        var own: CDF?
        var prior: CDF?
        var n: Int
        var m: Int

        /// `own` and `prior` as distributions (tests; the forecast builds them once per customer and grade).
        public init(own: LagDistribution, prior: LagDistribution, priorWeight: Int = Forecast.priorWeight) {
            self.init(own: own.isEmpty ? nil : CDF(own), prior: prior.isEmpty ? nil : CDF(prior), n: max(own.invoices, 1), m: priorWeight)
        }

        init(own: CDF?, prior: CDF?, n: Int, m: Int) {
            self.own = own.flatMap { $0.total > 0 ? $0 : nil }
            self.prior = prior.flatMap { $0.total > 0 ? $0 : nil }
            self.n = n
            self.m = m
        }

        /// The weight of lags ≤ `lag` (nil: all of it, "never" included).
        func weight(upTo lag: Int?) -> Int128 {
            switch (own, prior) {
            case let (own?, prior?):
                let o = Int128(lag.map(own.upTo) ?? own.total), p = Int128(lag.map(prior.upTo) ?? prior.total)
                return Int128(n) * o * Int128(prior.total) + Int128(m) * p * Int128(own.total)
            case let (own?, nil): return Int128(lag.map(own.upTo) ?? own.total)
            case let (nil, prior?): return Int128(lag.map(prior.upTo) ?? prior.total)
            case (nil, nil): return 0
            }
        }

        /// The probability (at 62 binary places) of each window of lags between consecutive `boundaries`
        /// ((b₀, b₁], (b₁, b₂], …), given the lag is above `after`; nil when nothing is beyond `after`.
        func probabilities(after: Int, boundaries: [Int]) -> [Int128]? {
            let floor = weight(upTo: after)
            var beyond = weight(upTo: nil) - floor
            guard beyond > 0 else { return nil }
            var cumulative = boundaries.map { max(weight(upTo: $0), floor) - floor }
            // Scale down so that (weight × 2^62) fits: beyond < 2^64 loses nothing a minor unit could see.
            var shift = 0
            while beyond >> shift >= Int128(1) << 64 { shift += 1 }
            beyond >>= shift
            cumulative = cumulative.map { $0 >> shift }
            return (1..<cumulative.count).map { index in
                let mass = cumulative[index] - cumulative[index - 1]
                return mass <= 0 ? 0 : (mass << Forecast.bits) / beyond
            }
        }

        /// The same probabilities as exact-enough decimals, for people and tests: windows given as ranges.
        public func conditional(after: Int, windows: [ClosedRange<Int>]) -> [Decimal]? {
            var result: [Decimal] = []
            for window in windows {
                guard let p = probabilities(after: after, boundaries: [window.lowerBound - 1, window.upperBound])?.first else { return nil }
                result.append(Decimal(string: String(p))! / Decimal(string: String(Forecast.one))!)
            }
            return result
        }
    }
}
