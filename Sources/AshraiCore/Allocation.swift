import Foundation

/// An invoice as allocation sees it. Days are counted from 1970-01-01 (`PostgresDate.daysSinceEpoch`).
public struct OpenInvoice: Sendable, Equatable {
    public var id: Int64
    public var issueDay: Int
    public var dueDay: Int
    public var amount: Decimal
    /// Paid so far, including discounts already granted.
    public var settled: Decimal
    public var writtenOff: Decimal
    /// Early-payment discount, percent, and its window in days from issue.
    public var discountRate: Decimal?
    public var discountDays: Int?

    public init(id: Int64, issueDay: Int, dueDay: Int, amount: Decimal, settled: Decimal = 0, writtenOff: Decimal = 0,
                discountRate: Decimal? = nil, discountDays: Int? = nil) {
        self.id = id
        self.issueDay = issueDay
        self.dueDay = dueDay
        self.amount = amount
        self.settled = settled
        self.writtenOff = writtenOff
        self.discountRate = discountRate
        self.discountDays = discountDays
    }

    /// Still owed, before any discount.
    public var open: Decimal { amount - settled - writtenOff }

    /// What settles the invoice if paid on `day`: the open amount, less the early-payment
    /// discount when `day` is within the window. The discounted total is
    /// `amount × (1 − rate/100)` rounded half-even to the cent; the discount is the rest.
    public func settlement(onDay day: Int) -> (pay: Decimal, discount: Decimal) {
        guard let rate = discountRate, let days = discountDays, rate > 0, day <= issueDay + days, writtenOff == 0 else {
            return (open, 0)
        }
        let discountedTotal = Money.round(amount * (1 - rate / 100), scale: 2)
        let pay = max(0, discountedTotal - settled)
        return (pay, open - pay)
    }
}

/// One line of an allocation: cash applied, and the discount granted with it.
public struct AllocationLine: Sendable, Equatable {
    public var invoiceID: Int64
    public var amount: Decimal
    public var discount: Decimal

    public init(invoiceID: Int64, amount: Decimal, discount: Decimal = 0) {
        self.invoiceID = invoiceID
        self.amount = amount
        self.discount = discount
    }
}

/// Why an allocation is refused.
public enum AllocationError: Error, Equatable, Sendable {
    /// The invoice is not one of the customer's open invoices.
    case notOpen(invoiceID: Int64)
    /// More than the invoice's open amount.
    case exceedsOpen(invoiceID: Int64, open: Decimal)
    /// The lines add up to more than the money available.
    case exceedsPayment(available: Decimal)
    /// A line is zero or negative.
    case notPositive(invoiceID: Int64)
    /// The same invoice twice.
    case duplicate(invoiceID: Int64)
}

/// Applying money to invoices: never over-allocating, oldest due first when not told.
public enum Allocator {
    /// Applies `available` to `invoices` paid on `day`.
    ///
    /// With `requested` lines, exactly those (each ≤ the invoice's open amount; a line that
    /// reaches the discounted settlement within the window is granted the discount). Without,
    /// the oldest due invoices first (then oldest issued, then lowest id), each settled in full
    /// if the money reaches, else partly. Returns the lines and what stays unapplied.
    public static func allocate(
        _ available: Decimal, to invoices: [OpenInvoice], onDay day: Int, requested: [AllocationLine]? = nil
    ) throws(AllocationError) -> (lines: [AllocationLine], unapplied: Decimal) {
        var remaining = available
        var lines: [AllocationLine] = []
        if let requested {
            var seen = Set<Int64>()
            for line in requested {
                guard line.amount > 0 else { throw .notPositive(invoiceID: line.invoiceID) }
                guard seen.insert(line.invoiceID).inserted else { throw .duplicate(invoiceID: line.invoiceID) }
                guard let invoice = invoices.first(where: { $0.id == line.invoiceID }), invoice.open > 0 else {
                    throw .notOpen(invoiceID: line.invoiceID)
                }
                guard line.amount <= invoice.open else { throw .exceedsOpen(invoiceID: line.invoiceID, open: invoice.open) }
                guard line.amount <= remaining else { throw .exceedsPayment(available: available) }
                let settlement = invoice.settlement(onDay: day)
                let discount = line.amount >= settlement.pay && settlement.discount > 0 ? invoice.open - line.amount : 0
                lines.append(AllocationLine(invoiceID: line.invoiceID, amount: line.amount, discount: max(0, discount)))
                remaining -= line.amount
            }
            return (lines, remaining)
        }
        let ordered = invoices.filter { $0.open > 0 }.sorted {
            ($0.dueDay, $0.issueDay, $0.id) < ($1.dueDay, $1.issueDay, $1.id)
        }
        for invoice in ordered where remaining > 0 {
            let settlement = invoice.settlement(onDay: day)
            if remaining >= settlement.pay {
                lines.append(AllocationLine(invoiceID: invoice.id, amount: settlement.pay, discount: settlement.discount))
                remaining -= settlement.pay
            } else {
                lines.append(AllocationLine(invoiceID: invoice.id, amount: remaining))
                remaining = 0
            }
        }
        return (lines.filter { $0.amount > 0 || $0.discount > 0 }, remaining)
    }
}
