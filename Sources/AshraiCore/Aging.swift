/// Aging buckets by days past due: `current` (not yet due), then one bucket per bound, then
/// the rest ("90+" with the default bounds 30, 60, 90). A day count equal to a bound falls in
/// the bucket that ends there: 30 days is "1–30", 31 is "31–60".
public struct AgingBuckets: Sendable, Equatable {
    /// Upper bounds, ascending.
    public let bounds: [Int]

    /// Validates bounds: positive and strictly ascending; nil otherwise.
    /// 1–30, 31–60, 61–90 and over 90 days past due: the default everywhere.
    public static let standard = AgingBuckets([30, 60, 90])!

    public init?(_ bounds: [Int] = [30, 60, 90]) {
        guard !bounds.isEmpty, bounds.allSatisfy({ $0 > 0 }), zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        self.bounds = bounds
    }

    /// `current`, `1-30`, `31-60`, `61-90`, `90+`.
    public var labels: [String] {
        var labels = ["current"]
        var lower = 1
        for bound in bounds {
            labels.append("\(lower)-\(bound)")
            lower = bound + 1
        }
        labels.append("\(bounds.last!)+")
        return labels
    }

    /// The bucket index of an invoice `daysPastDue` days past its due date (≤ 0 is current).
    public func index(daysPastDue: Int) -> Int {
        if daysPastDue <= 0 { return 0 }
        return 1 + bounds.filter { daysPastDue > $0 }.count
    }
}
