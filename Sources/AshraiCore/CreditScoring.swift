import Foundation

/// A credit grade, best first.
public enum Grade: String, Sendable, CaseIterable, Codable, Comparable {
    case A, B, C, D, E

    public static func < (lhs: Grade, rhs: Grade) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One balance sheet / income statement summary for a period.
public struct FinancialStatement: Sendable, Equatable {
    public var currentAssets: Decimal
    public var currentLiabilities: Decimal
    public var totalAssets: Decimal
    public var totalLiabilities: Decimal
    public var retainedEarnings: Decimal
    public var ebit: Decimal
    public var equity: Decimal
    public var revenue: Decimal

    public init(currentAssets: Decimal, currentLiabilities: Decimal, totalAssets: Decimal, totalLiabilities: Decimal,
                retainedEarnings: Decimal, ebit: Decimal, equity: Decimal, revenue: Decimal) {
        self.currentAssets = currentAssets
        self.currentLiabilities = currentLiabilities
        self.totalAssets = totalAssets
        self.totalLiabilities = totalLiabilities
        self.retainedEarnings = retainedEarnings
        self.ebit = ebit
        self.equity = equity
        self.revenue = revenue
    }
}

/// Altman's Z'' for private (and non-manufacturing) firms.
public struct AltmanZ: Sendable, Equatable {
    /// The zone the score falls in.
    public enum Zone: String, Sendable {
        case safe, grey, distress
    }

    /// X1 working capital / total assets.
    public let x1: Decimal
    /// X2 retained earnings / total assets.
    public let x2: Decimal
    /// X3 EBIT / total assets.
    public let x3: Decimal
    /// X4 book equity / total liabilities.
    public let x4: Decimal
    /// 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4, rounded to 4 decimals.
    public let score: Decimal

    /// Nil when total assets or total liabilities are not positive (the ratios are undefined).
    public init?(_ statement: FinancialStatement) {
        guard statement.totalAssets > 0, statement.totalLiabilities > 0 else { return nil }
        let ta = statement.totalAssets
        x1 = (statement.currentAssets - statement.currentLiabilities) / ta
        x2 = statement.retainedEarnings / ta
        x3 = statement.ebit / ta
        x4 = statement.equity / statement.totalLiabilities
        let raw = Decimal(string: "6.56")! * x1 + Decimal(string: "3.26")! * x2 + Decimal(string: "6.72")! * x3
            + Decimal(string: "1.05")! * x4
        score = Money.round(raw, scale: 4)
    }

    /// > 2.60 safe, 1.10–2.60 grey, < 1.10 distress.
    public var zone: Zone {
        if score > Decimal(string: "2.60")! { return .safe }
        if score >= Decimal(string: "1.10")! { return .grey }
        return .distress
    }
}

/// What is known of how the customer has paid us (from the ledger; empty until invoices exist).
public struct PaymentHistory: Sendable, Equatable {
    /// Invoices settled so far.
    public var settledInvoices: Int
    /// Share of settled amount paid by the due date, 0…1.
    public var shareOnTime: Decimal
    /// Amount-weighted average days late.
    public var weightedDaysLate: Decimal
    /// The worst delay in days.
    public var worstDelayDays: Int
    /// Promises to pay that were broken.
    public var brokenPromises: Int
    /// Disputes opened.
    public var disputes: Int
    /// Payments the bank brought back: bounced cheques, returned transfers, charge-backs.
    public var returnedPayments: Int

    public init(settledInvoices: Int = 0, shareOnTime: Decimal = 0, weightedDaysLate: Decimal = 0,
                worstDelayDays: Int = 0, brokenPromises: Int = 0, disputes: Int = 0, returnedPayments: Int = 0) {
        self.returnedPayments = returnedPayments
        self.settledInvoices = settledInvoices
        self.shareOnTime = shareOnTime
        self.weightedDaysLate = weightedDaysLate
        self.worstDelayDays = worstDelayDays
        self.brokenPromises = brokenPromises
        self.disputes = disputes
    }
}

/// Everything an assessment looks at.
public struct AssessmentInput: Sendable, Equatable {
    /// The latest statement, if any.
    public var financials: FinancialStatement?
    /// Ratings (1 worst … 5 best) of the references received.
    public var referenceRatings: [Int]
    /// How the customer paid so far.
    public var history: PaymentHistory
    /// Days since the customer was created.
    public var tenureDays: Int

    public init(financials: FinancialStatement? = nil, referenceRatings: [Int] = [], history: PaymentHistory = .init(), tenureDays: Int = 0) {
        self.financials = financials
        self.referenceRatings = referenceRatings
        self.history = history
        self.tenureDays = tenureDays
    }
}

/// One line of "why": the factor, the value seen, the points given, and a sentence.
public struct ScoreReason: Sendable, Equatable {
    public var factor: String
    public var value: String
    public var points: Int
    public var note: String
}

/// Suggested terms for a grade.
public struct SuggestedTerms: Sendable, Equatable {
    public var creditLimit: Decimal
    public var netDays: Int

    public init(creditLimit: Decimal, netDays: Int) {
        self.creditLimit = creditLimit
        self.netDays = netDays
    }
}

/// The scorecard: weights per factor (points at best), grade thresholds, suggested terms and
/// review intervals per grade. Configuration with these defaults (README, "Credit policy").
public struct CreditPolicy: Sendable, Equatable {
    /// Points for the Altman Z'' factor at its best (zone safe).
    public var altmanWeight = 35
    /// Points for liquidity (current ratio ≥ 2).
    public var liquidityWeight = 15
    /// Points for profitability (EBIT margin ≥ 10 %).
    public var profitabilityWeight = 10
    /// Points for trade/bank/bureau references (average rating 5).
    public var referencesWeight = 20
    /// Points for our own payment history (all paid on time, no broken promises).
    public var paymentHistoryWeight = 15
    /// Points for tenure (3 years or more).
    public var tenureWeight = 5
    /// Lowest score of grades A, B, C, D (below D's is E).
    public var gradeThresholds: [Grade: Int] = [.A: 80, .B: 65, .C: 50, .D: 35]
    /// Suggested terms per grade.
    public var suggestedTerms: [Grade: SuggestedTerms] = [
        .A: .init(creditLimit: 50_000, netDays: 60), .B: .init(creditLimit: 25_000, netDays: 45),
        .C: .init(creditLimit: 10_000, netDays: 30), .D: .init(creditLimit: 2_500, netDays: 15),
        .E: .init(creditLimit: 0, netDays: 0),
    ]
    /// Months between periodic reviews per grade.
    public var reviewMonths: [Grade: Int] = [.A: 12, .B: 6, .C: 3, .D: 2, .E: 1]

    public init() {}

    /// The most points a customer can get.
    public var maximumPoints: Int {
        altmanWeight + liquidityWeight + profitabilityWeight + referencesWeight + paymentHistoryWeight + tenureWeight
    }

    /// The grade of a 0–100 score.
    public func grade(forScore score: Int) -> Grade {
        for grade in [Grade.A, .B, .C, .D] where score >= (gradeThresholds[grade] ?? 101) { return grade }
        return .E
    }
}

/// The result of scoring.
public struct Assessment: Sendable, Equatable {
    public var score: Int
    public var grade: Grade
    public var reasons: [ScoreReason]
    public var altman: AltmanZ?
    public var suggestedTerms: SuggestedTerms
}

/// Scores a customer. Missing data earns no points (and says so), so a new customer with
/// nothing on file gets a cautious grade rather than an error.
public enum CreditScorer {
    /// `value` scaled linearly from `low` (0 points) to `high` (all `weight` points), clamped.
    static func linear(_ value: Decimal, low: Decimal, high: Decimal, weight: Int) -> Int {
        if value <= low { return 0 }
        if value >= high { return weight }
        let share = (value - low) / (high - low) * Decimal(weight)
        return NSDecimalNumber(decimal: Money.round(share, scale: 0)).intValue
    }

    static func text(_ value: Decimal, _ scale: Int = 2) -> String { "\(Money.round(value, scale: scale))" }

    /// The assessment of `input` under `policy`.
    public static func assess(_ input: AssessmentInput, policy: CreditPolicy = CreditPolicy()) -> Assessment {
        var reasons: [ScoreReason] = []
        var altman: AltmanZ?

        if let statement = input.financials {
            if let z = AltmanZ(statement) {
                altman = z
                let points: Int
                switch z.zone {
                case .safe: points = policy.altmanWeight
                case .grey: points = linear(z.score, low: Decimal(string: "1.10")!, high: Decimal(string: "2.60")!, weight: policy.altmanWeight)
                case .distress: points = 0
                }
                reasons.append(ScoreReason(factor: "altman_z", value: "\(z.score)", points: points,
                                           note: "Altman Z'' \(z.score) is in the \(z.zone.rawValue) zone (safe > 2.60, distress < 1.10)"))
            } else {
                reasons.append(ScoreReason(factor: "altman_z", value: "n/a", points: 0,
                                           note: "Altman Z'' cannot be computed: total assets and total liabilities must be positive"))
            }
            if statement.currentLiabilities > 0 {
                let ratio = statement.currentAssets / statement.currentLiabilities
                let points = linear(ratio, low: 1, high: 2, weight: policy.liquidityWeight)
                reasons.append(ScoreReason(factor: "current_ratio", value: text(ratio), points: points,
                                           note: "current assets cover current liabilities \(text(ratio))× (full points at 2×, none at 1× or less)"))
            } else {
                reasons.append(ScoreReason(factor: "current_ratio", value: "n/a", points: statement.currentAssets > 0 ? policy.liquidityWeight : 0,
                                           note: "no current liabilities reported"))
            }
            if statement.revenue > 0 {
                let margin = statement.ebit / statement.revenue * 100
                let points = linear(margin, low: 0, high: 10, weight: policy.profitabilityWeight)
                reasons.append(ScoreReason(factor: "ebit_margin", value: text(margin) + "%", points: points,
                                           note: "EBIT margin \(text(margin))% (full points at 10%, none at 0% or a loss)"))
            } else {
                reasons.append(ScoreReason(factor: "ebit_margin", value: "n/a", points: 0, note: "no revenue reported"))
            }
        } else {
            reasons.append(ScoreReason(factor: "financials", value: "none", points: 0,
                                       note: "no financial statements on file: ask for the latest balance sheet"))
        }

        if input.referenceRatings.isEmpty {
            reasons.append(ScoreReason(factor: "references", value: "none", points: 0,
                                       note: "no trade, bank or bureau references on file"))
        } else {
            let average = Decimal(input.referenceRatings.reduce(0, +)) / Decimal(input.referenceRatings.count)
            let points = linear(average, low: 1, high: 5, weight: policy.referencesWeight)
            reasons.append(ScoreReason(factor: "references", value: text(average), points: points,
                                       note: "\(input.referenceRatings.count) reference(s) rated \(text(average)) on average (1 worst, 5 best)"))
        }

        let history = input.history
        if history.settledInvoices == 0 {
            reasons.append(ScoreReason(factor: "payment_history", value: "none", points: 0,
                                       note: history.returnedPayments > 0 ? "nothing settled yet; \(history.returnedPayments) payment(s) returned by the bank"
                                                                          : "no payment history with us yet"))
        } else {
            var points = linear(history.shareOnTime, low: 0, high: 1, weight: policy.paymentHistoryWeight)
            points = max(0, points - 3 * history.brokenPromises - 5 * history.returnedPayments)
            reasons.append(ScoreReason(
                factor: "payment_history", value: text(history.shareOnTime * 100, 0) + "% on time", points: points,
                note: "\(text(history.shareOnTime * 100, 0))% of the amount paid on time, \(text(history.weightedDaysLate, 1)) days late on average, worst \(history.worstDelayDays) days, \(history.brokenPromises) broken promise(s) (−3 each), \(history.returnedPayments) returned payment(s) (−5 each), \(history.disputes) dispute(s)"))
        }

        let tenurePoints = linear(Decimal(input.tenureDays), low: 0, high: 3 * 365, weight: policy.tenureWeight)
        reasons.append(ScoreReason(factor: "tenure", value: "\(input.tenureDays) days", points: tenurePoints,
                                   note: "a customer for \(input.tenureDays) days (full points at 3 years)"))

        let points = reasons.reduce(0) { $0 + $1.points }
        let maximum = max(policy.maximumPoints, 1)
        let score = NSDecimalNumber(decimal: Money.round(Decimal(points) * 100 / Decimal(maximum), scale: 0)).intValue
        let grade = policy.grade(forScore: min(100, max(0, score)))
        return Assessment(score: min(100, max(0, score)), grade: grade, reasons: reasons, altman: altman,
                          suggestedTerms: policy.suggestedTerms[grade] ?? .init(creditLimit: 0, netDays: 0))
    }
}

/// The credit decision `credit.check` makes.
public struct CreditDecision: Sendable, Equatable {
    public var allowed: Bool
    public var available: Decimal
    public var reasons: [String]

    /// Whether `amount` more may be given on credit: never on hold or closed; otherwise
    /// when exposure + amount stays within the limit.
    public static func check(amount: Decimal, creditLimit: Decimal, exposure: Decimal, status: CustomerStatus) -> CreditDecision {
        let available = max(0, creditLimit - exposure)
        var reasons: [String] = []
        if status == .onHold { reasons.append("customer is on credit hold") }
        if status == .closed { reasons.append("customer account is closed") }
        if creditLimit <= 0 { reasons.append("no credit limit: cash only") }
        if exposure + amount > creditLimit {
            reasons.append("exposure \(Money(exposure).text) + \(Money(amount).text) exceeds the limit \(Money(creditLimit).text) by \(Money(exposure + amount - creditLimit).text)")
        }
        return CreditDecision(allowed: reasons.isEmpty, available: available, reasons: reasons)
    }
}

/// The credit decision on one new invoice (the same rule for `invoices.create` and bulk imports).
public enum InvoiceDecision: Equatable, Sendable {
    /// Issue it; `overLimit` when a manager's override took it past the limit.
    case allowed(overLimit: Bool)
    /// Refuse it by rule.
    case refused(rule: BusinessRule, message: String)

    /// Decides: on hold and closed refuse; another currency than the terms' refuses; past the
    /// limit refuses unless there is an override (whose author the caller has checked).
    public static func decide(status: CustomerStatus, currency: String, termsCurrency: String, creditLimit: Decimal,
                              exposure: Decimal, amount: Decimal, hasOverride: Bool) -> InvoiceDecision {
        switch status {
        case .onHold: return .refused(rule: .customerOnHold, message: "the customer is on credit hold")
        case .closed: return .refused(rule: .customerClosed, message: "the customer's account is closed")
        case .active: break
        }
        guard currency == termsCurrency else {
            return .refused(rule: .currencyMismatch, message: "the customer's terms are in \(termsCurrency)")
        }
        let overLimit = exposure + amount > creditLimit
        if overLimit && !hasOverride {
            return .refused(rule: .creditLimit, message: "the invoice would take the customer over the credit limit")
        }
        return .allowed(overLimit: overLimit)
    }
}
