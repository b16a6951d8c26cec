import Foundation

/// Simple daily late interest.
///
/// Daily rate = annual rate / 365 (also in leap years; the extra day is still a day). Each
/// part of the principal accrues from the day after the due date up to and including the day
/// it stopped being owed — the day a payment, a discount or a write-off took it off — or
/// `asOf` for what is still open. A part settled on or before the due date accrues nothing.
/// The exact sum is rounded half-even to the cent once per invoice, never per day.
public enum LateInterest {
    /// A reduction of the principal on a day (cash, discount or write-off).
    public struct Reduction: Sendable, Equatable {
        public var day: Int
        public var amount: Decimal
        public init(day: Int, amount: Decimal) {
            self.day = day
            self.amount = amount
        }
    }

    /// Interest accrued on one invoice up to `asOfDay` (days since 1970-01-01).
    public static func accrued(amount: Decimal, dueDay: Int, annualRatePercent: Decimal, reductions: [Reduction], asOfDay: Int) -> Decimal {
        guard annualRatePercent > 0, asOfDay > dueDay else { return 0 }
        var exact: Decimal = 0
        var remaining = amount
        for reduction in reductions.filter({ $0.day <= asOfDay }).sorted(by: { $0.day < $1.day }) {
            let part = min(reduction.amount, remaining)
            remaining -= part
            let days = reduction.day - dueDay
            if days > 0 { exact += part * annualRatePercent * Decimal(days) }
        }
        if remaining > 0 { exact += remaining * annualRatePercent * Decimal(asOfDay - dueDay) }
        return Money.round(exact / 36_500, scale: 2)
    }
}
