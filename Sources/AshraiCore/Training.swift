import Foundation

/// What a training course covers, as `training_courses.topic` stores it.
public enum TrainingTopic: String, Sendable, CaseIterable, Codable {
    case riskAssessment = "risk_assessment"
    case collections, communication, legal, systems, other
}

/// Whether a staff member's training in a course counts as of a day.
public enum TrainingStatus: String, Sendable, CaseIterable {
    case missing, expired, expiring, current

    /// Days before expiry at which a record is reported as expiring.
    public static let warningDays = 30

    /// The first day a record no longer counts: `validityMonths` after completion (the same
    /// day of the month, or the month's last day when shorter); nil when it never expires.
    public static func expiresOn(completedDay: Int, validityMonths: Int?) -> Int? {
        validityMonths.map { InstallmentPlan.dueDay(first: completedDay, index: $0, frequency: .monthly) }
    }

    /// From the latest completion, if any: valid through the day before it expires.
    public static func evaluate(latestCompletedDay: Int?, validityMonths: Int?, asOfDay: Int) -> TrainingStatus {
        guard let completed = latestCompletedDay, completed <= asOfDay else { return .missing }
        guard let expires = expiresOn(completedDay: completed, validityMonths: validityMonths) else { return .current }
        if asOfDay >= expires { return .expired }
        return expires - asOfDay <= warningDays ? .expiring : .current
    }
}
