import AshraiCore
import Foundation
import Testing

@Suite("the ledger's rules")
struct LedgerTests {
    @Test("open = amount − paid − discount − written off − credited; a void invoice owes nothing")
    func openAmount() {
        #expect(InvoiceBalance(amount: 1000, paid: 250, discount: 10, writtenOff: 40, credited: 100, status: .partiallyPaid).open == 600)
        #expect(InvoiceBalance(amount: 1000, status: .void).open == 0)
        #expect(InvoiceStatus.owing == [.open, .partiallyPaid] && InvoiceStatus.owingSQL == "'open', 'partially_paid'")
        #expect(!InvoiceStatus.paid.isOwing && InvoiceStatus.partiallyPaid.isOwing)
        #expect(!PaymentMethod.recordable.contains(.openingBalance) && PaymentMethod.recordable.count == PaymentMethod.allCases.count - 1)
    }

    @Test("a dispute credits: nothing when the business was right; the request, else the disputed amount, else all open, capped, for the customer; a partial exactly")
    func disputeCredit() throws {
        #expect(try DisputeResolution.businessRight.credit(requested: nil, disputed: 300, open: 500).get() == 0)
        #expect(try DisputeResolution.customerRight.credit(requested: nil, disputed: 300, open: 500).get() == 300)
        #expect(try DisputeResolution.customerRight.credit(requested: nil, disputed: nil, open: 500).get() == 500)
        #expect(try DisputeResolution.customerRight.credit(requested: 800, disputed: nil, open: 500).get() == 500)
        #expect(try DisputeResolution.partial.credit(requested: 120, disputed: 300, open: 500).get() == 120)
        #expect(DisputeResolution.partial.credit(requested: 501, disputed: nil, open: 500) == .failure(.exceedsOpen(500)))
        #expect(DisputeResolution.partial.problem(requested: nil) == .partialNeedsCredit)
        #expect(DisputeResolution.partial.problem(requested: 0) == .partialNeedsCredit)
        #expect(DisputeResolution.businessRight.problem(requested: 5) == .businessRightCreditsNothing)
        #expect(DisputeResolution.businessRight.problem(requested: 0) == nil)
        #expect(DisputeResolution.customerRight.problem(requested: -1) == .notPositive)
        #expect(DisputeResolution.customerRight.problem(requested: nil) == nil)
    }
}
