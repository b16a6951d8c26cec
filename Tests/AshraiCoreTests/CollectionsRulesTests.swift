import AshraiCore
import Foundation
import Testing

private func d(_ text: String) -> Decimal { Decimal(string: text)! }
/// Days since 1970-01-01 of a civil date (via Foundation, independently of the code under test).
private func day(_ y: Int, _ m: Int, _ dd: Int) -> Int {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(from: DateComponents(year: y, month: m, day: dd))!
    return Int(date.timeIntervalSince1970 / 86_400)
}

@Suite("installment plans")
struct InstallmentPlanTests {
    @Test("the schedule splits evenly to the agora, the remainder on the last, and sums exactly")
    func evenSplit() {
        let schedule = InstallmentPlan.schedule(total: d("1000.00"), downPayment: 0, count: 3, frequency: .monthly,
                                                firstDueDay: day(2026, 1, 15), downPaymentDay: day(2026, 1, 1))
        #expect(schedule.map(\.amount) == [d("333.33"), d("333.33"), d("333.34")])
        #expect(schedule.map(\.seq) == [1, 2, 3])
        for (total, count) in [("0.05", 3), ("999.99", 7), ("12345.67", 12), ("100.00", 1), ("0.10", 10)] {
            let parts = InstallmentPlan.schedule(total: d(total), downPayment: 0, count: count, frequency: .weekly,
                                                 firstDueDay: 0, downPaymentDay: 0)
            #expect(parts.reduce(0) { $0 + $1.amount } == d(total), "\(total)/\(count)")
            #expect(parts.count == count)
        }
    }

    @Test("a down payment is installment 0 and the rest is split")
    func downPayment() {
        let schedule = InstallmentPlan.schedule(total: d("1000.00"), downPayment: d("100.00"), count: 4, frequency: .biweekly,
                                                firstDueDay: day(2026, 3, 1), downPaymentDay: day(2026, 2, 20))
        #expect(schedule.map(\.amount) == [d("100.00"), d("225.00"), d("225.00"), d("225.00"), d("225.00")])
        #expect(schedule.map(\.dueDay) == [day(2026, 2, 20), day(2026, 3, 1), day(2026, 3, 15), day(2026, 3, 29), day(2026, 4, 12)])
    }

    @Test("monthly dates keep the day of the month, or the month's last day when it is shorter")
    func monthlyDates() {
        let first = day(2027, 1, 31)
        let days = (0..<4).map { InstallmentPlan.dueDay(first: first, index: $0, frequency: .monthly) }
        #expect(days == [day(2027, 1, 31), day(2027, 2, 28), day(2027, 3, 31), day(2027, 4, 30)])
        #expect(InstallmentPlan.dueDay(first: day(2028, 1, 31), index: 1, frequency: .monthly) == day(2028, 2, 29))   // leap year
    }

    @Test("interest is simple, daily at annual/365, on what is financed, rounded once")
    func interest() {
        // 900.00 financed at 12 % for 90 days: 900 × 12 × 90 / 36500 = 26.630… → 26.63
        #expect(InstallmentPlan.interest(financed: d("900.00"), annualRatePercent: 12, fromDay: 0, toDay: 90) == d("26.63"))
        #expect(InstallmentPlan.interest(financed: d("900.00"), annualRatePercent: 0, fromDay: 0, toDay: 90) == 0)
    }

    @Test("payments fill installments in order; default exactly after the grace days")
    func standing() {
        let schedule = InstallmentPlan.schedule(total: d("300.00"), downPayment: 0, count: 3, frequency: .weekly, firstDueDay: 100, downPaymentDay: 90)
        // 150 paid: installment 1 in full, 2 half.
        let mid = InstallmentPlan.standing(schedule, paidTotal: d("150.00"), asOfDay: 107, graceDays: 5)
        #expect(mid.paid == [d("100.00"), d("50.00"), 0])
        #expect(mid.defaultedSeq == nil && !mid.completed && mid.remaining == d("150.00"))
        // Installment 2 is due on day 107: still fine on day 112 (grace 5), in default on day 113.
        #expect(InstallmentPlan.standing(schedule, paidTotal: d("150.00"), asOfDay: 112, graceDays: 5).defaultedSeq == nil)
        #expect(InstallmentPlan.standing(schedule, paidTotal: d("150.00"), asOfDay: 113, graceDays: 5).defaultedSeq == 2)
        #expect(InstallmentPlan.standing(schedule, paidTotal: d("300.00"), asOfDay: 500, graceDays: 0).completed)
    }
}

@Suite("promises to pay")
struct PromiseStatusTests {
    @Test("kept when covered (even early), open until its day, broken the day after")
    func boundary() {
        #expect(PromiseStatus.evaluate(amount: 500, dueDay: 10, paidInWindow: 500, asOfDay: 5) == .kept)
        #expect(PromiseStatus.evaluate(amount: 500, dueDay: 10, paidInWindow: 499.99, asOfDay: 10) == .open)
        #expect(PromiseStatus.evaluate(amount: 500, dueDay: 10, paidInWindow: 499.99, asOfDay: 11) == .broken)
        #expect(PromiseStatus.evaluate(amount: 500, dueDay: 10, paidInWindow: 600, asOfDay: 11) == .kept)
    }
}

@Suite("dunning rules")
struct DunningRulesTests {
    static let policy: [Dunning.Level] = [
        .init(level: 1, daysOverdue: 3, action: .reminder, template: "reminder"),
        .init(level: 2, daysOverdue: 15, action: .letter, template: "letter"),
        .init(level: 3, daysOverdue: 30, action: .final_notice, template: "final_notice", fee: 25),
        .init(level: 4, daysOverdue: 45, action: .hold, template: "hold_notice"),
        .init(level: 5, daysOverdue: 60, action: .refer_to_agency, template: "referral"),
    ]

    func decide(_ days: Int, reached: Set<Int> = [], pause: Dunning.Pause? = nil, deadline: Int? = nil, asOf: Int = 1000) -> Dunning.Decision {
        Dunning.decide(Dunning.Invoice(daysOverdue: days, reached: reached, pause: pause, lastDateToPay: deadline), levels: Self.policy, asOfDay: asOf)
    }

    @Test("day by day each level fires once, on its day")
    func dayByDay() {
        var reached: Set<Int> = []
        var fired: [Int: Int] = [:]   // level → day
        for days in 0...70 {
            if case .advance(let level) = decide(days, reached: reached, deadline: nil, asOf: 0) {
                reached.insert(level.level)
                fired[level.level] = days
            }
        }
        #expect(fired == [1: 3, 2: 15, 3: 30, 4: 45, 5: 60])
    }

    @Test("after downtime it goes straight to the level earned, never back to a skipped one")
    func catchUp() {
        #expect(decide(20, reached: []) == .advance(Self.policy[1]))            // day 20, nothing sent: the letter, not the reminder
        #expect(decide(20, reached: [2]) == Dunning.Decision.none)              // and not again
        #expect(decide(35, reached: [1]) == .advance(Self.policy[2]))           // skips level 2 for good
        #expect(decide(40, reached: [1, 3]) == Dunning.Decision.none)
    }

    @Test("a sanction waits for a letter and for the last date to pay it stated")
    func sanctionsWaitForWords() {
        // Earned the hold but was never written to, or only reminded: the final notice goes first.
        #expect(decide(50, reached: []) == .advance(Self.policy[2]))
        #expect(decide(65, reached: [1, 2]) == .advance(Self.policy[2]))
        // Written to, deadline still ahead: held back.
        #expect(decide(50, reached: [3], deadline: 1005, asOf: 1000) == .skip(level: 4, .awaitingDeadline))
        #expect(decide(50, reached: [3], deadline: 1000, asOf: 1000) == .skip(level: 4, .awaitingDeadline))
        #expect(decide(50, reached: [3], deadline: 999, asOf: 1000) == .advance(Self.policy[3]))
    }

    @Test("a sanction reached by catch-up brings the lower sanctions with it; a message comes alone")
    func stackedSanctions() {
        #expect(decide(70, reached: [3], deadline: 900) == .advance(Self.policy[4]))
        #expect(Dunning.levelsToApply(for: Self.policy[4], levels: Self.policy, reached: [3]).map(\.level) == [4, 5])
        #expect(Dunning.levelsToApply(for: Self.policy[4], levels: Self.policy, reached: [3, 4]).map(\.level) == [5])
        #expect(Dunning.levelsToApply(for: Self.policy[2], levels: Self.policy, reached: []).map(\.level) == [3])
    }

    @Test("a paused invoice is reported with its reason and not moved")
    func pauses() {
        #expect(decide(20, pause: .disputed) == .skip(level: 2, .disputed))
        #expect(decide(2, pause: .disputed) == Dunning.Decision.none)   // nothing due anyway: not reported
    }

    @Test("a policy is checked: order, increasing days, names, no sanction first")
    func validation() throws {
        try Dunning.validate(Self.policy)
        #expect(throws: Dunning.PolicyError.self) { try Dunning.validate([]) }
        #expect(throws: Dunning.PolicyError.self) { try Dunning.validate([Self.policy[1], Self.policy[0]]) }
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([.init(level: 1, daysOverdue: 10, action: .hold, template: "hold_notice")])
        }
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([.init(level: 1, daysOverdue: 10, action: .reminder, template: "../etc/passwd")])
        }
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([.init(level: 1, daysOverdue: 10, action: .reminder, template: "a"), .init(level: 2, daysOverdue: 10, action: .letter, template: "b")])
        }
    }

    @Test("letters write amounts and dates as the language does")
    func formats() {
        #expect(LetterFormat.amount(d("1234567.5"), currency: .ils, language: "he") == "1,234,567.50 ₪")
        #expect(LetterFormat.amount(d("999.99"), currency: .ils, language: "en") == "ILS 999.99")
        #expect(LetterFormat.date(year: 2026, month: 3, day: 5, language: "he") == "05/03/2026")
        #expect(LetterFormat.date(year: 2026, month: 3, day: 5, language: "en") == "5 Mar 2026")
    }
}

@Suite("commission")
struct CommissionTests {
    @Test("commission is half-even to the agora, once on what was collected")
    func arithmetic() {
        #expect(Commission.due(collected: Decimal(string: "1234.57")!, ratePercent: Decimal(string: "17.5")!) == Decimal(string: "216.05")!)
        #expect(Commission.due(collected: Decimal(string: "10.10")!, ratePercent: 25) == Decimal(string: "2.52")!)   // 2.525 → 2.52
        #expect(Commission.due(collected: Decimal(string: "10.30")!, ratePercent: 25) == Decimal(string: "2.58")!)   // 2.575 → 2.58
        #expect(Commission.due(collected: 0, ratePercent: 30) == 0)
        #expect(Commission.recoveryRate(collected: Decimal(string: "1244.67")!, assigned: 2000) == Decimal(string: "62.2")!)
        #expect(Commission.recoveryRate(collected: 5, assigned: 0) == nil)
    }
}

@Suite("KPIs")
struct KPITests {
    @Test("countback DSO: the issue's example, exactly")
    func countback() {
        // 212,000 against 100,000, 80,000, 70,000 in 30-day months: 30 + 30 + 30 × 32/70 = 73.714…
        let days = KPI.countbackDSO(endingAR: 212_000, months: [(100_000, 30), (80_000, 30), (70_000, 30)])!
        #expect(Money.round(days, scale: 1) == Decimal(string: "73.7")!)
        #expect(KPI.countbackDSO(endingAR: 0, months: [(100, 30)]) == 0)
        #expect(KPI.countbackDSO(endingAR: 500, months: [(100, 30)]) == nil)   // older than the months given
    }

    @Test("DSO, best possible DSO, average days delinquent, CEI, bad debt, at risk: a worked example")
    func workedExample() {
        // 90 days; credit sales 300,000; AR 100,000 at the start, 120,000 at the end of which
        // 80,000 not yet due and 6,000 more than 90 days late; 3,000 written off.
        let result = KPI.compute(KPI.Inputs(days: 90, creditSales: 300_000, beginningAR: 100_000, endingAR: 120_000,
                                            endingCurrentAR: 80_000, endingAR90Plus: 6_000, writeOffs: 3_000,
                                            promisesKept: 3, promisesBroken: 1, disputesOpened: 2, invoicesIssued: 40,
                                            paidAmountDays: 1_000 * 45 + 3_000 * 15, paidAmount: 4_000))
        #expect(result.dsoSimple == 36)                                  // 120,000 / 300,000 × 90
        #expect(result.bestPossibleDSO == 24)                            // 80,000 / 300,000 × 90
        #expect(result.averageDaysDelinquent == 12)
        #expect(result.cei == Decimal(string: "87.5")!)                  // (100k + 300k − 120k) / (100k + 300k − 80k) = 280/320
        #expect(result.badDebtRatio == 1)
        #expect(result.atRiskRate == 5)
        #expect(result.promisesKeptRate == 75)
        #expect(result.disputeRate == 5)
        #expect(result.averageDaysToPay == Decimal(string: "22.5")!)     // (45,000 + 45,000) / 4,000
        #expect(KPI.compute(KPI.Inputs(days: 30, creditSales: 0, beginningAR: 0, endingAR: 0, endingCurrentAR: 0, endingAR90Plus: 0)).dsoSimple == nil)
    }
}

@Suite("training status")
struct TrainingStatusTests {
    @Test("valid through the day before the anniversary; expiring within 30 days; missing without a record")
    func boundaries() {
        let completed = day(2025, 3, 31)
        #expect(TrainingStatus.expiresOn(completedDay: completed, validityMonths: 12) == day(2026, 3, 31))
        #expect(TrainingStatus.evaluate(latestCompletedDay: completed, validityMonths: 12, asOfDay: day(2026, 3, 30)) == .expiring)
        #expect(TrainingStatus.evaluate(latestCompletedDay: completed, validityMonths: 12, asOfDay: day(2026, 3, 31)) == .expired)
        #expect(TrainingStatus.evaluate(latestCompletedDay: completed, validityMonths: 12, asOfDay: day(2026, 2, 28)) == .current)     // 31 days left
        #expect(TrainingStatus.evaluate(latestCompletedDay: completed, validityMonths: 12, asOfDay: day(2026, 3, 1)) == .expiring)    // 30 days left
        #expect(TrainingStatus.evaluate(latestCompletedDay: completed, validityMonths: 12, asOfDay: day(2026, 2, 27)) == .current)    // 32 days left
        #expect(TrainingStatus.evaluate(latestCompletedDay: completed, validityMonths: nil, asOfDay: day(2040, 1, 1)) == .current)
        #expect(TrainingStatus.evaluate(latestCompletedDay: nil, validityMonths: 12, asOfDay: day(2026, 1, 1)) == .missing)
        #expect(TrainingStatus.evaluate(latestCompletedDay: day(2026, 5, 1), validityMonths: 12, asOfDay: day(2026, 1, 1)) == .missing)   // not yet done then
    }
}
