@testable import AshraiCore
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

/// A generated statement with known answers: how often the automatic posts (confidence ≥ 90) are
/// right (precision — must be 1: a wrong automatic post is money on the wrong account) and how many
/// of the lines that could be posted are (recall; the rest wait on the worklist).
@Suite("bank matching on a generated statement")
struct BankMatchingFixtureTests {
    /// A fixed linear congruential sequence: the same statement on every run.
    struct Sequence {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    @Test("wrong automatic posts 0; precision 1; recall reported")
    func precisionAndRecall() throws {
        var random = Sequence(state: 20261201)
        let first = ["מאפיית", "קפה", "מסעדת", "Galil", "Negev", "Carmel", "Tel Aviv", "Haifa", "שף", "Bistro"]
        let second = ["הדר", "השכונה", "Foods", "Coffee", "Deli", "Bakery", "הגליל", "Market", "ים", "Grill"]
        var customers: [BankMatching.Customer] = []
        var invoices: [BankMatching.OpenInvoice] = []
        for id in 1...150 {
            let name = "\(first[random.next(first.count)]) \(second[random.next(second.count)]) \(id)"
            customers.append(.init(id: Int64(id), name: name, code: "C\(1000 + id)", legalID: String(510_000_000 + id * 7)))
            for n in 0..<3 {
                let number = random.next(2) == 0 ? "INV-\(10_000 + id * 3 + n)" : "\(20_000 + id * 3 + n)"
                invoices.append(.init(id: Int64(id * 10 + n), customerID: Int64(id), number: number,
                                      open: Decimal(100 + random.next(5000)) + Decimal(random.next(100)) / 100, dueDay: 100 + n))
            }
        }
        let prefixes = ["העברה מבנק - ", "PMT ", "תשלום ח-ן ", "Payment for invoice ", "", "#", "transfer ref "]
        struct Line { var amount: Decimal; var text: String; var name: String?; var truth: Int64? }
        var lines: [Line] = []
        for _ in 0..<400 {
            let invoice = invoices[random.next(invoices.count)]
            let customer = customers[Int(invoice.customerID) - 1]
            let spaced = invoice.number.replacingOccurrences(of: "-", with: random.next(2) == 0 ? " " : "")
            switch random.next(7) {
            case 0, 1:   // the number with the banks' noise, the full amount
                lines.append(Line(amount: invoice.open, text: prefixes[random.next(prefixes.count)] + spaced, name: customer.name, truth: customer.id))
            case 2:      // two invoices of the customer in one line
                let other = invoices.first { $0.customerID == invoice.customerID && $0.id != invoice.id }!
                lines.append(Line(amount: invoice.open + other.open, text: "invoices \(invoice.number), \(other.number)", name: nil, truth: customer.id))
            case 3:      // a part payment naming the invoice: a person decides
                lines.append(Line(amount: invoice.open / 2, text: "on account \(invoice.number)", name: customer.name, truth: customer.id))
            case 4:      // the legal id and the full amount
                lines.append(Line(amount: invoice.open, text: "ח.פ. \(customer.legalID!)", name: nil, truth: customer.id))
            case 5:      // the text names one customer's invoice, another customer pays
                let payer = customers[random.next(customers.count)]
                guard payer.id != customer.id else { continue }
                lines.append(Line(amount: invoice.open, text: spaced, name: payer.name, truth: nil))
            default:     // nothing to go by
                lines.append(Line(amount: Decimal(1 + random.next(900)), text: "transfer", name: "Someone Else", truth: nil))
            }
        }
        var right = 0, wrong = 0, postable = 0
        for line in lines {
            if line.truth != nil { postable += 1 }
            guard let best = BankMatching.candidates(amount: line.amount, remittance: line.text, counterpartyName: line.name,
                                                     counterpartyAccount: nil, customers: customers, invoices: invoices).first,
                  best.confidence >= 90 else { continue }
            if best.customerID == line.truth { right += 1 } else { wrong += 1; Issue.record("wrong automatic post: \(line.text) → \(best)") }
        }
        let precision = Double(right) / Double(max(1, right + wrong))
        let recall = Double(right) / Double(max(1, postable))
        print("bank matching fixture: \(lines.count) lines, \(postable) postable, \(right) posted right, \(wrong) wrong; precision \(precision), recall \(String(format: "%.2f", recall))")
        #expect(wrong == 0)
        #expect(recall >= 0.6, "recall \(recall)")
    }

    @Test("the name index finds exactly what comparing with every customer finds; an index updated after a post answers as one built afresh")
    func indexAgreesWithBruteForce() {
        let words = ["מאפיית", "הדר", "גליל", "Galil", "Foods", "Negev", "Coffee", "Bistro", "Tel", "Aviv", "שיווק", "חברת", "Haifa", "Deli", "Green"]
        var generator = SystemRandomNumberGenerator()
        var customers: [BankMatching.Customer] = []
        for id in 1...400 {
            let name = (0..<(1 + id % 3)).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ") + (id % 5 == 0 ? " \(id)" : "")
            customers.append(BankMatching.Customer(id: Int64(id), name: name))
        }
        let invoices: [BankMatching.OpenInvoice] = (1...600).map { (n: Int) -> BankMatching.OpenInvoice in
            BankMatching.OpenInvoice(id: Int64(n), customerID: Int64(1 + n % 200), number: "INV-\(n)", open: Decimal(100 + n % 37), dueDay: n % 50)
        }
        let index = BankMatching.Index(customers: customers, invoices: invoices)
        for _ in 0..<200 {
            let payer = (0..<2).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            let trigrams = BankMatching.trigrams(payer)
            let brute = Set(customers.indices.filter { BankMatching.similarity(trigrams, index.nameTrigrams[$0]) >= 0.5 })
            if let found = index.similarNames(trigrams, threshold: 0.5) {
                let positions: Set<Int> = Set(found.map { $0.position })
                #expect(positions == brute, "\(payer)")
            }
        }
        // Customer 7 paid two of its invoices and part of a third.
        var updated = index
        let seven = invoices.filter { $0.customerID == 7 }.sorted { $0.id < $1.id }
        var left = Array(seven.dropFirst(2))
        left[0].open -= 10
        updated.replaceInvoices(ofCustomer: 7, with: left)
        let rebuilt = BankMatching.Index(customers: customers, invoices: invoices.filter { $0.customerID != 7 } + left)
        var lines: [(Decimal, String)] = seven.map { ($0.open, "payment \($0.number)") }
        lines.append((left[0].open, "x"))
        lines.append((Decimal(123), customers[6].name))
        for (amount, text) in lines {
            let a = BankMatching.candidates(amount: amount, remittance: text, counterpartyName: customers[6].name, counterpartyAccount: nil, index: updated)
            let b = BankMatching.candidates(amount: amount, remittance: text, counterpartyName: customers[6].name, counterpartyAccount: nil, index: rebuilt)
            #expect(a.map { $0.customerID } == b.map { $0.customerID })
            #expect(a.map { $0.confidence } == b.map { $0.confidence })
            #expect(a.map { $0.invoiceIDs } == b.map { $0.invoiceIDs })
        }
    }

    @Test("the fast paths (bytes for ASCII, packed trigrams) answer as the plain Unicode rules do, for ASCII, Hebrew and marks")
    func fastPathsAgreeWithThePlainRules() {
        let pieces = ["INV", "inv", "-", " ", "#", "1001", "7", "00", "חשבונית", "שָׁלוֹם", "Café", "ltd", "בע\"מ", "/", "N", "42x", "é"]
        var generator = SystemRandomNumberGenerator()
        func plainNormalize(_ text: String) -> String { String(text.uppercased().filter { $0.isLetter || $0.isNumber }) }
        func plainTrigrams(_ text: String) -> Set<String> {
            let words = text.uppercased().split { !($0.isLetter || $0.isNumber || $0 == "\"" || $0 == "״") }.map(String.init)
                .filter { !BankMatching.legalForms.contains($0) }.map { $0.filter { $0.isLetter || $0.isNumber } }.filter { !$0.isEmpty }
            var result = Set<String>()
            for word in words {
                let padded = Array("  " + word + " ")
                for index in 0..<(padded.count - 2) { result.insert(String(padded[index..<(index + 3)])) }
            }
            return result
        }
        func plainSimilarity(_ a: String, _ b: String) -> Double {
            let (left, right) = (plainTrigrams(a), plainTrigrams(b))
            guard !left.isEmpty, !right.isEmpty else { return 0 }
            return Double(left.intersection(right).count) / Double(left.union(right).count)
        }
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 1...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(BankMatching.normalize(text) == plainNormalize(text), "\(text)")
            let number = plainNormalize(text)
            let digits = number.filter(\.isNumber)
            let byDigits = digits.count >= 3 && digits == number.drop(while: { !$0.isNumber }) && digits != number
            let keys = BankMatching.Index.keys(BankMatching.OpenInvoice(id: 1, customerID: 1, number: text, open: 1, dueDay: 0))
            #expect(keys.number == (number.count >= 3 ? number : nil), "\(text)")
            #expect(keys.digits == (byDigits ? digits : nil), "\(text)")
            let other = (0..<Int.random(in: 1...4, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined(separator: " ")
            #expect(BankMatching.trigrams(text).count == plainTrigrams(text).count, "\(text)")
            #expect(BankMatching.similarity(text, other) == plainSimilarity(text, other), "\(text) ~ \(other)")
        }
    }
}
