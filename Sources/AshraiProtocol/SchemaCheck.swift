import AshraiCore

/// Checks a value against the subset of JSON Schema the method catalog writes: `type` (one or a
/// list), `properties`, `required`, `additionalProperties` (false; true keeps a strict check open), `items`, `enum`, `oneOf`,
/// `minimum`, `maxLength` (in characters) and the formats `date`, `date-time` and the money
/// pattern. Used by the tests to hold every reply a test receives to the documented result.
public enum SchemaCheck {
    /// Every way `value` departs from `schema`, each with its path (`$.invoices[0].amount`).
    /// `strict`: a member an object's `properties` do not name is a problem too.
    public static func problems(_ value: JSONValue, against schema: JSONValue, at path: String = "$", strict: Bool = false) -> [String] {
        guard case .object(let rules) = schema else { return [] }
        var found: [String] = []
        if let options = rules["oneOf"]?.arrayValue {
            let matching = options.filter { problems(value, against: $0, at: path, strict: strict).isEmpty }
            if matching.count != 1 {
                found.append("\(path): matches \(matching.count) of the oneOf choices, not one")
            }
        }
        if let type = rules["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !allowed.contains(where: { matches(value, type: $0) }) {
                found.append("\(path): expected \(allowed.joined(separator: " or ")), got \(kind(of: value))")
                return found
            }
        }
        if let choices = rules["enum"]?.arrayValue, !choices.contains(value) {
            found.append("\(path): \(value.encoded()) is not one of \(JSONValue.array(choices).encoded())")
        }
        switch value {
        case .string(let text):
            if let max = rules["maxLength"]?.intValue, text.count > max { found.append("\(path): longer than \(max)") }
            switch rules["format"]?.stringValue {
            case "date"?: if !isDate(text) { found.append("\(path): \"\(text)\" is not a date (YYYY-MM-DD)") }
            case "date-time"?: if RFC3339.parse(text) == nil { found.append("\(path): \"\(text)\" is not an RFC 3339 instant") }
            default: break
            }
            if rules["pattern"]?.stringValue == Schema.money["pattern"]?.stringValue, !isDecimal(text) {
                found.append("\(path): \"\(text)\" is not a decimal string")
            }
        case .number(let text):
            if let minimum = rules["minimum"]?.intValue, let number = Int(text), number < minimum {
                found.append("\(path): \(number) is below \(minimum)")
            }
        case .array(let items):
            if let itemSchema = rules["items"] {
                for (index, item) in items.enumerated() {
                    found += problems(item, against: itemSchema, at: "\(path)[\(index)]", strict: strict)
                }
            }
        case .object(let members):
            let properties = rules["properties"]?.objectValue ?? [:]
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                found.append("\(path): missing \(name)")
            }
            for (name, member) in members {
                if let propertySchema = properties[name] {
                    found += problems(member, against: propertySchema, at: "\(path).\(name)", strict: strict)
                } else if rules["additionalProperties"] == .bool(false) || (strict && rules["properties"] != nil && rules["additionalProperties"] != .bool(true)) {
                    found.append("\(path): \(name) is not documented")
                }
            }
        case .null, .bool:
            break
        }
        return found
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .number): return true
        case ("integer", .number(let text)): return Int(text) != nil
        default: return false
        }
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month) else { return false }
        return (1...CivilDay.daysIn(month: month, year: year)).contains(day)
    }

    static func isDecimal(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }
}
