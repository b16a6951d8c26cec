import Foundation

/// Whom to call today, and why: the collector's worklist ranked by expected loss.
public enum Worklist {
    /// What the ranking knows of one customer on the day.
    public struct Account: Sendable, Equatable {
        public var customerID: Int64
        /// Owed and past its due date.
        public var overdue: Decimal
        /// Days past due of the oldest overdue invoice (0: nothing overdue).
        public var daysPastDue: Int
        public var grade: Grade?
        /// Promises to pay broken in the last 180 days.
        public var brokenPromises: Int
        /// Overdue invoices under an open dispute.
        public var disputedInvoices: Int
        /// The next open promise's due day, if one is running.
        public var promiseDueDay: Int?
        /// The earliest open task's due day and kind.
        public var taskDueDay: Int?
        public var taskKind: TaskKind?

        public init(customerID: Int64, overdue: Decimal, daysPastDue: Int, grade: Grade? = nil, brokenPromises: Int = 0, disputedInvoices: Int = 0,
                    promiseDueDay: Int? = nil, taskDueDay: Int? = nil, taskKind: TaskKind? = nil) {
            self.customerID = customerID
            self.overdue = overdue
            self.daysPastDue = daysPastDue
            self.grade = grade
            self.brokenPromises = brokenPromises
            self.disputedInvoices = disputedInvoices
            self.promiseDueDay = promiseDueDay
            self.taskDueDay = taskDueDay
            self.taskKind = taskKind
        }
    }

    /// A ranked row: the account, its probability of not being collected, the expected loss, why it is
    /// on the list and what to do next.
    public struct Row: Sendable, Equatable {
        public var account: Account
        public var probability: Double
        public var expectedLoss: Decimal
        public var reason: String
        public var nextAction: String
    }

    /// The chance an overdue amount is never collected, by days past due: the prior, from the usual
    /// allowance rates for aged receivables (1–30 days 5 %, 31–60 12 %, 61–90 25 %, 91–180 45 %,
    /// 181–365 65 %, over a year 85 %).
    public static let priorByAge: [(upTo: Int, probability: Double)] = [
        (30, 0.05), (60, 0.12), (90, 0.25), (180, 0.45), (365, 0.65), (Int.max, 0.85),
    ]

    /// What the ledger's settled history says of one age bucket: the settled invoices (paid, written off,
    /// credited) that were at least the bucket's first day past due when they were settled, their amount,
    /// and how much of it was written off.
    public struct BucketHistory: Sendable, Equatable {
        public var invoices: Int
        public var amount: Decimal
        public var writtenOff: Decimal

        public init(invoices: Int, amount: Decimal, writtenOff: Decimal) {
            self.invoices = invoices
            self.amount = amount
            self.writtenOff = writtenOff
        }
    }

    /// The first day past due of each bucket of `priorByAge`.
    public static var bucketStarts: [Int] { [1] + priorByAge.dropLast().map { $0.upTo + 1 } }

    /// The ledger's own probability per age bucket, where its history is enough: the written-off share
    /// of the settled amount that reached that age, shrunk toward the prior as if `priorWeight` invoices
    /// had followed it (so a few hundred invoices move it part of the way, thousands nearly all of it).
    /// Nil — the prior alone — for a bucket fewer than `minimum` settled invoices reached.
    public static func calibrated(_ history: [BucketHistory], minimum: Int = 100, priorWeight: Double = 200) -> [Double?] {
        priorByAge.indices.map { bucket in
            guard bucket < history.count, history[bucket].invoices >= minimum, history[bucket].amount > 0 else { return nil }
            let h = history[bucket]
            let rate = NSDecimalNumber(decimal: h.writtenOff / h.amount).doubleValue
            let n = Double(h.invoices)
            return min(0.99, max(0.01, (n * rate + priorWeight * priorByAge[bucket].probability) / (n + priorWeight)))
        }
    }

    /// The probability of not collecting: the age prior (or the ledger's own rate for that age, when
    /// `calibrated` gives one), moved on the log-odds scale by the grade (A −1.0, B −0.5, C 0, D +0.5,
    /// E +1.0, none 0), by 0.5 for each promise broken lately (at most three count) and by 0.4 when an
    /// overdue invoice is disputed. Between 0.01 and 0.99. Nothing overdue: 0.
    public static func probability(_ account: Account, calibrated: [Double?] = []) -> Double {
        guard account.overdue > 0, account.daysPastDue > 0 else { return 0 }
        let bucket = priorByAge.firstIndex { account.daysPastDue <= $0.upTo } ?? priorByAge.count - 1
        let base = (bucket < calibrated.count ? calibrated[bucket] : nil) ?? priorByAge[bucket].probability
        let gradeShift: Double = switch account.grade {
        case .A: -1.0
        case .B: -0.5
        case .C, nil: 0
        case .D: 0.5
        case .E: 1.0
        }
        let logit = log(base / (1 - base)) + gradeShift + 0.5 * Double(min(account.brokenPromises, 3)) + (account.disputedInvoices > 0 ? 0.4 : 0)
        return min(0.99, max(0.01, 1 / (1 + exp(-logit))))
    }

    /// The accounts ranked: the bigger expected loss (overdue × probability, to the agora) first; ties
    /// by the nearer promise, then the earlier task due, then the customer id.
    public static func rank(_ accounts: [Account], today: Int, calibrated: [Double?] = [], currencyText: (Decimal) -> String) -> [Row] {
        let rows = accounts.map { account -> Row in
            let p = probability(account, calibrated: calibrated)
            let loss = Money.round(account.overdue * Decimal(Int((p * 1_000_000).rounded())) / 1_000_000, scale: 2)
            return Row(account: account, probability: p, expectedLoss: loss, reason: reason(account, today: today, currencyText: currencyText),
                       nextAction: nextAction(account, today: today))
        }
        return rows.sorted { a, b in
            if a.expectedLoss != b.expectedLoss { return a.expectedLoss > b.expectedLoss }
            let (pa, pb) = (a.account.promiseDueDay ?? Int.max, b.account.promiseDueDay ?? Int.max)
            if pa != pb { return pa < pb }
            let (ta, tb) = (a.account.taskDueDay ?? Int.max, b.account.taskDueDay ?? Int.max)
            if ta != tb { return ta < tb }
            return a.account.customerID < b.account.customerID
        }
    }

    /// Why the account is on the list, in a clerk's words.
    public static func reason(_ account: Account, today: Int, currencyText: (Decimal) -> String) -> String {
        var parts: [String] = []
        if account.overdue > 0 { parts.append("\(currencyText(account.overdue)) overdue, the oldest \(account.daysPastDue) days") }
        if account.brokenPromises > 0 { parts.append(account.brokenPromises == 1 ? "a promise broken" : "\(account.brokenPromises) promises broken") }
        if account.disputedInvoices > 0 { parts.append(account.disputedInvoices == 1 ? "an invoice disputed" : "\(account.disputedInvoices) invoices disputed") }
        if let grade = account.grade, grade >= .D { parts.append("grade \(grade.rawValue)") }
        if let due = account.taskDueDay, let kind = account.taskKind {
            parts.append("a \(kind.rawValue.replacingOccurrences(of: "_", with: " ")) task due \(due < today ? "since \(today - due) days" : due == today ? "today" : "in \(due - today) days")")
        }
        return parts.isEmpty ? "nothing overdue" : parts.joined(separator: "; ")
    }

    /// What to do next: a task due comes first; a promise still running is waited for; a dispute is
    /// reviewed; otherwise a call, or — long overdue and promises broken — a final notice or an agency.
    public static func nextAction(_ account: Account, today: Int) -> String {
        if let due = account.taskDueDay, due <= today, let kind = account.taskKind {
            switch kind {
            case .call, .manual: return "call"
            case .followUpPromise: return "call about the broken promise"
            case .disputeReview: return "review the dispute"
            case .failedMessage: return "fix the contact details and resend"
            case .reviewDue: return "review the customer's credit"
            case .planMissed: return "call about the missed installment"
            }
        }
        if let promise = account.promiseDueDay, promise >= today { return "wait for the promise (due in \(promise - today) days)" }
        if account.disputedInvoices > 0 { return "review the dispute" }
        if account.daysPastDue > 90 && account.brokenPromises > 0 { return "final notice, then an agency" }
        return account.overdue > 0 ? "call" : "nothing"
    }
}
