import AshraiCore
import Foundation
import Testing

@Suite("the collections forecast")
struct ForecastTests {
    typealias Lags = Forecast.LagDistribution

    /// Weights in whole shekels, as minor units.
    static func lags(_ mass: [Int: Int64], never: Int64 = 0, invoices: Int) -> Lags {
        Lags(mass: mass.mapValues { $0 * 100 }, never: never * 100, invoices: invoices)
    }

    @Test("an open invoice lands where the customer's lags beyond today put it; a promise on its day × the kept rate")
    func handComputed() {
        let model = Forecast.Model(own: [1: Self.lags([10: 100, 20: 100], invoices: 2)], ledger: Lags(), priorWeight: 3)
        let invoices = [
            Forecast.OpenInvoice(customerID: 1, invoiceID: 1, dueDay: 995, open: 30_000),    // 5 days late: lag 10 in week 1, lag 20 in week 3
            Forecast.OpenInvoice(customerID: 1, invoiceID: 2, dueDay: 1000, open: 10_000),   // due today: lag 10 in week 2, lag 20 in week 3
            Forecast.OpenInvoice(customerID: 2, invoiceID: 3, dueDay: 990, open: 10_000),    // no history anywhere: only its promise
        ]
        let promise = Forecast.Commitment(customerID: 2, kind: .promise, day: 1003, amount: 8_000, rate: Decimal(string: "0.75")!)
        let result = Forecast.forecast(asOfDay: 1000, weeks: 4, invoices: invoices, commitments: [promise], model: model)
        #expect(result.weeks.map(\.expected) == [210, 50, 200, 0])
        #expect(result.weeks.map(\.committed) == [60, 0, 0, 0])
        #expect(result.weeks[0].first == 1001 && result.weeks[0].last == 1007 && result.weeks[3].last == 1028)
        #expect(result.open == 500 && result.notExpected == 40)
        // Week 1: 300 with p = ½ (variance 22,500) and the promise's 80 with p = ¾ (1,200): 1.645 σ = √(2.706025 × 23,700) = 253.2445…
        #expect(result.weeks[0].low == 0)
        #expect(result.weeks[0].high == Decimal(string: "463.24")!)
        #expect(result.weeks[3].low == 0 && result.weeks[3].high == 0)
    }

    @Test("money that never came weighs against coming; a customer later than ever falls back to the ledger's lags")
    func neverAndFallback() {
        let model = Forecast.Model(own: [1: Self.lags([0: 50], never: 50, invoices: 4), 2: Self.lags([0: 10], invoices: 1)],
                                   ledger: Self.lags([3: 1, 12: 1, 40: 1], invoices: 3), priorWeight: 0)
        let invoices = [Forecast.OpenInvoice(customerID: 1, invoiceID: 1, dueDay: 1005, open: 20_000),
                        Forecast.OpenInvoice(customerID: 1, invoiceID: 2, dueDay: 990, open: 10_000),   // past its lags, but half never came
                        Forecast.OpenInvoice(customerID: 2, invoiceID: 3, dueDay: 990, open: 10_000)]   // 10 days late, later than ever
        let result = Forecast.forecast(asOfDay: 1000, weeks: 2, invoices: invoices, commitments: [], model: model)
        // Invoice 1: lag 0 falls on day 1005 (week 1) with p = ½. Invoice 2: beyond 10 days only "never" is left.
        // Invoice 3: the ledger's lags beyond 10 are 12 (day 1002, week 1) and 40 (beyond the horizon): p = ½.
        #expect(result.weeks.map(\.expected) == [150, 0])
        #expect(result.notExpected == 250)
    }

    @Test("blending: the customer's own weighs its invoices, the prior priorWeight; a grade's prior before the ledger's")
    func blending() {
        let blend = Forecast.Blend(own: Self.lags([5: 30], invoices: 10), prior: Self.lags([0: 1, 30: 1], invoices: 100), priorWeight: 10)
        // Mixed ½ : ½ — lag 5 weighs ½, lags 0 and 30 ¼ each; beyond 4: ¾, of which lag 5 is ⅔.
        let probabilities = (blend.conditional(after: 4, windows: [5...29, 30...30]) ?? []).map { Money.round($0, scale: 12) }
        #expect(probabilities == [Decimal(string: "0.666666666667")!, Decimal(string: "0.333333333333")!])
        #expect(blend.conditional(after: 30, windows: [31...60]) == nil)
        // A graded customer without history takes the grade's lags, not the ledger's.
        let model = Forecast.Model(own: [:], grades: [7: .B], gradePriors: [.B: Self.lags([2: 1], invoices: 1)],
                                   ledger: Self.lags([20: 1], invoices: 1))
        let result = Forecast.forecast(asOfDay: 1000, weeks: 3, invoices: [.init(customerID: 7, invoiceID: 1, dueDay: 1000, open: 700)],
                                       commitments: [], model: model)
        #expect(result.weeks.map(\.expected) == [7, 0, 0])
    }

    @Test("rates, what remains of a plan, and minor units")
    func ratesAndPlans() {
        #expect(Forecast.rate(kept: 3, broken: 1, priorKept: 1, priorBroken: 1) == Decimal(4) / 6)
        #expect(Forecast.rate(kept: 0, broken: 0, priorKept: 9, priorBroken: 1) == Decimal(string: "0.9")!)
        let schedule = Forecast.planSchedule(remaining: 250, installments: [(990, 100), (1010, 100), (1040, 100)], asOfDay: 1000)
        #expect(schedule.map(\.day) == [1001, 1010, 1040] && schedule.map(\.amount) == [50, 100, 100])
        #expect(Forecast.planSchedule(remaining: 150, installments: [(1010, 100), (1040, 100)], asOfDay: 1000).map(\.amount) == [50, 100])
        #expect(Forecast.minorUnits(Decimal(string: "1234.56")!, scale: 2) == 123_456 && Forecast.amount(123_456, scale: 2) == Decimal(string: "1234.56")!)
        #expect(Forecast.minorUnits(Decimal(string: "7")!, scale: 0) == 7)
    }

    @Test("a cheque at the 9 : 1 prior: 90% on its value date, the rest on the invoice's lags; every minor unit accounted for")
    func chequeAndConservation() {
        let model = Forecast.Model(own: [1: Self.lags([10: 100], invoices: 3)], ledger: Self.lags([10: 100], invoices: 3))
        let invoices = [Forecast.OpenInvoice(customerID: 1, invoiceID: 1, dueDay: 1010, open: 20_000)]
        let cheque = Forecast.Commitment(customerID: 1, kind: .cheque, day: 1025, amount: 5_000, invoiceIDs: [1],
                                         rate: Forecast.rate(kept: 0, broken: 0, priorKept: 9, priorBroken: 1))
        let result = Forecast.forecast(asOfDay: 1000, weeks: 4, invoices: invoices, commitments: [cheque], model: model)
        // The invoice's lag 10 lands on 1020 (week 3) with 150.00 + 5.00; the cheque's 45.00 on 1025 (week 4).
        #expect(result.weeks.map(\.expected) == [0, 0, 155, 45] && result.weeks.map(\.committed) == [0, 0, 0, 45])
        #expect(result.notExpected == 0 && result.open == 200)
    }
}
