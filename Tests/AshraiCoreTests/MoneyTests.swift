import AshraiCore
import Foundation
import Testing

@Suite("money")
struct MoneyTests {
    @Test("wire strings parse exactly and print back with all minor digits")
    func parseAndPrint() throws {
        #expect(try Money.parse("1250").text == "1250.00")
        #expect(try Money.parse("1250.5").text == "1250.50")
        #expect(try Money.parse("-0.05").text == "-0.05")
        #expect(try Money.parse("0.00").text == "0.00")
        #expect(try Money.parse("999999999999999999.99").text == "999999999999999999.99")
        #expect(try Money.parse("7", currency: Currency(code: "JPY")!).text == "7")
        #expect(try Money.parse("1.234", currency: Currency(code: "KWD")!).text == "1.234")
    }

    @Test("parsed amounts equal Foundation's reading of the same text (value, text and hash)")
    func parseAgreesWithFoundation() throws {
        for text in ["0", "0.00", "-0.05", "1250", "1250.50", "100.10", "999999999999999999.99", "12345678901234567.8", "000123.40"] {
            let expected = try #require(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")))
            let money = try Money.parse(text)
            #expect(money.amount == expected, "\(text)")
            #expect(money.amount.hashValue == expected.hashValue, "\(text)")
            #expect(money == Money(expected), "\(text)")
        }
    }

    @Test("loose or ambiguous strings are refused", arguments: ["", "-", "1.", ".5", "1e3", "1,000.00", " 1", "1 ", "+1", "0x10", "١٢", "NaN", "--1", "1.2.3"])
    func refusesLoose(_ text: String) {
        #expect(throws: Money.ParseError.self) { try Money.parse(text) }
    }

    @Test("more decimals than the currency has is refused, not rounded silently")
    func tooManyDecimals() {
        #expect(throws: Money.ParseError.tooManyDecimals(allowed: 2)) { try Money.parse("1.005") }
        #expect(throws: Money.ParseError.tooManyDecimals(allowed: 0)) { try Money.parse("1.5", currency: Currency(code: "JPY")!) }
        #expect(throws: Money.ParseError.tooLarge) { try Money.parse("1000000000000000000") }
    }

    @Test("rounding is half-even to the agora")
    func halfEven() {
        let cases: [(String, String)] = [("0.125", "0.12"), ("0.135", "0.14"), ("2.5", "2.5"), ("-0.125", "-0.12"), ("0.1251", "0.13")]
        for (input, expected) in cases {
            #expect(Money.round(Decimal(string: input)!, scale: 2) == Decimal(string: expected)!, "\(input)")
        }
        #expect(Money(Decimal(string: "10.005")!).text == "10.00")
        #expect(Money(Decimal(string: "10.015")!).text == "10.02")
    }

    @Test("arithmetic is exact where Double is not")
    func exactArithmetic() throws {
        let sum = try Money.parse("0.10") + Money.parse("0.20")
        #expect(sum == (try Money.parse("0.30")))
        var total = Money.zero()
        for _ in 0..<1000 { total = total + (try Money.parse("0.01")) }
        #expect(total.text == "10.00")
        #expect((try Money.parse("5.00") - Money.parse("7.25")).text == "-2.25")
    }

    @Test("currency codes are three letters")
    func currencies() {
        #expect(Currency(code: "ils") == .ils)
        #expect(Currency(code: "EURO") == nil)
        #expect(Currency(code: "E1R") == nil)
        #expect(Currency(code: "USD")?.minorUnits == 2)
    }
}
