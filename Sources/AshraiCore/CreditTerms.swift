import Foundation

/// A customer's credit terms as values: the one list of what terms are, for stored versions,
/// new ones a caller states, and the snapshot an invoice keeps.
public struct CreditTerms: Sendable, Equatable {
    public var currency: Currency
    public var creditLimit: Decimal
    public var netDays: Int
    /// Net (from the invoice's date) or end of month + N (שוטף).
    public var basis: TermsBasis
    /// Late interest, percent a year.
    public var lateInterestRate: Decimal
    /// Early-payment discount, percent, within `earlyDiscountDays` of issue; both or neither.
    public var earlyDiscountRate: Decimal?
    public var earlyDiscountDays: Int?

    public init(currency: Currency, creditLimit: Decimal, netDays: Int, basis: TermsBasis = .net, lateInterestRate: Decimal,
                earlyDiscountRate: Decimal? = nil, earlyDiscountDays: Int? = nil) {
        self.currency = currency
        self.creditLimit = creditLimit
        self.netDays = netDays
        self.basis = basis
        self.lateInterestRate = lateInterestRate
        self.earlyDiscountRate = earlyDiscountRate
        self.earlyDiscountDays = earlyDiscountDays
    }

    /// The day an invoice issued on `issueDay` falls due under these terms.
    public func dueDay(issueDay: Int) -> Int { basis.dueDay(issueDay: issueDay, netDays: netDays) }

    /// What is inconsistent in these terms, naming the field, or nil: the discount's rate and
    /// days go together, and its window cannot outlast the net days.
    public var problem: (field: String, message: String)? {
        if (earlyDiscountRate == nil) != (earlyDiscountDays == nil) {
            return (earlyDiscountRate == nil ? "early_discount_rate" : "early_discount_days",
                    "early_discount_rate and early_discount_days go together")
        }
        if let earlyDiscountDays, earlyDiscountDays > netDays {
            return ("early_discount_days", "early_discount_days cannot exceed net_days")
        }
        return nil
    }
}
