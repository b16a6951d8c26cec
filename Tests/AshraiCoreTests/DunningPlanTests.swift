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

    @Test("a courtesy reminder goes before the due date only to customers who want one, is passed by once overdue, and is no sanction's notice")
    func courtesy() throws {
        let levels = [Dunning.Level(level: 1, daysOverdue: -3, action: .reminder, template: "courtesy")] + Self.levels.map { level in
            var moved = level
            moved.level += 1
            return moved
        }
        try Dunning.validate(levels)
        // Three days before the due date: the customer who wants it gets it; one who does not, nothing.
        #expect(Dunning.decide(.init(daysOverdue: -3, reached: [], courtesy: true), levels: levels, asOfDay: 0) == .advance(levels[0]))
        #expect(Dunning.decide(.init(daysOverdue: -5, reached: [], courtesy: true), levels: levels, asOfDay: 0) == .none)
        #expect(Dunning.decide(.init(daysOverdue: -3, reached: [], courtesy: false), levels: levels, asOfDay: 0) == .none)
        // On and after the due date it is passed by (not sent late); the first overdue level follows as usual.
        #expect(Dunning.decide(.init(daysOverdue: 0, reached: [], courtesy: true), levels: levels, asOfDay: 0) == .none)
        #expect(Dunning.decide(.init(daysOverdue: 2, reached: [], courtesy: true), levels: levels, asOfDay: 0) == .advance(levels[1]))
        // A hold waits for the final notice, never for the courtesy reminder.
        #expect(Dunning.decide(.init(daysOverdue: 50, reached: [1], courtesy: true), levels: levels, asOfDay: 0) == .advance(levels[3]))
        // "Despite our previous reminder" follows a notice about arrears, not the courtesy reminder.
        #expect(!Dunning.followsEarlierNotice(level: 2, delivered: [1], levels: levels))
        #expect(Dunning.followsEarlierNotice(level: 3, delivered: [1, 2], levels: levels))
        // Its pay-by date is the due date.
        #expect(Dunning.lastDateToPay(letterDay: 100, level: levels[0], earliestDue: 103) == 103)
        // A courtesy level is a reminder without a fee, at most 30 days ahead, and cannot stand in for the first notice.
        for bad in [
            [Dunning.Level(level: 1, daysOverdue: -3, action: .letter, template: "c")] + Array(levels.dropFirst()),
            [Dunning.Level(level: 1, daysOverdue: -3, action: .reminder, template: "c", fee: 5)] + Array(levels.dropFirst()),
            [Dunning.Level(level: 1, daysOverdue: -31, action: .reminder, template: "c")] + Array(levels.dropFirst()),
            [levels[0], Dunning.Level(level: 2, daysOverdue: 45, action: .hold, template: "hold")],
        ] {
            #expect(throws: Dunning.PolicyError.self) { try Dunning.validate(bad) }
        }
    }

    @Test("a level's channels all carry the letter; one the customer cannot be reached on gives way along the chain, ending with post")
    func channels() {
        typealias Step = ChannelPlan.Step
        #expect(ChannelPlan.initial([.email], usable: [.email]) == [Step(channel: .email, fallback: [.post])])
        #expect(ChannelPlan.initial([.email], usable: []) == [Step(channel: .post, fallback: [])])
        #expect(ChannelPlan.initial([.email, .sms], usable: [.email, .sms])
                == [Step(channel: .email, fallback: [.sms, .post]), Step(channel: .sms, fallback: [.post])])
        // No e-mail address: the e-mail's letter goes by the next channel not already carrying it.
        #expect(ChannelPlan.initial([.email, .sms], usable: [.sms]) == [Step(channel: .sms, fallback: [.post]), Step(channel: .post, fallback: [])])
        #expect(ChannelPlan.initial([.email, .post], usable: [.email]) == [Step(channel: .email, fallback: [.post]), Step(channel: .post, fallback: [])])
        // A permanent failure: next in its fallback that is usable and unused.
        #expect(ChannelPlan.next(fallback: [.sms, .post], usable: [.sms], used: [.email]) == Step(channel: .sms, fallback: [.post]))
        #expect(ChannelPlan.next(fallback: [.sms, .post], usable: [.sms], used: [.email, .sms]) == Step(channel: .post, fallback: []))
        #expect(ChannelPlan.next(fallback: [.post], usable: [], used: [.email, .post]) == nil)
    }

    @Test("an HTTP gateway's reply: 2xx sent with its id, 429 and 5xx retried, a refused number permanent and flagged")
    func gatewayOutcomes() {
        #expect(DeliveryOutcome.http(status: 201, error: nil, providerID: "abc") == .sent(providerID: "abc"))
        #expect(DeliveryOutcome.http(status: 429, error: nil, providerID: nil) == .temporary("HTTP 429"))
        #expect(DeliveryOutcome.http(status: 503, error: "busy", providerID: nil) == .temporary("HTTP 503 busy"))
        #expect(DeliveryOutcome.http(status: nil, error: "connection refused", providerID: nil) == .temporary("connection refused"))
        #expect(DeliveryOutcome.http(status: 422, error: nil, providerID: nil) == .permanent("HTTP 422", badAddress: true))
        #expect(DeliveryOutcome.http(status: 401, error: nil, providerID: nil) == .permanent("HTTP 401", badAddress: false))
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
