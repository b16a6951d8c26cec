import AshraiCore
import Foundation
import Testing

@Suite("allocation")
struct AllocationTests {
    static func d(_ text: String) -> Decimal { Decimal(string: text)! }

    @Test("without instructions the oldest due invoice is paid first; the rest stays unapplied")
    func oldestFirst() throws {
        let invoices = [
            OpenInvoice(id: 2, issueDay: 10, dueDay: 40, amount: 300),
            OpenInvoice(id: 1, issueDay: 5, dueDay: 35, amount: 200),
            OpenInvoice(id: 3, issueDay: 20, dueDay: 50, amount: 100),
        ]
        let result = try Allocator.allocate(450, to: invoices, onDay: 60)
        #expect(result.lines == [AllocationLine(invoiceID: 1, amount: 200), AllocationLine(invoiceID: 2, amount: 250)])
        #expect(result.unapplied == 0)
        let over = try Allocator.allocate(700, to: invoices, onDay: 60)
        #expect(over.lines.reduce(0) { $0 + $1.amount } == 600 && over.unapplied == 100)
    }

    @Test("early discount by hand: 1,000.00 at 2 % within 10 days settles for 980.00 with a 20.00 discount line")
    func earlyDiscount() throws {
        let invoice = OpenInvoice(id: 1, issueDay: 100, dueDay: 130, amount: 1000, discountRate: 2, discountDays: 10)
        #expect(invoice.settlement(onDay: 110) == (Self.d("980"), Self.d("20")))   // the 10th day is inside
        #expect(invoice.settlement(onDay: 111) == (Self.d("1000"), 0))             // the 11th is not
        let result = try Allocator.allocate(980, to: [invoice], onDay: 105)
        #expect(result.lines == [AllocationLine(invoiceID: 1, amount: 980, discount: 20)])
        // Rounding: 333.33 at 1.5 % → 328.33005 → 328.33 (half-even), discount 5.00.
        let odd = OpenInvoice(id: 2, issueDay: 0, dueDay: 30, amount: Self.d("333.33"), discountRate: Self.d("1.5"), discountDays: 10)
        #expect(odd.settlement(onDay: 0) == (Self.d("328.33"), Self.d("5")))
        // Partly paid within the window: the rest of the discounted total settles it.
        let partly = OpenInvoice(id: 3, issueDay: 0, dueDay: 30, amount: 1000, settled: 500, discountRate: 2, discountDays: 10)
        #expect(partly.settlement(onDay: 5) == (Self.d("480"), Self.d("20")))
        // Not enough for the discounted total: a plain partial payment, no discount.
        let short = try Allocator.allocate(900, to: [invoice], onDay: 105)
        #expect(short.lines == [AllocationLine(invoiceID: 1, amount: 900)])
    }

    @Test("explicit lines: never beyond the open amount or the money, never another customer's invoice")
    func explicitRules() throws {
        let invoices = [OpenInvoice(id: 1, issueDay: 0, dueDay: 30, amount: 100, settled: 40)]
        #expect(throws: AllocationError.exceedsOpen(invoiceID: 1, open: 60)) {
            try Allocator.allocate(100, to: invoices, onDay: 10, requested: [AllocationLine(invoiceID: 1, amount: 61)])
        }
        #expect(throws: AllocationError.exceedsPayment(available: 50)) {
            try Allocator.allocate(50, to: invoices, onDay: 10, requested: [AllocationLine(invoiceID: 1, amount: 60)])
        }
        #expect(throws: AllocationError.notOpen(invoiceID: 9)) {
            try Allocator.allocate(50, to: invoices, onDay: 10, requested: [AllocationLine(invoiceID: 9, amount: 10)])
        }
        #expect(throws: AllocationError.notPositive(invoiceID: 1)) {
            try Allocator.allocate(50, to: invoices, onDay: 10, requested: [AllocationLine(invoiceID: 1, amount: 0)])
        }
        let ok = try Allocator.allocate(100, to: invoices, onDay: 10, requested: [AllocationLine(invoiceID: 1, amount: 60)])
        #expect(ok.unapplied == 40)
    }
}

@Suite("aging buckets")
struct AgingBucketTests {
    @Test("boundaries: due today is current, day 30 is 1-30, day 31 is 31-60, day 91 is 90+")
    func boundaries() throws {
        let buckets = try #require(AgingBuckets())
        #expect(buckets.labels == ["current", "1-30", "31-60", "61-90", "90+"])
        #expect(buckets.index(daysPastDue: -5) == 0)
        #expect(buckets.index(daysPastDue: 0) == 0)
        #expect(buckets.index(daysPastDue: 1) == 1)
        #expect(buckets.index(daysPastDue: 30) == 1)
        #expect(buckets.index(daysPastDue: 31) == 2)
        #expect(buckets.index(daysPastDue: 90) == 3)
        #expect(buckets.index(daysPastDue: 91) == 4)
        #expect(AgingBuckets([60, 30]) == nil)
        #expect(AgingBuckets([0]) == nil)
        #expect(AgingBuckets([7, 14])?.labels == ["current", "1-7", "8-14", "14+"])
    }
}
