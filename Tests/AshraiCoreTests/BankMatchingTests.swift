import AshraiCore
import Foundation
import Testing

@Suite("matching a bank credit to a customer and invoices")
struct BankMatchingTests {
    typealias Invoice = BankMatching.OpenInvoice
    static let customers = [
        BankMatching.Customer(id: 1, name: "מאפיית הדר בע\"מ", code: "HADAR", legalID: "514712345", accounts: ["IL17-0126-0000-0001-2345-678"]),
        BankMatching.Customer(id: 2, name: "Galil Foods Ltd", code: "C-17"),
        BankMatching.Customer(id: 3, name: "Tel-Aviv Bistro", installmentsDue: [Decimal(string: "333.33")!]),
    ]
    static let invoices = [
        Invoice(id: 10, customerID: 1, number: "INV-1001", open: Decimal(string: "1234.50")!, dueDay: 100),
        Invoice(id: 11, customerID: 1, number: "INV-1002", open: 400, dueDay: 110),
        Invoice(id: 20, customerID: 2, number: "INV-2001", open: 300, dueDay: 100),
        Invoice(id: 21, customerID: 2, number: "INV-2002", open: 400, dueDay: 120),
        Invoice(id: 30, customerID: 3, number: "3001", open: 1000, dueDay: 90),
        Invoice(id: 31, customerID: 3, number: "3002", open: 1500, dueDay: 95),
    ]

    static func best(_ amount: String, _ text: String?, name: String? = nil, account: String? = nil) -> BankMatching.Candidate? {
        BankMatching.candidates(amount: Decimal(string: amount)!, remittance: text, counterpartyName: name, counterpartyAccount: account,
                                customers: customers, invoices: invoices).first
    }

    @Test("an invoice number through the banks' noise: prefixes, spaces, dashes, several in one line")
    func invoiceNumbers() throws {
        let hadar = try #require(Self.best("1234.50", "העברה מבנק - תשלום חשבונית INV-1001"))
        #expect(hadar.customerID == 1 && hadar.invoiceIDs == [10] && hadar.confidence >= 90, "\(hadar)")
        let spaced = try #require(Self.best("300.00", "PMT INV 2001 THANKS"))
        #expect(spaced.customerID == 2 && spaced.invoiceIDs == [20] && spaced.confidence >= 90)
        let two = try #require(Self.best("2500.00", "Payment for invoices 3001, 3002"))
        #expect(two.customerID == 3 && two.invoiceIDs == [30, 31] && two.confidence >= 90)
        // Named, but the amount does not settle them: a person looks.
        let short = try #require(Self.best("1000.00", "inv-1001"))
        #expect(short.customerID == 1 && short.invoiceIDs.isEmpty && short.confidence <= 80)
    }

    @Test("a legal id or code in the text, a linked account, an amount, a name — each with its reason")
    func otherRules() throws {
        let legal = try #require(Self.best("50.00", "ח.פ. 514712345"))
        #expect(legal.customerID == 1 && legal.confidence >= 85 && legal.reasons.first?.contains("legal id") == true)
        let account = try #require(Self.best("50.00", nil, account: "IL170126000000012345678"))
        #expect(account.customerID == 1 && account.reasons.first?.contains("linked") == true)
        let amount = try #require(Self.best("1234.50", "transfer"))
        #expect(amount.customerID == 1 && amount.invoiceIDs == [10] && amount.confidence < 90)
        let installment = try #require(Self.best("333.33", nil, name: "Tel Aviv Bistro"))
        #expect(installment.customerID == 3 && installment.reasons.count == 2 && installment.confidence < 90)
        #expect(BankMatching.similarity("Galil Foods Ltd", "GALIL FOODS") == 1)
        #expect(BankMatching.similarity("מאפיית הדר בע\"מ", "מאפיית הדר") == 1)
        #expect(BankMatching.similarity("Negev Coffee", "Galil Foods") < 0.2)
    }

    @Test("no guess where the evidence is thin or conflicting")
    func thinOrConflicting() throws {
        // 400.00 is open on two customers' invoices and nothing else points anywhere: no candidate.
        #expect(Self.best("400.00", "transfer") == nil)
        // A short number ("17" in a date) is not an invoice number.
        #expect(Self.best("12.00", "17/11 transfer") == nil)
        // The text names Hadar's invoice but the payer is Galil: neither is certain.
        let conflict = BankMatching.candidates(amount: Decimal(string: "1234.50")!, remittance: "INV-1001", counterpartyName: "Galil Foods",
                                               counterpartyAccount: nil, customers: Self.customers, invoices: Self.invoices)
        #expect(conflict.count == 2 && conflict.allSatisfy { $0.confidence <= 70 })
        #expect(BankMatching.candidates(amount: -5, remittance: "INV-1001", counterpartyName: nil, counterpartyAccount: nil,
                                        customers: Self.customers, invoices: Self.invoices).isEmpty)
    }

    @Test("a returned payment: the same amount lately paid, the cheque number in the text, the same account, the bank's word for it")
    func returnedPayments() throws {
        let payments = [
            BankMatching.RecentPayment(id: 7, customerID: 3, amount: 800, receivedDay: 100, reference: "cheque 1234567"),
            BankMatching.RecentPayment(id: 8, customerID: 2, amount: 800, receivedDay: 101, reference: "LEU-9", counterpartyAccount: "10-800-1"),
            BankMatching.RecentPayment(id: 9, customerID: 2, amount: 800, receivedDay: 1, reference: "1234567"),
        ]
        let cheque = try #require(BankMatching.returns(amount: -800, remittance: "שיק חוזר 1234567", counterpartyAccount: nil, bookingDay: 130,
                                                       payments: payments).first)
        #expect(cheque.paymentID == 7 && cheque.confidence >= 90 && cheque.reasons.count == 3, "\(cheque)")
        let account = try #require(BankMatching.returns(amount: -800, remittance: "RETURNED TRANSFER", counterpartyAccount: "108001",
                                                        bookingDay: 130, payments: payments).first)
        #expect(account.paymentID == 8 && account.confidence >= 80)
        // Only the amount: two payments fit equally, neither is sure; a payment 120+ days old or later than the debit is not a candidate.
        let vague = BankMatching.returns(amount: -800, remittance: "debit", counterpartyAccount: nil, bookingDay: 130, payments: payments)
        #expect(vague.map(\.paymentID) == [8, 7] && vague.allSatisfy { $0.confidence <= 50 })
        #expect(BankMatching.returns(amount: 800, remittance: nil, counterpartyAccount: nil, bookingDay: 130, payments: payments).isEmpty)
        #expect(BankMatching.returns(amount: -800, remittance: nil, counterpartyAccount: nil, bookingDay: 99, payments: Array(payments.prefix(2))).isEmpty)
    }
}
