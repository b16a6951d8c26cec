import AshraiCore
import Foundation
import Testing

@Suite("the collections forecast")
struct ForecastTests {
    static func distribution(_ mass: [Int: Decimal], never: Decimal = 0, invoices: Int) -> Forecast.LagDistribution {
        Forecast.LagDistribution(mass: mass, never: never, invoices: invoices)
    }

    @Test("an open invoice lands where the customer's lags beyond today put it; a promise on its day × the kept rate")
    func handComputed() {
        let history = Self.distribution([10: 100, 20: 100], invoices: 2)
        let invoices = [
            Forecast.OpenInvoice(customerID: 1, invoiceID: 1, dueDay: 995, open: 300),    // 5 days late: lag 10 in week 1, lag 20 in week 3
            Forecast.OpenInvoice(customerID: 1, invoiceID: 2, dueDay: 1000, open: 100),   // due today: lag 10 in week 2, lag 20 in week 3
            Forecast.OpenInvoice(customerID: 2, invoiceID: 3, dueDay: 990, open: 100),    // no history anywhere: only its promise
        ]
        let promise = Forecast.Commitment(customerID: 2, kind: .promise, day: 1003, amount: 80, rate: Decimal(string: "0.75")!)
        let result = Forecast.forecast(asOfDay: 1000, weeks: 4, invoices: invoices, commitments: [promise],
                                       distribution: { $0 == 1 ? history : Forecast.LagDistribution() }, fallback: Forecast.LagDistribution())
        #expect(result.weeks.map(\.expected) == [210, 50, 200, 0])
        #expect(result.weeks.map(\.committed) == [60, 0, 0, 0])
        #expect(result.weeks[0].first == 1001 && result.weeks[0].last == 1007 && result.weeks[3].last == 1028)
        #expect(result.open == 500 && result.notExpected == 40)
        // Week 1: 300 with p = ½ (variance 22,500) and the promise's 80 with p = ¾ (1,200): σ = √23,700.
        #expect(result.weeks[0].low == 0)
        #expect(result.weeks[0].high == Decimal(string: "463.24")!)   // 210 + 1.645 × 153.948… = 463.2445
        #expect(result.weeks[3].low == 0 && result.weeks[3].high == 0)
    }

    @Test("money that never came weighs against coming; a customer later than ever falls back to the ledger's lags")
    func neverAndFallback() {
        let halfNever = Self.distribution([0: 50], never: 50, invoices: 4)
        let alwaysOnTime = Self.distribution([0: 10], invoices: 1)
        let ledger = Self.distribution([3: 1, 12: 1, 40: 1], invoices: 3)
        let invoices = [Forecast.OpenInvoice(customerID: 1, invoiceID: 1, dueDay: 1005, open: 200),
                        Forecast.OpenInvoice(customerID: 1, invoiceID: 2, dueDay: 990, open: 100),   // past its lags, but half never came
                        Forecast.OpenInvoice(customerID: 2, invoiceID: 3, dueDay: 990, open: 100)]   // 10 days late, later than ever
        let result = Forecast.forecast(asOfDay: 1000, weeks: 2, invoices: invoices, commitments: [],
                                       distribution: { $0 == 1 ? halfNever : alwaysOnTime }, fallback: ledger)
        // Invoice 1: lag 0 falls on day 1005 (week 1) with p = ½. Invoice 2: beyond 10 days only "never" is left.
        // Invoice 3: the ledger's lags beyond 10 are 12 (day 1002, week 1) and 40 (beyond the horizon): p = ½.
        #expect(result.weeks.map(\.expected) == [150, 0])
        #expect(result.notExpected == 250)
    }

    @Test("blending: the customer's own weighs its invoices, the prior priorWeight")
    func blending() {
        let own = Self.distribution([5: 30], invoices: 10)
        let prior = Self.distribution([0: 1, 30: 1], invoices: 100)
        let blended = Forecast.blend(own, prior: prior, priorWeight: 10)
        #expect(blended.mass == [5: Decimal(string: "0.5")!, 0: Decimal(string: "0.25")!, 30: Decimal(string: "0.25")!])
        #expect(Forecast.blend(Forecast.LagDistribution(), prior: prior) == prior)
        let probabilities = (blended.conditional(after: 4, windows: [5...29, 30...30]) ?? []).map { Money.round($0, scale: 12) }
        #expect(probabilities == [Decimal(string: "0.666666666667")!, Decimal(string: "0.333333333333")!])
    }

    @Test("rates and what remains of a plan")
    func ratesAndPlans() {
        #expect(Forecast.rate(kept: 3, broken: 1, priorKept: 1, priorBroken: 1) == Decimal(4) / 6)
        #expect(Forecast.rate(kept: 0, broken: 0, priorKept: 9, priorBroken: 1) == Decimal(string: "0.9")!)
        let schedule = Forecast.planSchedule(remaining: 250, installments: [(990, 100), (1010, 100), (1040, 100)], asOfDay: 1000)
        #expect(schedule.map(\.day) == [1001, 1010, 1040] && schedule.map(\.amount) == [50, 100, 100])
        #expect(Forecast.planSchedule(remaining: 150, installments: [(1010, 100), (1040, 100)], asOfDay: 1000).map(\.amount) == [50, 100])
    }
}
