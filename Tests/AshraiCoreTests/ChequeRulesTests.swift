import AshraiCore
import Foundation
import Testing

@Suite("post-dated cheques: the rules")
struct ChequeRulesTests {
    static func d(_ s: String) -> Decimal { Decimal(string: s)! }

    @Test("a cheque is money from its value date on")
    func postDated() {
        #expect(Cheques.isPostDated(valueDay: 101, today: 100))
        #expect(!Cheques.isPostDated(valueDay: 100, today: 100))
        #expect(!Cheques.isPostDated(valueDay: 90, today: 100))
    }

    @Test("details: digits only, bank code up to 3, branch up to 4, account up to 20, number up to 10; the account is written with dashes")
    func details() {
        func problem(_ number: String, _ bank: String, _ branch: String, _ account: String) -> String? {
            ChequeDetails(number: number, bank: bank, branch: branch, account: account, valueDay: 0).problem?.field
        }
        #expect(problem("0012345", "12", "600", "123456") == nil)
        #expect(problem("", "12", "600", "1") == "cheque.number")
        #expect(problem("12345678901", "12", "600", "1") == "cheque.number")
        #expect(problem("12a", "12", "600", "1") == "cheque.number")
        #expect(problem("1", "1234", "600", "1") == "cheque.bank")
        #expect(problem("1", "12", "60000", "1") == "cheque.branch")
        #expect(problem("1", "12", "600", "١٢٣") == "cheque.account")   // Arabic-Indic digits are not the bank's
        #expect(ChequeDetails.normalizedAccount("12-345/67 8") == "12345678")
    }

    @Test("when applied, the cheque goes to the invoices it was meant for, cut to what each still owes; closed ones drop out")
    func application() {
        let planned = [AllocationLine(invoiceID: 1, amount: 500), AllocationLine(invoiceID: 2, amount: 300), AllocationLine(invoiceID: 3, amount: 200)]
        let lines = Cheques.linesAtApplication(planned: planned, openAmounts: [1: 500, 2: 120])
        #expect(lines == [AllocationLine(invoiceID: 1, amount: 500), AllocationLine(invoiceID: 2, amount: 120)])
        #expect(Cheques.linesAtApplication(planned: planned, openAmounts: [:]).isEmpty)
    }

    @Test("a statement credit clears the held cheque whose number it names and amount it is; without the number only a single cheque deposit of that amount does; never long before the value date")
    func clearing() {
        let held = [Cheques.Held(id: 1, number: "0012345", amount: 1000, valueDay: 200),
                    Cheques.Held(id: 2, number: "778", amount: 700, valueDay: 210),
                    Cheques.Held(id: 3, number: "779", amount: 700, valueDay: 211)]
        #expect(Cheques.cleared(amount: 1000, text: "CHQ 12345", bookingDay: 200, held: held)?.id == 1)
        #expect(Cheques.cleared(amount: 1000, text: "הפקדת שיק 0012345", bookingDay: 201, held: held)?.id == 1)
        #expect(Cheques.cleared(amount: 1000, text: "CHQ 12345", bookingDay: 190, held: held) == nil)   // ten days early: not this cheque
        #expect(Cheques.cleared(amount: 999, text: "CHQ 12345", bookingDay: 200, held: held) == nil)
        #expect(Cheques.cleared(amount: 700, text: "שיק 779", bookingDay: 211, held: held)?.id == 3)
        #expect(Cheques.cleared(amount: 700, text: "הפקדת שיק", bookingDay: 211, held: held) == nil)   // two fit: a person decides
        #expect(Cheques.cleared(amount: 1000, text: "הפקדת שיק", bookingDay: 200, held: held)?.id == 1)
        #expect(Cheques.cleared(amount: 1000, text: "transfer", bookingDay: 200, held: held) == nil)
        // Deposited late: found by its number, not by the amount alone.
        #expect(Cheques.cleared(amount: 1000, text: "CHQ 12345", bookingDay: 260, held: held)?.id == 1)
        #expect(Cheques.cleared(amount: 1000, text: "הפקדת שיק", bookingDay: 260, held: held) == nil)
    }

    @Test("dunning: a cheque in hand pauses after an agency, a dispute and a plan, before a promise; a queued letter does not go")
    func pauses() {
        #expect(Dunning.pause(assigned: false, disputed: false, inPlan: false, chequeInHand: true, promised: true) == .chequeInHand)
        #expect(Dunning.pause(assigned: false, disputed: true, inPlan: false, chequeInHand: true, promised: false) == .disputed)
        #expect(LetterStanding.reasonNotToSend(invoicesStillOwing: true, openDispute: false, activePlan: false, chequeInHand: true,
                                               openPromise: false, customerClosed: false)?.contains("cheque") == true)
    }
}
