import Foundation

/// RFC 4180 CSV as spreadsheets write it: UTF-8 (a leading BOM from Excel is dropped),
/// quoted fields with doubled quotes and embedded newlines, `\n` or `\r\n` records. Used by the
/// CLI's imports and by the server's bank-statement import.
public enum CSV {
    /// A record and the line it starts on (1-based, the header is line 1).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `delimiter`: `,` by default; `;` and tab are seen in bank exports.
    public static func parse(_ data: Data, delimiter: Unicode.Scalar = ",") throws -> [Record] {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw Failure(description: "the file is not UTF-8") }
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var fieldWasQuoted = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
            field = ""
            fieldWasQuoted = false
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let after = next() {
                        if after == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = after }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty:
                inQuotes = true
                fieldWasQuoted = true
            case delimiter:
                fields.append(field)
                field = ""
                fieldWasQuoted = false
            case "\r":
                continue
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw Failure(description: "line \(recordLine): a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// One CSV line (no newline), quoting fields that need it.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
