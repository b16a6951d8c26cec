import AshraiProtocol
import ArgumentParser

/// Aligned text tables. Widths are measured in terminal cells per grapheme cluster, so
/// Hebrew (one cell a letter, vowel points in the same cell) and wide CJK/emoji (two cells)
/// do not push the other columns out of line.
struct Table {
    var headers: [String]
    var rows: [[String]]

    func render() -> String {
        var widths = headers.map(Self.displayWidth)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], Self.displayWidth(cell))
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - Self.displayWidth(cell))
            }.joined(separator: "  ")
        }
        var output = [line(headers), line(widths.map { String(repeating: "-", count: $0) })]
        output += rows.map(line)
        return output.joined(separator: "\n")
    }

    /// Terminal cells of a string.
    static func displayWidth(_ text: String) -> Int {
        text.reduce(0) { total, character in
            guard let scalar = character.unicodeScalars.first else { return total }
            if scalar.properties.generalCategory == .control { return total }
            return total + (isWide(scalar) ? 2 : 1)
        }
    }

    static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return scalar.properties.isEmojiPresentation
        }
    }
}

extension JSONValue {
    /// A cell: strings bare, null as "-", others as JSON.
    var cell: String {
        switch self {
        case .string(let text): return text
        case .null: return "-"
        case .bool(let value): return value ? "yes" : "no"
        default: return encoded()
        }
    }
}

/// The columns users are shown with.
func userTable(_ users: [JSONValue]) -> String {
    Table(headers: ["ID", "USERNAME", "NAME", "ROLE", "AGENCY", "DISABLED", "MUST CHANGE PW"],
          rows: users.map { user in
              ["id", "username", "display_name", "role", "agency_id", "disabled", "must_change_password"].map { user[$0]?.cell ?? "-" }
          }).render()
}

/// A comma-separated list of ids (`--invoices 12,13`), each a positive integer; nil for none given.
func idList(_ text: String?) throws -> [JSONValue]? {
    guard let text, !text.isEmpty else { return nil }
    return try text.split(separator: ",").map { part in
        guard let id = Int(part.trimmingCharacters(in: .whitespaces)), id > 0 else { throw ValidationError("ids are positive integers separated by commas") }
        return .int(id)
    }
}
