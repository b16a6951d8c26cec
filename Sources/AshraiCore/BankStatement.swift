import Foundation

/// One booked line of a bank statement, whatever the format it came in: money in is positive,
/// money out negative. `location` says where it was in the file, for errors and the worklist.
public struct BankLine: Sendable, Equatable {
    /// The business's own account the line is on (IBAN or the bank's account number).
    public var account: String
    public var bookingDay: Int
    public var valueDay: Int?
    public var amount: Decimal
    public var currency: String
    public var counterpartyName: String?
    public var counterpartyAccount: String?
    public var remittance: String?
    /// The bank's own reference for the line, when it gives one.
    public var bankReference: String?
    public var location: String

    public init(account: String, bookingDay: Int, valueDay: Int? = nil, amount: Decimal, currency: String, counterpartyName: String? = nil,
                counterpartyAccount: String? = nil, remittance: String? = nil, bankReference: String? = nil, location: String) {
        self.account = account
        self.bookingDay = bookingDay
        self.valueDay = valueDay
        self.amount = amount
        self.currency = currency
        self.counterpartyName = counterpartyName
        self.counterpartyAccount = counterpartyAccount
        self.remittance = remittance
        self.bankReference = bankReference
        self.location = location
    }

    /// What identifies the line across imports: the bank's reference with the day and amount when
    /// it gives one (an Israeli אסמכתא is not unique on its own); else all its fields. Either way
    /// with which occurrence of that key it is in the statement, so two identical transfers on one
    /// day stay two lines, and importing the statement again finds both.
    public static func duplicateKeys(_ lines: [BankLine]) -> [String] {
        var seen: [String: Int] = [:]
        return lines.map { line in
            let amount = "\(line.amount)"
            let fields: String
            if let reference = line.bankReference, !reference.isEmpty {
                fields = ["ref", reference, String(line.bookingDay), amount].joined(separator: "\u{1F}")
            } else {
                fields = ["fields", String(line.bookingDay), line.valueDay.map(String.init) ?? "", amount, line.currency,
                          line.counterpartyName ?? "", line.counterpartyAccount ?? "", line.remittance ?? ""].joined(separator: "\u{1F}")
            }
            let occurrence = seen[fields, default: 0]
            seen[fields] = occurrence + 1
            return fields + "\u{1F}" + String(occurrence)
        }
    }
}

/// A statement's format, as `bank_statements.format` stores it.
public enum BankStatementFormat: String, Sendable, CaseIterable, Codable {
    /// ISO 20022 bank-to-customer statement, versions .001.02 to .001.08.
    case camt053
    /// SWIFT MT940.
    case mt940
    /// A bank's web export, read through a profile in `Config/bank-profiles/`.
    case csv
}

/// Where a bank line stands, as `bank_transactions.status` stores it.
public enum BankTransactionStatus: String, Sendable, CaseIterable, Codable {
    /// Not yet matched to a customer (the worklist).
    case unmatched
    /// Recorded as a payment (`payment_id`).
    case posted
    /// Money out that brought a payment back (a bounced cheque, a returned transfer): that payment
    /// (`payment_id`) was reversed.
    case returned
    /// Not a customer payment (a fee, a salary, a transfer between accounts), with the reason.
    case ignored
}

/// A statement that cannot be read: where, and what is wrong. Nothing of it is imported.
public struct BankFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public var location: String
    public var message: String

    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// How a statement's text writes amounts and dates.
public enum BankText {
    /// `1234.56`, `1,234.56`, `1234,56` (MT940) or `-12.50`; nil when it is not an amount of at most 2 decimals.
    public static func amount(_ text: String, decimalComma: Bool = false) -> Decimal? {
        var cleaned = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\u{A0}", with: "")
        for symbol in ["₪", "ILS", "NIS", "USD", "EUR", "$", "€"] { cleaned = cleaned.replacingOccurrences(of: symbol, with: "") }
        cleaned = cleaned.trimmingCharacters(in: .whitespaces)
        if decimalComma {
            cleaned = cleaned.replacingOccurrences(of: ".", with: "").replacingOccurrences(of: ",", with: ".")
        } else {
            cleaned = cleaned.replacingOccurrences(of: ",", with: "")
        }
        if cleaned.hasSuffix(".") { cleaned += "0" }
        var negative = false
        if cleaned.hasPrefix("-") { negative = true; cleaned.removeFirst() }
        if cleaned.hasSuffix("-") { negative = true; cleaned.removeLast() }   // "123.45-" in some exports
        let parts = cleaned.split(separator: ".", omittingEmptySubsequences: false)
        guard !cleaned.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              !parts[0].isEmpty, parts[0].count <= 15, parts.count == 1 || (1...2).contains(parts[1].count),
              let value = Decimal(string: cleaned, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        return negative ? -value : value
    }

    /// A date in `format`: `yyyy-MM-dd`, `dd/MM/yyyy`, `dd.MM.yyyy`, `dd/MM/yy`, `yyMMdd`, `MM/dd/yyyy`.
    public static func day(_ text: String, format: String) -> Int? {
        let digits = text.trimmingCharacters(in: .whitespaces)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= digits.count else { return nil }
            let start = digits.index(digits.startIndex, offsetBy: range.lowerBound)
            let end = digits.index(digits.startIndex, offsetBy: range.upperBound)
            let slice = digits[start..<end]
            return slice.allSatisfy(\.isNumber) && slice.allSatisfy(\.isASCII) ? Int(slice) : nil
        }
        guard digits.count == format.count else { return nil }
        var year: Int?, month: Int?, dayOfMonth: Int?
        switch format {
        case "yyyy-MM-dd": (year, month, dayOfMonth) = (number(0..<4), number(5..<7), number(8..<10))
        case "dd/MM/yyyy", "dd.MM.yyyy", "dd-MM-yyyy": (year, month, dayOfMonth) = (number(6..<10), number(3..<5), number(0..<2))
        case "MM/dd/yyyy": (year, month, dayOfMonth) = (number(6..<10), number(0..<2), number(3..<5))
        case "dd/MM/yy": (year, month, dayOfMonth) = (number(6..<8).map { 2000 + $0 }, number(3..<5), number(0..<2))
        case "yyMMdd": (year, month, dayOfMonth) = (number(0..<2).map { 2000 + $0 }, number(2..<4), number(4..<6))
        default: return nil
        }
        guard let year, let month, let dayOfMonth, (1...12).contains(month), (1...CivilDay.daysIn(month: month, year: year)).contains(dayOfMonth)
        else { return nil }
        return CivilDay.day(year: year, month: month, day: dayOfMonth)
    }
}

/// SWIFT MT940 (customer statement message): `:25:` the account, `:60F:` the opening balance (and
/// the currency), a `:61:` per line with its `:86:` information, `:62F:` the closing balance.
/// Several statements may follow one another. Lines are read as the banks write them: the
/// `:61:` value date YYMMDD, an optional entry date MMDD, C/D/RC/RD, an optional funds code, the
/// amount with a decimal comma, the transaction type (N/F + 3), the customer's reference and
/// after `//` the bank's.
public enum MT940 {
    public static func parse(_ text: String) throws(BankFormatError) -> [BankLine] {
        // Tags start a line with ":NN[A]:"; other lines continue the tag before them.
        var fields: [(tag: String, value: String, line: Int)] = []
        for (index, raw) in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix(":"), let close = line.dropFirst().firstIndex(of: ":") {
                let tag = String(line[line.index(after: line.startIndex)..<close])
                if !tag.isEmpty, tag.count <= 3, tag.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) {
                    fields.append((tag, String(line[line.index(after: close)...]), index + 1))
                    continue
                }
            }
            if line == "-" || line.hasPrefix("{") || line.hasPrefix("-}") { continue }   // block delimiters
            if fields.isEmpty {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                throw BankFormatError("line \(index + 1)", "MT940 starts with a tag such as :20:")
            }
            fields[fields.count - 1].value += "\n" + line
        }
        guard fields.contains(where: { $0.tag == "61" || $0.tag == "25" }) else { throw BankFormatError("line 1", "no :25: account or :61: line: not an MT940 statement") }
        var lines: [BankLine] = []
        var account: String?
        var currency: String?
        for field in fields {
            let location = "line \(field.line)"
            switch field.tag {
            case "25":
                account = field.value.trimmingCharacters(in: .whitespacesAndNewlines)
            case "60F", "60M":
                let value = field.value.trimmingCharacters(in: .whitespacesAndNewlines)
                guard value.count >= 10 else { throw BankFormatError(location, ":60F: is C/D, YYMMDD, the currency and the balance") }
                currency = String(value.dropFirst(7).prefix(3))
            case "61":
                guard let account else { throw BankFormatError(location, ":61: before any :25: account") }
                lines.append(try statementLine(field.value, account: account, currency: currency ?? "ILS", location: location))
            case "86":
                guard !lines.isEmpty else { continue }
                let info = field.value.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
                lines[lines.count - 1].remittance = info.isEmpty ? nil : String(info.prefix(500))
                // Structured :86: (?20–?29 remittance, ?32/?33 name, ?31 account), as many banks write it.
                if info.contains("?") {
                    var parts: [String: String] = [:]
                    for piece in info.split(separator: "?", omittingEmptySubsequences: false).dropFirst() where piece.count >= 2 {
                        let code = String(piece.prefix(2))
                        parts[code, default: ""] += String(piece.dropFirst(2))
                    }
                    let remittance = (20...29).compactMap { parts[String($0)] }.joined()
                    if !remittance.isEmpty { lines[lines.count - 1].remittance = String(remittance.prefix(500)) }
                    let name = [parts["32"], parts["33"]].compactMap { $0 }.joined()
                    if !name.isEmpty { lines[lines.count - 1].counterpartyName = name }
                    if let account = parts["31"], !account.isEmpty { lines[lines.count - 1].counterpartyAccount = account }
                }
            default:
                continue
            }
        }
        return lines
    }

    static func statementLine(_ value: String, account: String, currency: String, location: String) throws(BankFormatError) -> BankLine {
        let firstLine = value.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var rest = Substring(firstLine)
        func take(_ count: Int) -> Substring? {
            guard rest.count >= count else { return nil }
            let head = rest.prefix(count)
            rest = rest.dropFirst(count)
            return head
        }
        guard let valueText = take(6), let valueDay = BankText.day(String(valueText), format: "yyMMdd") else {
            throw BankFormatError(location, ":61: starts with the value date YYMMDD")
        }
        var bookingDay = valueDay
        if let entry = rest.prefix(4).allSatisfy(\.isNumber) && rest.count >= 4 ? rest.prefix(4) : nil {
            rest = rest.dropFirst(4)
            let month = Int(entry.prefix(2)) ?? 0, dayOfMonth = Int(entry.suffix(2)) ?? 0
            let valueDate = CivilDay.components(valueDay)
            // The entry date may fall in the year before or after the value date (around New Year).
            let candidates = [valueDate.year - 1, valueDate.year, valueDate.year + 1].compactMap { year -> Int? in
                guard (1...12).contains(month), (1...CivilDay.daysIn(month: month, year: year)).contains(dayOfMonth) else { return nil }
                return CivilDay.day(year: year, month: month, day: dayOfMonth)
            }
            guard let nearest = candidates.min(by: { abs($0 - valueDay) < abs($1 - valueDay) }) else {
                throw BankFormatError(location, ":61: entry date MMDD is not a date")
            }
            bookingDay = nearest
        }
        let sign: Decimal
        if rest.hasPrefix("RC") { sign = -1; rest = rest.dropFirst(2) }        // reversal of a credit: money out
        else if rest.hasPrefix("RD") { sign = 1; rest = rest.dropFirst(2) }    // reversal of a debit: money in
        else if rest.hasPrefix("C") { sign = 1; rest = rest.dropFirst() }
        else if rest.hasPrefix("D") { sign = -1; rest = rest.dropFirst() }
        else { throw BankFormatError(location, ":61: needs C, D, RC or RD after the dates") }
        if let first = rest.first, first.isLetter { rest = rest.dropFirst() }   // funds code (third letter of the currency)
        let amountText = rest.prefix { $0.isNumber || $0 == "," }
        rest = rest.dropFirst(amountText.count)
        guard let amount = BankText.amount(String(amountText), decimalComma: true), amount > 0 else {
            throw BankFormatError(location, ":61: amount \(amountText) is not an amount like 1234,56")
        }
        guard rest.count >= 4, rest.first == "N" || rest.first == "F" || rest.first == "S" else {
            throw BankFormatError(location, ":61: needs the transaction type (N + 3 characters) after the amount")
        }
        rest = rest.dropFirst(4)
        let references = rest.components(separatedBy: "//")
        let bankReference = references.count > 1 ? references[1].trimmingCharacters(in: .whitespaces) : nil
        let customerReference = references[0].trimmingCharacters(in: .whitespaces)
        return BankLine(account: account, bookingDay: bookingDay, valueDay: valueDay, amount: sign * amount, currency: currency,
                        remittance: customerReference.isEmpty || customerReference == "NONREF" ? nil : customerReference,
                        bankReference: bankReference.flatMap { $0.isEmpty ? nil : $0 }, location: location)
    }
}

/// How one bank's CSV export maps to statement lines (`Config/bank-profiles/NAME.json`): which
/// header names the date, value date, amount (or separate credit and debit columns), reference,
/// description, payer and payer account, how dates are written, and the delimiter.
public struct BankCSVProfile: Sendable, Equatable {
    public var name: String
    public var delimiter: Unicode.Scalar = ","
    public var dateFormat = "dd/MM/yyyy"
    public var currency = "ILS"
    /// Header names (as the export writes them) for each field.
    public var date: String
    public var valueDate: String?
    public var amount: String?
    public var credit: String?
    public var debit: String?
    public var reference: String?
    public var description: String?
    public var payer: String?
    public var payerAccount: String?
    /// Rows before the header (a bank's title lines).
    public var skipRows = 0

    public init(name: String, date: String) {
        self.name = name
        self.date = date
    }

    /// The lines of an export in this profile, on `account`. Rows whose date cell is empty (totals,
    /// blank lines) are skipped; any other row that does not read is an error naming its line.
    public func lines(_ records: [CSV.Record], account: String) throws(BankFormatError) -> [BankLine] {
        let rows = records.dropFirst(skipRows)
        guard let header = rows.first else { throw BankFormatError("line 1", "the file has no header row") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        func column(_ name: String?) throws(BankFormatError) -> Int? {
            guard let name else { return nil }
            guard let index = names.firstIndex(of: name) else {
                throw BankFormatError("line \(header.line)", "no column \"\(name)\" (profile \(self.name) expects it; the header has: \(names.joined(separator: ", ")))")
            }
            return index
        }
        let dateColumn = try column(date)!
        let valueColumn = try column(valueDate), amountColumn = try column(amount), creditColumn = try column(credit), debitColumn = try column(debit)
        let referenceColumn = try column(reference), descriptionColumn = try column(description)
        let payerColumn = try column(payer), payerAccountColumn = try column(payerAccount)
        guard amountColumn != nil || creditColumn != nil || debitColumn != nil else {
            throw BankFormatError("profile \(name)", "names no amount, credit or debit column")
        }
        var lines: [BankLine] = []
        for record in rows.dropFirst() {
            let location = "line \(record.line)"
            func cell(_ index: Int?) -> String? {
                guard let index, index < record.fields.count else { return nil }
                let value = record.fields[index].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            guard let dateText = cell(dateColumn) else { continue }
            guard let bookingDay = BankText.day(dateText, format: dateFormat) else {
                throw BankFormatError(location, "date \(dateText) is not \(dateFormat)")
            }
            var valueDay: Int?
            if let text = cell(valueColumn) {
                guard let day = BankText.day(text, format: dateFormat) else { throw BankFormatError(location, "value date \(text) is not \(dateFormat)") }
                valueDay = day
            }
            var amount: Decimal = 0
            if let text = cell(amountColumn) {
                guard let value = BankText.amount(text) else { throw BankFormatError(location, "amount \(text) is not an amount") }
                amount = value
            } else {
                let credit = try cell(creditColumn).map { text throws(BankFormatError) -> Decimal in
                    guard let value = BankText.amount(text) else { throw BankFormatError(location, "credit \(text) is not an amount") }
                    return value
                } ?? 0
                let debit = try cell(debitColumn).map { text throws(BankFormatError) -> Decimal in
                    guard let value = BankText.amount(text) else { throw BankFormatError(location, "debit \(text) is not an amount") }
                    return value
                } ?? 0
                amount = credit - abs(debit)
            }
            guard amount != 0 else { continue }   // a balance-only row
            lines.append(BankLine(account: account, bookingDay: bookingDay, valueDay: valueDay, amount: amount, currency: currency,
                                  counterpartyName: cell(payerColumn), counterpartyAccount: cell(payerAccountColumn),
                                  remittance: cell(descriptionColumn).map { String($0.prefix(500)) }, bankReference: cell(referenceColumn),
                                  location: location))
        }
        return lines
    }
}
