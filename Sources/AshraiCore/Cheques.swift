import Foundation

/// Where a cheque received from a customer stands.
public enum ChequeStatus: String, Sendable, CaseIterable, Codable {
    /// Post-dated (שיק דחוי): held until its value date; not money yet.
    case inHand = "in_hand"
    /// Its value date came, or a statement showed it cleared: it is a payment now.
    case applied
    /// The bank returned it (שיק חוזר).
    case bounced
    /// Given back to the customer (replaced, or recorded by mistake) before it was applied.
    case cancelled
}

/// A cheque as written on its face: bank, branch, account and number identify it; the value
/// date (the date written on it) is the first day it can be paid.
public struct ChequeDetails: Sendable, Equatable {
    public var number: String
    public var bank: String
    public var branch: String
    public var account: String
    public var valueDay: Int

    public init(number: String, bank: String, branch: String, account: String, valueDay: Int) {
        self.number = number
        self.bank = bank
        self.branch = branch
        self.account = account
        self.valueDay = valueDay
    }

    /// What is wrong with the details (the first problem, by field), or nil. Israeli cheques carry
    /// a two- or three-digit bank code, a branch of up to four digits, the account (up to 20 digits
    /// once spaces and dashes are taken out), and a serial number of up to 10 digits.
    public var problem: (field: String, message: String)? {
        func digits(_ s: String, _ range: ClosedRange<Int>) -> Bool {
            range.contains(s.count) && s.allSatisfy { $0.isASCII && $0.isNumber }
        }
        if !digits(number, 1...10) { return ("cheque.number", "cheque.number must be 1 to 10 digits") }
        if !digits(bank, 1...3) { return ("cheque.bank", "cheque.bank must be the bank's code, 1 to 3 digits (10 Leumi, 12 Hapoalim, …)") }
        if !digits(branch, 1...4) { return ("cheque.branch", "cheque.branch must be 1 to 4 digits") }
        if !digits(account, 1...20) { return ("cheque.account", "cheque.account must be 1 to 20 digits") }
        return nil
    }

    /// The account as written, without the spaces, dashes and slashes people put in it.
    public static func normalizedAccount(_ text: String) -> String {
        String(text.filter { !" -/.".contains($0) })
    }
}

/// The rules of post-dated cheques.
public enum Cheques {
    /// A cheque is money from its value date on; before that it is held (and pauses dunning).
    public static func isPostDated(valueDay: Int, today: Int) -> Bool { valueDay > today }

    /// The allocation a cheque carries when it is applied: the lines it was meant for, each cut to
    /// what the invoice still owes (another payment may have come in meanwhile); invoices no longer
    /// open are dropped. Empty: allocate oldest first, as any payment.
    public static func linesAtApplication(planned: [AllocationLine], openAmounts: [Int64: Decimal]) -> [AllocationLine] {
        planned.compactMap { line in
            guard let open = openAmounts[line.invoiceID], open > 0 else { return nil }
            return AllocationLine(invoiceID: line.invoiceID, amount: min(line.amount, open))
        }
    }

    /// A cheque held, as the statement matcher sees it.
    public struct Held: Sendable, Equatable {
        public var id: Int64
        public var number: String
        public var amount: Decimal
        public var valueDay: Int

        public init(id: Int64, number: String, amount: Decimal, valueDay: Int) {
            self.id = id
            self.number = number
            self.amount = amount
            self.valueDay = valueDay
        }
    }

    /// Words banks write on a cheque deposit line.
    static let depositWords = ["שיק", "שק", "צ'ק", "שיקים", "CHEQUE", "CHECK", "CHQ"]

    /// The held cheque a bank credit clears, or nil. The amount must be the cheque's, the line may not
    /// come before the value date (less a few days of bank lag), and either the cheque's number is in
    /// the line (leading zeros aside), or the line says it is a cheque, comes within `lateDays` of the
    /// value date, and exactly one held cheque fits.
    public static func cleared(amount: Decimal, text: String, bookingDay: Int, held: [Held], earlyDays: Int = 3,
                               lateDays: Int = 14) -> Held? {
        let fits = held.filter { $0.amount == amount && bookingDay >= $0.valueDay - earlyDays }
        guard !fits.isEmpty else { return nil }
        let numbers = Set(BankMatching.tokens(text).flatMap(\.digitRuns).map(stripZeros))
        let byNumber = fits.filter { numbers.contains(stripZeros($0.number)) }
        if byNumber.count == 1 { return byNumber[0] }
        if byNumber.count > 1 { return byNumber.min { abs($0.valueDay - bookingDay) < abs($1.valueDay - bookingDay) } }
        let upper = text.uppercased()
        let recent = fits.filter { bookingDay <= $0.valueDay + lateDays }
        guard recent.count == 1, depositWords.contains(where: { upper.contains($0) }) else { return nil }
        return recent[0]
    }

    static func stripZeros(_ digits: String) -> String {
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
