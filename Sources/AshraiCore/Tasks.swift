/// What a collector's task asks for, as `tasks.kind` stores it. The rules make all but `manual`, each
/// once for what it fired on (a promise, a dispute, a message, an installment, a review, a dunning level).
public enum TaskKind: String, Sendable, CaseIterable, Codable {
    case call
    case followUpPromise = "follow_up_promise"
    case disputeReview = "dispute_review"
    case failedMessage = "failed_message"
    case reviewDue = "review_due"
    case planMissed = "plan_missed"
    case manual
}

/// Where a task stands, as `tasks.state` stores it.
public enum TaskState: String, Sendable, CaseIterable, Codable {
    case open, done, cancelled
}
