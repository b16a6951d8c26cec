import AshraiCore
import Foundation
import Testing

@Suite("late interest")
struct LateInterestTests {
    static func day(_ iso: String) -> Int {
        // Days since 1970-01-01 for a YYYY-MM-DD (proleptic Gregorian).
        let parts = iso.split(separator: "-").map { Int($0)! }
        var y = parts[0], m = parts[1]
        let d = parts[2]
        if m <= 2 { y -= 1; m += 12 }
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m - 3) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    @Test("10,000.00 at 12 % for 30 days = 10,000 × 0.12 × 30 / 365 = 98.630… → 98.63")
    func simple() {
        let interest = LateInterest.accrued(amount: 10_000, dueDay: Self.day("2026-01-31"), annualRatePercent: 12,
                                            reductions: [], asOfDay: Self.day("2026-03-02"))
        #expect(interest == Decimal(string: "98.63"))
    }

    @Test("paid on the due date: no interest; paid the day after: one day")
    func dueDate() {
        let due = Self.day("2026-05-10")
        #expect(LateInterest.accrued(amount: 1000, dueDay: due, annualRatePercent: 10,
                                     reductions: [.init(day: due, amount: 1000)], asOfDay: due + 100) == 0)
        // 1000 × 10 % / 365 = 0.27397… → 0.27
        #expect(LateInterest.accrued(amount: 1000, dueDay: due, annualRatePercent: 10,
                                     reductions: [.init(day: due + 1, amount: 1000)], asOfDay: due + 100) == Decimal(string: "0.27"))
    }

    @Test("partial payments: each part accrues until it was paid, the rest until as_of")
    func partial() {
        let due = Self.day("2026-01-01")
        // 600 paid after 10 days, 400 open for 40: (600 × 10 + 400 × 40) × 18 / 36500 = 22000 × 18 / 36500 = 10.849… → 10.85
        let interest = LateInterest.accrued(amount: 1000, dueDay: due, annualRatePercent: 18,
                                            reductions: [.init(day: due + 10, amount: 600)], asOfDay: due + 40)
        #expect(interest == Decimal(string: "10.85"))
        // A payment after as_of does not count yet.
        let before = LateInterest.accrued(amount: 1000, dueDay: due, annualRatePercent: 18,
                                          reductions: [.init(day: due + 50, amount: 1000)], asOfDay: due + 40)
        #expect(before == Decimal(string: "19.73"))   // 1000 × 18 × 40 / 36500 = 19.726…
    }

    @Test("leap year: 28 Feb → 1 Mar 2028 is two days, still at rate / 365")
    func leapYear() {
        // 36,500.00 at 10 %: 10.00 a day → 20.00 for 29 Feb and 1 Mar.
        let interest = LateInterest.accrued(amount: 36_500, dueDay: Self.day("2028-02-28"), annualRatePercent: 10,
                                            reductions: [], asOfDay: Self.day("2028-03-01"))
        #expect(interest == 20)
    }

    @Test("rounding is half-even once per invoice: 0.125 → 0.12, 0.135 → 0.14")
    func rounding() {
        // amount × rate × days / 36500 = 0.125 with 4562.5 × 1 × 1 → use 45.625 × 100 % × 1 day.
        #expect(LateInterest.accrued(amount: Decimal(string: "45.625")!, dueDay: 0, annualRatePercent: 100, reductions: [], asOfDay: 1)
                == Decimal(string: "0.12"))
        #expect(LateInterest.accrued(amount: Decimal(string: "49.275")!, dueDay: 0, annualRatePercent: 100, reductions: [], asOfDay: 1)
                == Decimal(string: "0.14"))
        #expect(LateInterest.accrued(amount: 1000, dueDay: 10, annualRatePercent: 0, reductions: [], asOfDay: 400) == 0)
    }
}
