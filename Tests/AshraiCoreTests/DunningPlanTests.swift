import AshraiCore
import Foundation
import Testing

@Suite("the dunning run's plan")
struct DunningPlanTests {
    static let levels = [
        Dunning.Level(level: 1, daysOverdue: 1, action: .reminder, template: "reminder"),
        Dunning.Level(level: 2, daysOverdue: 15, action: .letter, template: "letter", fee: 25),
        Dunning.Level(level: 3, daysOverdue: 30, action: .final_notice, template: "final", payWithinDays: 7),
        Dunning.Level(level: 4, daysOverdue: 45, action: .hold, template: "hold"),
    ]

    @Test("an agency outranks a dispute, a dispute a plan, a plan a promise")
    func pausePrecedence() {
        #expect(Dunning.pause(assigned: true, disputed: true, inPlan: true, promised: true) == .assigned)
        #expect(Dunning.pause(assigned: false, disputed: true, inPlan: true, promised: true) == .disputed)
        #expect(Dunning.pause(assigned: false, disputed: false, inPlan: true, promised: true) == .inPlan)
        #expect(Dunning.pause(assigned: false, disputed: false, inPlan: false, promised: true) == .promised)
        #expect(Dunning.pause(assigned: false, disputed: false, inPlan: false, promised: false) == nil)
    }

    @Test("one step per customer and level, customers in order, the held back listed with why")
    func grouping() {
        let candidates: [Dunning.Candidate<Int64>] = [
            .init(invoiceID: 11, customerID: 2, invoice: .init(daysOverdue: 20, reached: [1])),
            .init(invoiceID: 10, customerID: 1, invoice: .init(daysOverdue: 3, reached: [])),
            .init(invoiceID: 12, customerID: 2, invoice: .init(daysOverdue: 16, reached: [1])),
            .init(invoiceID: 13, customerID: 2, invoice: .init(daysOverdue: 2, reached: [])),
            .init(invoiceID: 14, customerID: 1, invoice: .init(daysOverdue: 40, reached: [1, 2], pause: .disputed)),
        ]
        let plan = Dunning.plan(candidates, levels: Self.levels, asOfDay: 20_000)
        #expect(plan.steps.map { "\($0.customerID):\($0.level.level):\($0.invoiceIDs)" } == ["1:1:[10]", "2:1:[13]", "2:2:[11, 12]"])
        #expect(plan.skipped.count == 1 && plan.skipped[0].invoiceID == 14 && plan.skipped[0].level == 3 && plan.skipped[0].pause == .disputed)
    }

    @Test("a letter's total is open + interest + fee; it states pay-by as its day + the level's days; it names the customer by code, else id")
    func letterFacts() {
        #expect(Dunning.LetterTotal(open: 1000, interest: Decimal(string: "12.34")!, fee: 25).total == Decimal(string: "1037.34")!)
        #expect(Dunning.lastDateToPay(letterDay: 20_000, level: Self.levels[2]) == 20_007)
        #expect(Dunning.customerReference(code: "B-17", id: 5, language: "he") == "מספר לקוח B-17")
        #expect(Dunning.customerReference(code: nil, id: 5, language: "en") == "customer number 5")
    }
}

@Suite("installment plan terms")
struct PlanTermsTests {
    @Test("interest on what is financed to the last due day; active when agreed; refusals for a down payment ≥ principal and sub-agora installments")
    func terms() throws {
        // 1,000 open, 100 down, 9 monthly from day 20,000; 12 % a year.
        let made = try InstallmentPlan.terms(principal: 1000, downPayment: 100, count: 9, frequency: .monthly, firstDueDay: 20_000,
                                             startDay: 19_990, annualRatePercent: 12, agreed: true).get()
        let lastDue = InstallmentPlan.dueDay(first: 20_000, index: 8, frequency: .monthly)
        #expect(made.interest == InstallmentPlan.interest(financed: 900, annualRatePercent: 12, fromDay: 19_990, toDay: lastDue))
        #expect(made.total == 1000 + made.interest && made.status == .active)
        #expect(made.schedule.reduce(Decimal(0)) { $0 + $1.amount } == made.total && made.schedule.first?.amount == 100)
        #expect(InstallmentPlan.terms(principal: 500, downPayment: 500, count: 2, frequency: .weekly, firstDueDay: 1, startDay: 0,
                                      annualRatePercent: 0, agreed: false) == .failure(.downPaymentTooLarge(principal: 500)))
        #expect(InstallmentPlan.terms(principal: Decimal(string: "0.05")!, downPayment: 0, count: 10, frequency: .weekly, firstDueDay: 1,
                                      startDay: 0, annualRatePercent: 0, agreed: false) == .failure(.installmentsTooSmall))
        #expect(try InstallmentPlan.terms(principal: 100, downPayment: 0, count: 2, frequency: .weekly, firstDueDay: 1, startDay: 0,
                                          annualRatePercent: 0, agreed: false).get().status == .proposed)
    }
}

@Suite("sanctions wait for the notice to be sent")
struct NoticeDeliveredTests {
    @Test("a hold after a final notice that was written but not sent is skipped (notice_not_sent); once sent and past its date, it comes")
    func waitsForDelivery() {
        let levels = DunningPlanTests.levels
        let written = Dunning.Invoice(daysOverdue: 50, reached: [1, 2, 3], lastDateToPay: 100, delivered: [1, 2])
        #expect(Dunning.decide(written, levels: levels, asOfDay: 200) == .skip(level: 4, .awaitingDelivery))
        let sent = Dunning.Invoice(daysOverdue: 50, reached: [1, 2, 3], lastDateToPay: 100, delivered: [1, 2, 3])
        #expect(Dunning.decide(sent, levels: levels, asOfDay: 200) == .advance(levels[3]))
    }
}
