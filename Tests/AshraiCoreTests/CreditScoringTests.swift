import AshraiCore
import Foundation
import Testing

@Suite("credit scoring")
struct CreditScoringTests {
    static func d(_ text: String) -> Decimal { Decimal(string: text)! }

    /// A healthy firm: CA 400k, CL 200k, TA 1M, TL 500k, RE 300k, EBIT 150k, equity 500k, revenue 2M.
    static let healthy = FinancialStatement(
        currentAssets: 400_000, currentLiabilities: 200_000, totalAssets: 1_000_000, totalLiabilities: 500_000,
        retainedEarnings: 300_000, ebit: 150_000, equity: 500_000, revenue: 2_000_000)

    @Test("Altman Z'' by hand: X1 0.2, X2 0.3, X3 0.15, X4 1.0 → 1.312 + 0.978 + 1.008 + 1.05 = 4.348, safe")
    func altmanSafe() throws {
        let z = try #require(AltmanZ(Self.healthy))
        #expect(z.x1 == Self.d("0.2") && z.x2 == Self.d("0.3") && z.x3 == Self.d("0.15") && z.x4 == 1)
        #expect(z.score == Self.d("4.348"))
        #expect(z.zone == .safe)
    }

    @Test("Altman Z'' grey and distress: 0.328 + 0.326 + 0.336 + 0.2625 = 1.2525 (grey); negative equity → distress")
    func altmanZones() throws {
        let grey = FinancialStatement(currentAssets: 300_000, currentLiabilities: 250_000, totalAssets: 1_000_000,
                                      totalLiabilities: 800_000, retainedEarnings: 100_000, ebit: 50_000, equity: 200_000, revenue: 900_000)
        let z = try #require(AltmanZ(grey))
        #expect(z.score == Self.d("1.2525"))
        #expect(z.zone == .grey)
        let failing = FinancialStatement(currentAssets: 100_000, currentLiabilities: 300_000, totalAssets: 500_000,
                                         totalLiabilities: 700_000, retainedEarnings: -250_000, ebit: -40_000, equity: -200_000, revenue: 300_000)
        // X1 −0.4, X2 −0.5, X3 −0.08, X4 −0.2857… → −2.624 − 1.63 − 0.5376 − 0.3 = −5.0916
        #expect(AltmanZ(failing)?.score == Self.d("-5.0916"))
        #expect(AltmanZ(failing)?.zone == .distress)
        #expect(AltmanZ(FinancialStatement(currentAssets: 1, currentLiabilities: 1, totalAssets: 0, totalLiabilities: 1,
                                           retainedEarnings: 0, ebit: 0, equity: 0, revenue: 0)) == nil)
    }

    @Test("grade boundaries: A ≥ 80, B ≥ 65, C ≥ 50, D ≥ 35, else E")
    func gradeBoundaries() throws {
        let policy = CreditPolicy()
        #expect(policy.grade(forScore: 80) == .A)
        #expect(policy.grade(forScore: 79) == .B)
        #expect(policy.grade(forScore: 65) == .B)
        #expect(policy.grade(forScore: 64) == .C)
        #expect(policy.grade(forScore: 50) == .C)
        #expect(policy.grade(forScore: 49) == .D)
        #expect(policy.grade(forScore: 35) == .D)
        #expect(policy.grade(forScore: 34) == .E)
        #expect(policy.grade(forScore: 0) == .E)
        #expect(policy.grade(forScore: 100) == .A)
    }

    @Test("the scorecard by hand: 35 + 15 + 8 + 17 + 0 + 2 = 77 → B, limit 25,000 net 45")
    func scorecard() {
        let input = AssessmentInput(financials: Self.healthy, referenceRatings: [5, 4, 4], tenureDays: 365)
        let result = CreditScorer.assess(input)
        let points = Dictionary(uniqueKeysWithValues: result.reasons.map { ($0.factor, $0.points) })
        #expect(points["altman_z"] == 35)          // safe zone: all points
        #expect(points["current_ratio"] == 15)     // 2.0×: all points
        #expect(points["ebit_margin"] == 8)        // 7.5 % of 10 % → 7.5 → 8 (half-even)
        #expect(points["references"] == 17)        // (4.33 − 1) / 4 · 20 = 16.67 → 17
        #expect(points["payment_history"] == 0)    // none yet
        #expect(points["tenure"] == 2)             // 365 / 1095 · 5 = 1.67 → 2
        #expect(result.score == 77)
        #expect(result.grade == .B)
        #expect(result.suggestedTerms == SuggestedTerms(creditLimit: 25_000, netDays: 45))
        #expect(result.reasons.allSatisfy { !$0.note.isEmpty })
    }

    @Test("a new customer with nothing on file gets E and cash-only terms, with reasons saying what is missing")
    func newCustomer() {
        let result = CreditScorer.assess(AssessmentInput())
        #expect(result.score == 0)
        #expect(result.grade == .E)
        #expect(result.suggestedTerms == SuggestedTerms(creditLimit: 0, netDays: 0))
        #expect(result.reasons.contains { $0.factor == "financials" && $0.note.contains("no financial statements") })
        #expect(result.reasons.contains { $0.factor == "references" && $0.points == 0 })
    }

    @Test("payment history counts, broken promises cost 3 points each")
    func history() {
        let good = PaymentHistory(settledInvoices: 10, shareOnTime: 1, weightedDaysLate: 0, worstDelayDays: 0)
        let bad = PaymentHistory(settledInvoices: 10, shareOnTime: Self.d("0.6"), weightedDaysLate: 12, worstDelayDays: 40, brokenPromises: 2)
        let points = { (h: PaymentHistory) in CreditScorer.assess(AssessmentInput(history: h)).reasons.first { $0.factor == "payment_history" }!.points }
        #expect(points(good) == 15)
        #expect(points(bad) == 3)   // 0.6 · 15 = 9, − 2 · 3 = 3
        // A payment the bank brought back (a bounced cheque) costs 5.
        var returned = good
        returned.returnedPayments = 2
        #expect(points(returned) == 5)   // 15 − 2 · 5
        let note = CreditScorer.assess(AssessmentInput(history: returned)).reasons.first { $0.factor == "payment_history" }!.note
        #expect(note.contains("2 returned payment(s)"))
    }

    @Test("weights and thresholds are configuration: doubling references changes the score")
    func configurable() {
        var policy = CreditPolicy()
        policy.referencesWeight = 40
        policy.altmanWeight = 15
        let result = CreditScorer.assess(AssessmentInput(referenceRatings: [5]), policy: policy)
        #expect(result.score == 40)   // 40 of 100 points
        #expect(result.grade == .D)
    }

    @Test("credit check: within limit allowed; over limit, on hold or closed refused with reasons")
    func check() {
        #expect(CreditDecision.check(amount: 500, creditLimit: 1000, exposure: 400, status: .active).allowed)
        let over = CreditDecision.check(amount: 700, creditLimit: 1000, exposure: 400, status: .active)
        #expect(!over.allowed && over.available == 600)
        #expect(over.reasons.first?.contains("exceeds the limit 1000.00 by 100.00") == true)
        #expect(!CreditDecision.check(amount: 1, creditLimit: 1000, exposure: 0, status: .onHold).allowed)
        #expect(!CreditDecision.check(amount: 1, creditLimit: 1000, exposure: 0, status: .closed).allowed)
        #expect(!CreditDecision.check(amount: 1, creditLimit: 0, exposure: 0, status: .active).allowed)
    }
}
