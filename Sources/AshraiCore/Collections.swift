import Foundation

/// A letter's state, as `letters.status` stores it.
public enum LetterStatus: String, Sendable, CaseIterable, Codable {
    case pending, sent
}

/// An installment plan's state, as `plans.status` stores it.
public enum PlanStatus: String, Sendable, CaseIterable, Codable {
    case proposed, active, completed, defaulted, cancelled
}

/// An agency assignment's state, as `assignments.status` stores it.
public enum AssignmentStatus: String, Sendable, CaseIterable, Codable {
    /// Waiting for the customer to be told; the agency sees nothing yet.
    case pending
    case active, recalled, settled

    /// Not ended: pending or active.
    public static let open: [AssignmentStatus] = [.pending, .active]
}
