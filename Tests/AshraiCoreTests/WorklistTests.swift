@testable import AshraiCore
import Foundation
import Testing

@Suite("the worklist: whom to call today")
struct WorklistTests {
    typealias Account = Worklist.Account

    @Test("the probability of not collecting grows with age, a worse grade, broken promises and a dispute; nothing overdue is 0")
    func probability() {
        let base = Account(customerID: 1, overdue: 1000, daysPastDue: 45)
        #expect(abs(Worklist.probability(base) - 0.12) < 1e-9)
        let ages = [1, 30, 31, 60, 61, 90, 91, 180, 181, 365, 366, 2000].map { Worklist.probability(Account(customerID: 1, overdue: 1, daysPastDue: $0)) }
        #expect(ages == ages.sorted())
        #expect(abs(ages[0] - 0.05) < 1e-9 && abs(ages[11] - 0.85) < 1e-9)
        var a = base; a.grade = .A
        var e = base; e.grade = .E
        #expect(Worklist.probability(a) < Worklist.probability(base) && Worklist.probability(base) < Worklist.probability(e))
        var broken = base; broken.brokenPromises = 2
        var many = base; many.brokenPromises = 9
        #expect(Worklist.probability(broken) > Worklist.probability(base))
        #expect(Worklist.probability(many) == { var three = base; three.brokenPromises = 3; return Worklist.probability(three) }())
        var disputed = base; disputed.disputedInvoices = 1
        #expect(Worklist.probability(disputed) > Worklist.probability(base))
        // On the log-odds scale: one broken promise adds 0.5.
        var one = base; one.brokenPromises = 1
        let logit = { (p: Double) in log(p / (1 - p)) }
        #expect(abs(logit(Worklist.probability(one)) - logit(0.12) - 0.5) < 1e-9)
        #expect(Worklist.probability(Account(customerID: 1, overdue: 0, daysPastDue: 0, brokenPromises: 3)) == 0)
        // The ledger's own rate for an age replaces the prior.
        #expect(abs(Worklist.probability(base, calibrated: [nil, 0.30]) - 0.30) < 1e-9)
    }

    @Test("ranked by expected loss, to the agora; ties by the nearer promise, then the earlier task; the reason and the next action in words")
    func ranking() {
        let today = 20_000
        let accounts = [
            Account(customerID: 1, overdue: Decimal(string: "10000.00")!, daysPastDue: 10),                                   // 500.00
            Account(customerID: 2, overdue: Decimal(string: "2000.00")!, daysPastDue: 120, grade: .D, brokenPromises: 1),   // 2000 × p
            Account(customerID: 3, overdue: Decimal(string: "10000.00")!, daysPastDue: 10, promiseDueDay: today + 3),        // 500.00, a promise
            Account(customerID: 4, overdue: Decimal(string: "10000.00")!, daysPastDue: 10, taskDueDay: today, taskKind: .call),  // 500.00, a task
            Account(customerID: 5, overdue: 0, daysPastDue: 0, taskDueDay: today - 2, taskKind: .reviewDue),
        ]
        let rows = Worklist.rank(accounts, today: today) { "₪\(Money($0).text)" }
        #expect(rows.map(\.account.customerID) == [2, 3, 4, 1, 5])
        let p2 = Worklist.probability(accounts[1])
        #expect(rows[0].expectedLoss == Money.round(Decimal(string: "2000.00")! * Decimal(Int((p2 * 1_000_000).rounded())) / 1_000_000, scale: 2))
        #expect(rows[1].expectedLoss == Decimal(string: "500.00")!)
        #expect(rows[0].reason == "₪2000.00 overdue, the oldest 120 days; a promise broken; grade D")
        #expect(rows[0].nextAction == "final notice, then an agency")
        #expect(rows[1].nextAction == "wait for the promise (due in 3 days)")
        #expect(rows[2].reason.hasSuffix("a call task due today") && rows[2].nextAction == "call")
        #expect(rows[4].reason == "a review due task due since 2 days" && rows[4].nextAction == "review the customer's credit")
        #expect(rows[4].expectedLoss == 0)
    }
}

extension WorklistTests {
    @Test("calibration: the ledger's written-off share per age, shrunk toward the prior; too little history leaves the prior")
    func calibration() {
        #expect(Worklist.bucketStarts == [1, 31, 61, 91, 181, 366])
        let history = [
            Worklist.BucketHistory(invoices: 1800, amount: 1_000_000, writtenOff: 10_000),   // 1 % written off, 1,800 invoices
            Worklist.BucketHistory(invoices: 99, amount: 50_000, writtenOff: 25_000),        // too few
            Worklist.BucketHistory(invoices: 200, amount: 100_000, writtenOff: 45_000),      // 45 %, 200 invoices: half way from 25 %
        ]
        let calibrated = Worklist.calibrated(history)
        #expect(calibrated.count == 6)
        #expect(abs(calibrated[0]! - (1800 * 0.01 + 200 * 0.05) / 2000) < 1e-12)
        #expect(calibrated[1] == nil && calibrated[3] == nil && calibrated[5] == nil)
        #expect(abs(calibrated[2]! - 0.35) < 1e-12)
        // It is what the probability then starts from.
        let account = Worklist.Account(customerID: 1, overdue: 100, daysPastDue: 70)
        #expect(abs(Worklist.probability(account, calibrated: calibrated) - 0.35) < 1e-9)
        #expect(abs(Worklist.probability(Worklist.Account(customerID: 1, overdue: 100, daysPastDue: 45), calibrated: calibrated) - 0.12) < 1e-9)
    }
}
