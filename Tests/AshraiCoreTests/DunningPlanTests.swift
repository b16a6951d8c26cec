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
