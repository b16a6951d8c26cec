import AshraiCore
import Foundation
import Testing

@Suite("dunning call levels")
struct DunningCallTests {
    static let levels = [
        Dunning.Level(level: 1, daysOverdue: 1, action: .call, template: "call"),
        Dunning.Level(level: 2, daysOverdue: 5, action: .reminder, template: "reminder"),
        Dunning.Level(level: 3, daysOverdue: 20, action: .letter, template: "letter", requiresCall: true),
        Dunning.Level(level: 4, daysOverdue: 40, action: .hold, template: "hold"),
    ]

    @Test("a call level is reached like a letter, alone, and is no sanction's notice")
    func callLevel() throws {
        try Dunning.validate(Self.levels)
        #expect(Dunning.decide(.init(daysOverdue: 2, reached: []), levels: Self.levels, asOfDay: 100) == .advance(Self.levels[0]))
        #expect(Dunning.levelsToApply(for: Self.levels[0], levels: Self.levels, reached: []) == [Self.levels[0]])
        // Catch-up passes a call by like any level when the letter does not require one.
        #expect(Dunning.decide(.init(daysOverdue: 10, reached: []), levels: Self.levels, asOfDay: 100) == .advance(Self.levels[1]))
        // The hold's notice is the written level below it, never the call.
        #expect(Dunning.decide(.init(daysOverdue: 45, reached: [1, 2], callAttempted: true), levels: Self.levels, asOfDay: 100)
                == .advance(Self.levels[2]))
    }

    @Test("a letter that requires a call waits for one: the call level first, then skipped until a call is attempted")
    func requiresCall() {
        // Caught up past the call: the call comes first.
        #expect(Dunning.decide(.init(daysOverdue: 25, reached: [2]), levels: Self.levels, asOfDay: 100) == .advance(Self.levels[0]))
        // The call task was made but nobody called yet.
        #expect(Dunning.decide(.init(daysOverdue: 25, reached: [1, 2]), levels: Self.levels, asOfDay: 100) == .skip(level: 3, .awaitingCall))
        #expect(Dunning.decide(.init(daysOverdue: 25, reached: [1, 2], callAttempted: true), levels: Self.levels, asOfDay: 100)
                == .advance(Self.levels[2]))
        // A hold whose notice requires a call waits for the call too.
        #expect(Dunning.decide(.init(daysOverdue: 50, reached: [1, 2]), levels: Self.levels, asOfDay: 100) == .skip(level: 4, .awaitingCall))
        let plan = Dunning.plan([.init(invoiceID: 7, customerID: 1, invoice: .init(daysOverdue: 25, reached: [2]))], levels: Self.levels, asOfDay: 100)
        #expect(plan.steps.map { "\($0.customerID):\($0.level.level):\($0.invoiceIDs)" } == ["1:1:[7]"])
    }

    @Test("policies: a call may open one, a sanction still needs a written notice, requires_call needs a call level before it")
    func validation() {
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([Dunning.Level(level: 1, daysOverdue: 1, action: .call, template: "call"),
                                  Dunning.Level(level: 2, daysOverdue: 10, action: .hold, template: "hold")])
        }
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([Dunning.Level(level: 1, daysOverdue: 1, action: .reminder, template: "reminder", requiresCall: true)])
        }
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([Dunning.Level(level: 1, daysOverdue: 1, action: .call, template: "call"),
                                  Dunning.Level(level: 2, daysOverdue: 10, action: .call, template: "call", requiresCall: true)])
        }
        #expect(throws: Dunning.PolicyError.self) {
            try Dunning.validate([Dunning.Level(level: 1, daysOverdue: -3, action: .call, template: "call")])
        }
        #expect(Dunning.Action.call.writesLetter == false && Dunning.Action.hold.writesLetter && !Dunning.Action.refer_to_agency.writesLetter)
    }
}
