import AshraiCore
import CivilCalendar
import Foundation
import Testing

@Suite("bank statements: MT940, CSV profiles, amounts, duplicate keys")
struct BankStatementTests {
    static let day29 = CivilDay.day(year: 2026, month: 11, day: 29)

    @Test("MT940: value and entry dates, C/D/RC/RD, the decimal comma, the bank's reference after //, :86: free and structured")
    func mt940() throws {
        let text = """
            :20:STMT1
            :25:IL620108000000099999999
            :60F:C261128ILS10000,00
            :61:2611291129C1234,50NTRFNONREF//LEU-9001
            :86:?20INV-1001 ?21payment?32Hadar Bakery?31IL17
            :61:261230D12,9NCHGNONREF
            :86:bank fee
            second line
            :61:2612311231RC50,NTRFREF7//B7
            :61:2701020102RD5,00NTRF
            :62F:C261231ILS11171,60
            """
        let lines = try MT940.parse(text)
        #expect(lines.count == 4)
        #expect(lines[0].amount == Decimal(string: "1234.50") && lines[0].bookingDay == Self.day29 && lines[0].bankReference == "LEU-9001")
        #expect(lines[0].remittance == "INV-1001 payment" && lines[0].counterpartyName == "Hadar Bakery" && lines[0].counterpartyAccount == "IL17")
        #expect(lines[0].currency == "ILS" && lines[0].account == "IL620108000000099999999")
        #expect(lines[1].amount == Decimal(string: "-12.90") && lines[1].remittance == "bank fee second line" && lines[1].bankReference == nil)
        #expect(lines[2].amount == -50 && lines[2].remittance == "REF7")    // a reversed credit is money out
        #expect(lines[3].amount == 5)                                        // a reversed debit is money in
        // Errors name the line.
        #expect(throws: BankFormatError("line 2", ":61: before any :25: account")) { try MT940.parse(":20:X\n:61:261129C1,00NTRF") }
        #expect(throws: BankFormatError.self) { try MT940.parse(":25:A\n:61:261329C1,00NTRF") }
        #expect(throws: BankFormatError.self) { try MT940.parse(":25:A\n:61:261129X1,00NTRF") }
        #expect(throws: BankFormatError.self) { try MT940.parse("hello") }
    }

    @Test("a CSV profile: credit and debit columns, dates as the bank writes them, total rows skipped; a bad row is named")
    func csvProfile() throws {
        var profile = BankCSVProfile(name: "test", date: "תאריך")
        profile.credit = "זכות"
        profile.debit = "חובה"
        profile.reference = "אסמכתא"
        profile.description = "תיאור"
        let csv = "תאריך,תיאור,אסמכתא,חובה,זכות\n29/11/2026,העברה,1,,\"1,234.50\"\n29/11/2026,עמלה,2,12.90,\n,סה\"כ,,12.90,1234.50\n"
        let lines = try profile.lines(try CSV.parse(Data(csv.utf8)), account: "12-600-1")
        #expect(lines.map(\.amount) == [Decimal(string: "1234.50")!, Decimal(string: "-12.90")!])
        #expect(lines[0].bookingDay == Self.day29 && lines[0].bankReference == "1" && lines[0].location == "line 2")
        let bad = "תאריך,תיאור,אסמכתא,חובה,זכות\n31/02/2026,x,1,,5\n"
        #expect(throws: BankFormatError("line 2", "date 31/02/2026 is not dd/MM/yyyy")) { try profile.lines(try CSV.parse(Data(bad.utf8)), account: "a") }
        let missing = "date,amount\n2026-11-29,5\n"
        #expect(throws: BankFormatError.self) { try profile.lines(try CSV.parse(Data(missing.utf8)), account: "a") }
    }

    @Test("amounts as banks write them; nothing else passes")
    func amounts() {
        #expect(BankText.amount("1,234.50") == Decimal(string: "1234.50"))
        #expect(BankText.amount("1.234,50", decimalComma: true) == Decimal(string: "1234.50"))
        #expect(BankText.amount("-12.9") == Decimal(string: "-12.9"))
        #expect(BankText.amount("12.90-") == Decimal(string: "-12.90"))
        #expect(BankText.amount("₪ 100") == 100)
        for bad in ["", "abc", "1.2.3", "1.234", "1e5", "--1", "٣"] { #expect(BankText.amount(bad) == nil, "\(bad)") }
    }

    @Test("duplicate keys: the bank's reference with day and amount, else the fields; identical lines stay distinct by occurrence")
    func duplicateKeys() {
        let a = BankLine(account: "A", bookingDay: 1, amount: 300, currency: "ILS", remittance: "INV 2001", location: "line 1")
        var b = a
        b.location = "line 2"
        let keys = BankLine.duplicateKeys([a, b])
        #expect(keys[0] != keys[1])
        #expect(BankLine.duplicateKeys([a, b]) == keys)   // the same statement again: the same keys
        var referenced = a
        referenced.bankReference = "778001"
        var sameReferenceOtherDay = referenced
        sameReferenceOtherDay.bookingDay = 2
        let referenceKeys = BankLine.duplicateKeys([referenced, sameReferenceOtherDay])
        #expect(referenceKeys[0] != referenceKeys[1])
    }
}
