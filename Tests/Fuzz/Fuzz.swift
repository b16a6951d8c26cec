import Foundation

// libFuzzer harness (`make fuzz`): compiled as one module with AshraiCore (with the CSV reader and the
// bank-statement parsers) and AshraiProtocol by Scripts/fuzz. The first byte picks the target; each target checks an
// invariant besides "does not crash", so a wrong answer is a finding too.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let input = Array(bytes.dropFirst())
    switch bytes[0] % 6 {
    case 0: fuzzJSON(input)
    case 1: fuzzFraming(input)
    case 2: fuzzMoney(input)
    case 3: fuzzInstant(input)
    case 4: fuzzCSV(input)
    default: fuzzMT940(input)
    }
    return 0
}

/// The wire parser: anything it accepts encodes to text it accepts again, as the same value.
func fuzzJSON(_ input: [UInt8]) {
    guard let value = try? JSONValue.parse(input) else { return }
    let encoded = value.encodedBytes()
    guard let again = try? JSONValue.parse(encoded) else { fatalError("encoded JSON does not parse: \(value.encoded())") }
    precondition(again == value, "parse(encode(v)) != v for \(value.encoded())")
}

/// The line framer: lines never pass the limit, hold no newline, and feeding the bytes in two
/// pieces frames them exactly as feeding them at once.
func fuzzFraming(_ input: [UInt8]) {
    guard input.count >= 2 else { return }
    let limit = Int(input[0]) + 1
    let split = Int(input[1])
    let stream = Array(input.dropFirst(2))
    func frame(_ buffer: [UInt8], scanned: Int) -> [LineFraming.Next] {
        var buffer = buffer, scanned = scanned, results: [LineFraming.Next] = []
        while true {
            let next = LineFraming.next(in: buffer, scanned: scanned, limit: limit)
            results.append(next)
            switch next {
            case .line(let length):
                precondition(length <= limit + 1 && buffer[length] == UInt8(ascii: "\n") && !buffer[..<length].contains(UInt8(ascii: "\n")))
                buffer.removeFirst(length + 1)
                scanned = 0
            case .needMore(let seen):
                precondition(seen == buffer.count && !buffer.contains(UInt8(ascii: "\n")) && buffer.count <= limit + 1)
                return results
            case .tooLong:
                return results
            }
        }
    }
    let whole = frame(stream, scanned: 0)
    // The same bytes in two pieces: frame the first, then resume with the rest appended.
    let cut = min(split, stream.count)
    var first = frame(Array(stream[..<cut]), scanned: 0)
    guard case .needMore(let seen)? = first.last else { return }   // a line or an error already: compared below only when resumable
    first.removeLast()
    var consumed = 0
    for case .line(let length) in first { consumed += length + 1 }
    let rest = Array(stream[consumed...])
    let resumed = first + frame(rest, scanned: seen)
    precondition(resumed == whole, "framing depends on how the bytes arrive")
}

/// Money: an amount it accepts prints to a text that parses to the same amount.
func fuzzMoney(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    for currency in [Currency.ils, Currency(code: "JPY")!, Currency(code: "XXX")!.withMinorUnits(4)] {
        guard let money = try? Money.parse(text, currency: currency) else { continue }
        guard let again = try? Money.parse(money.text, currency: currency) else { fatalError("\(money.text) does not parse again") }
        precondition(again == money, "\(text) → \(money.text) → \(again.text)")
    }
}

/// Instants: whatever is accepted is a real day inside what a Date holds, and the window check never traps.
func fuzzInstant(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    guard let date = RFC3339.parse(text) else { return }
    precondition(date.timeIntervalSince1970.isFinite)
    _ = DateWindow.contains(Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))
}

/// The CSV reader: never traps; every record has a line number at or after the previous one's.
/// The MT940 reader (a bank's file is untrusted): every line it accepts has an amount of at most
/// two decimals that is not zero, on a real day, and its duplicate keys are as many as its lines.
func fuzzMT940(_ input: [UInt8]) {
    guard let text = String(bytes: input, encoding: .utf8), let lines = try? MT940.parse(text) else { return }
    for line in lines {
        precondition(line.amount != 0, "a zero amount from \(text)")
        precondition(Money.round(line.amount, scale: 2) == line.amount, "more than two decimals from \(text)")
        let date = CivilDay.components(line.bookingDay)
        precondition(CivilDay.day(year: date.year, month: date.month, day: date.day) == line.bookingDay)
    }
    precondition(BankLine.duplicateKeys(lines).count == lines.count)
}

func fuzzCSV(_ input: [UInt8]) {
    guard let records = try? CSV.parse(Data(input)) else { return }
    var last = 0
    for record in records {
        precondition(record.line >= last && record.line >= 1)
        last = record.line
    }
}
