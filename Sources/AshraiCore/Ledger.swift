import Foundation

/// An invoice's state, as `invoices.status` stores it (a test checks the CHECK constraint lists
/// the same values).
public enum InvoiceStatus: String, Sendable, CaseIterable, Codable {
    case open
    case partiallyPaid = "partially_paid"
    case paid
    case writtenOff = "written_off"
    case credited
    case void

    /// Money is still owed: what aging, exposure, dunning, plans and allocation look at.
    public static let owing: [InvoiceStatus] = [.open, .partiallyPaid]

    /// Whether money is still owed.
    public var isOwing: Bool { Self.owing.contains(self) }

    /// `owing` as an SQL list, `'open', 'partially_paid'`, for `status IN (…)` in statements
    /// (the values are this enum's raw values, never input).
    public static let owingSQL = owing.map { "'\($0.rawValue)'" }.joined(separator: ", ")
}

/// How a payment arrived, as `payments.method` stores it.
public enum PaymentMethod: String, Sendable, CaseIterable, Codable {
    case card
    case bankTransfer = "bank_transfer"
    case cheque
    case cash
    case digital
    /// What was already paid on an invoice brought in from the old books (set by the import only).
    case openingBalance = "opening_balance"

    /// The methods a person records a payment with (`openingBalance` is the import's).
    public static let recordable: [PaymentMethod] = allCases.filter { $0 != .openingBalance }
}

/// A payment's state, as `payments.status` stores it.
public enum PaymentStatus: String, Sendable, CaseIterable, Codable {
    case recorded
    case reversed
}

/// An invoice's amounts and what is still open of it: the one definition of "open amount" (the
/// SQL function `invoice_open_amount` computes the same, and a test checks both on one fixture).
public struct InvoiceBalance: Sendable, Equatable {
    public var amount: Decimal
    public var paid: Decimal
    public var discount: Decimal
    public var writtenOff: Decimal
    public var credited: Decimal
    public var status: InvoiceStatus

    public init(amount: Decimal, paid: Decimal = 0, discount: Decimal = 0, writtenOff: Decimal = 0, credited: Decimal = 0,
                status: InvoiceStatus = .open) {
        self.amount = amount
        self.paid = paid
        self.discount = discount
        self.writtenOff = writtenOff
        self.credited = credited
        self.status = status
    }

    /// Still owed: the amount less what was paid, discounted, written off and credited; nothing
    /// for a void invoice.
    public var open: Decimal { status == .void ? 0 : amount - paid - discount - writtenOff - credited }
}

/// How a dispute ends, as `disputes.resolution` stores it, and what it credits.
public enum DisputeResolution: String, Sendable, CaseIterable, Codable {
    /// The customer was right: the disputed amount (or the whole open amount) is credited.
    case customerRight = "customer_right"
    /// The business was right: nothing is credited.
    case businessRight = "business_right"
    /// Part of it: the requested credit, which must be positive.
    case partial

    /// Why a requested credit is refused.
    public enum Refusal: Error, Equatable, Sendable {
        /// A partial resolution without a positive credit.
        case partialNeedsCredit
        /// `businessRight` with a credit other than zero.
        case businessRightCreditsNothing
        /// A credit that is zero or less.
        case notPositive
        /// More than is open on the invoice.
        case exceedsOpen(Decimal)
    }

    /// What is wrong with a requested credit before anything is read (the shape of the request
    /// alone), or nil.
    public func problem(requested: Decimal?) -> Refusal? {
        switch self {
        case .partial: if let requested, requested > 0 { return nil } else { return .partialNeedsCredit }
        case .businessRight: if let requested, requested != 0 { return .businessRightCreditsNothing }
        case .customerRight: if let requested, requested <= 0 { return .notPositive }
        }
        return nil
    }

    /// The credit note's amount: nothing when the business was right; for the customer, the
    /// requested credit, else the disputed amount, else all that is open — never more than is
    /// open; a partial credit exactly as requested, refused beyond what is open. `open` is what
    /// is open on the invoice now (zero when it is no longer owing).
    public func credit(requested: Decimal?, disputed: Decimal?, open: Decimal) -> Result<Decimal, Refusal> {
        switch self {
        case .businessRight: return .success(0)
        case .customerRight: return .success(min(requested ?? disputed ?? open, open))
        case .partial:
            guard let requested, requested <= open else { return .failure(.exceedsOpen(open)) }
            return .success(requested)
        }
    }
}

/// A dispute's state, as `disputes.status` stores it.
public enum DisputeStatus: String, Sendable, CaseIterable, Codable {
    case open, resolved
}
