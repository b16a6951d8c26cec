/// A staff member's role; what each may do is the method table in `AshraiProtocol.MethodCatalog`.
public enum Role: String, Sendable, CaseIterable, Codable, Comparable {
    /// Everything, and alone: users, roles, dunning policy, agency records.
    case admin
    /// Credit decisions, holds, write-offs, plans, assignments, reviews, reports, training records.
    case manager
    /// Day-to-day: customers' contact data, invoices, payments, interactions, letters, disputes.
    case clerk
    /// A collection agency's read-only partner login.
    case agency

    /// The business's own people (every role but `agency`).
    public static let staff: [Role] = [.admin, .manager, .clerk]

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
