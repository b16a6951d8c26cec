import Foundation

/// Receivables KPIs from ledger figures — every formula in one place (the README spells them out).
public enum KPI {
    /// The ledger figures of one period.
    public struct Inputs: Sendable {
        public var days: Int
        public var creditSales: Decimal
        public var beginningAR: Decimal
        public var endingAR: Decimal
        /// Ending AR not yet due.
        public var endingCurrentAR: Decimal
        /// Ending AR more than 90 days past due.
        public var endingAR90Plus: Decimal
        /// Credit sales per month going back from the period's end (most recent first), with the
        /// month's days up to the period's end.
        public var monthlySales: [(sales: Decimal, days: Int)]
        public var writeOffs: Decimal
        public var promisesKept: Int
        public var promisesBroken: Int
        public var disputesOpened: Int
        public var invoicesIssued: Int
        /// Σ amount × days from issue to payment, and Σ amount, of what was paid in the period.
        public var paidAmountDays: Decimal
        public var paidAmount: Decimal

        public init(days: Int, creditSales: Decimal, beginningAR: Decimal, endingAR: Decimal, endingCurrentAR: Decimal, endingAR90Plus: Decimal,
                    monthlySales: [(sales: Decimal, days: Int)] = [], writeOffs: Decimal = 0, promisesKept: Int = 0, promisesBroken: Int = 0,
                    disputesOpened: Int = 0, invoicesIssued: Int = 0, paidAmountDays: Decimal = 0, paidAmount: Decimal = 0) {
            self.days = days
            self.creditSales = creditSales
            self.beginningAR = beginningAR
            self.endingAR = endingAR
            self.endingCurrentAR = endingCurrentAR
            self.endingAR90Plus = endingAR90Plus
            self.monthlySales = monthlySales
            self.writeOffs = writeOffs
            self.promisesKept = promisesKept
            self.promisesBroken = promisesBroken
            self.disputesOpened = disputesOpened
            self.invoicesIssued = invoicesIssued
            self.paidAmountDays = paidAmountDays
            self.paidAmount = paidAmount
        }
    }

    /// Every KPI, rounded to one decimal for display; nil where the denominator is zero.
    public struct Result: Sendable, Equatable {
        public var dsoSimple: Decimal?
        public var dsoCountback: Decimal?
        public var bestPossibleDSO: Decimal?
        public var averageDaysDelinquent: Decimal?
        public var cei: Decimal?
        public var badDebtRatio: Decimal?
        public var atRiskRate: Decimal?
        public var promisesKeptRate: Decimal?
        public var disputeRate: Decimal?
        public var averageDaysToPay: Decimal?
    }

    static func ratio(_ numerator: Decimal, _ denominator: Decimal, times factor: Decimal = 1) -> Decimal? {
        denominator == 0 ? nil : numerator / denominator * factor
    }

    static func oneDecimal(_ value: Decimal?) -> Decimal? { value.map { Money.round($0, scale: 1) } }

    /// Countback DSO: take each month's credit sales off the ending AR, going back, counting the
    /// month's days while AR covers them; the month AR does not cover counts its days × AR / sales.
    /// AR 212,000 against 100,000, 80,000, 70,000 in 30-day months → 30 + 30 + 30 × 32/70 ≈ 73.7.
    public static func countbackDSO(endingAR: Decimal, months: [(sales: Decimal, days: Int)]) -> Decimal? {
        guard endingAR >= 0 else { return nil }
        var left = endingAR
        var days: Decimal = 0
        for month in months {
            if left <= 0 { break }
            if month.sales <= 0 { days += Decimal(month.days); continue }
            if left >= month.sales {
                days += Decimal(month.days)
                left -= month.sales
            } else {
                days += Decimal(month.days) * left / month.sales
                left = 0
            }
        }
        return left > 0 ? nil : days   // not covered by the months given: unknown
    }

    public static func compute(_ i: Inputs) -> Result {
        let days = Decimal(i.days)
        let dso = ratio(i.endingAR, i.creditSales, times: days)
        let best = ratio(i.endingCurrentAR, i.creditSales, times: days)
        let ceiDenominator = i.beginningAR + i.creditSales - i.endingCurrentAR
        return Result(
            dsoSimple: oneDecimal(dso),
            dsoCountback: oneDecimal(countbackDSO(endingAR: i.endingAR, months: i.monthlySales)),
            bestPossibleDSO: oneDecimal(best),
            averageDaysDelinquent: oneDecimal(dso.flatMap { d in best.map { d - $0 } }),
            cei: oneDecimal(ratio(i.beginningAR + i.creditSales - i.endingAR, ceiDenominator, times: 100)),
            badDebtRatio: oneDecimal(ratio(i.writeOffs, i.creditSales, times: 100)),
            atRiskRate: oneDecimal(ratio(i.endingAR90Plus, i.endingAR, times: 100)),
            promisesKeptRate: oneDecimal(ratio(Decimal(i.promisesKept), Decimal(i.promisesKept + i.promisesBroken), times: 100)),
            disputeRate: oneDecimal(ratio(Decimal(i.disputesOpened), Decimal(i.invoicesIssued), times: 100)),
            averageDaysToPay: oneDecimal(ratio(i.paidAmountDays, i.paidAmount)))
    }
}
