import Foundation

/// A letter's state, as `letters.status` stores it.
public enum LetterStatus: String, Sendable, CaseIterable, Codable {
    case pending, sent
}

/// What a letter is, as `letters.kind` stores it: a dunning level's letter, the notice that an
/// account goes to an agency, the confirmation of an installment plan, or a statement on demand.
public enum LetterKind: String, Sendable, CaseIterable, Codable {
    case dunning, agency_referral, plan_confirmation, statement

    /// The template a non-dunning letter is written with (dunning letters name theirs in the policy).
    public var template: String? {
        switch self {
        case .dunning: return nil
        case .agency_referral: return "agency_referral"
        case .plan_confirmation: return "plan_confirmation"
        case .statement: return "statement"
        }
    }
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
