import Foundation

/// What a collection agency earns: its commission rate (percent, snapshotted on the
/// assignment) on what it collected, rounded half-even to the cent once per assignment.
public enum Commission {
    public static func due(collected: Decimal, ratePercent: Decimal) -> Decimal {
        Money.round(collected * ratePercent / 100, scale: 2)
    }

    /// Collected ÷ assigned × 100, to one decimal; nil when nothing was assigned.
    public static func recoveryRate(collected: Decimal, assigned: Decimal) -> Decimal? {
        guard assigned > 0 else { return nil }
        return Money.round(collected / assigned * 100, scale: 1)
    }
}
