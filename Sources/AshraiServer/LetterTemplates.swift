import AshraiProtocol
import Foundation
import Mustache

/// The letter templates of `dunning.templates`, loaded once: `TEMPLATE.LANG.txt.mustache`
/// (text, no escaping; `_name.LANG` files are partials) and `layout.LANG.html.mustache`
/// (the HTML copy, escaped, with the text body inside).
public struct LetterTemplates: Sendable {
    let library: MustacheLibrary
    /// Template names (`reminder.he`, …) that were loaded.
    public let names: Set<String>

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads every `*.mustache` file in `directory`.
    public static func load(directory: String) throws -> LetterTemplates {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw LoadError(description: "cannot read the letter templates directory \(directory)")
        }
        var library = MustacheLibrary()
        var names: Set<String> = []
        for file in files.sorted() where file.hasSuffix(".mustache") {
            let name = file.replacingOccurrences(of: ".txt.mustache", with: "").replacingOccurrences(of: ".html.mustache", with: "")
                .replacingOccurrences(of: ".mustache", with: "")
            do {
                let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
                try library.register(text, named: name)
            } catch {
                throw LoadError(description: "letter template \(file) does not parse: \(error)")
            }
            names.insert(name)
        }
        return LetterTemplates(library: library, names: names)
    }

    /// Whether the policy's `template` exists in `language`.
    public func has(_ template: String, language: String) -> Bool { names.contains("\(template).\(language)") }

    /// The text and HTML of a letter from its data.
    public func render(template: String, language: String, data: JSONValue) throws -> (text: String, html: String) {
        let context = Self.mustacheValue(data)
        guard let text = library.render(context, withTemplate: "\(template).\(language)") else {
            throw LoadError(description: "no letter template \(template).\(language)")
        }
        var withBody = data.objectValue ?? [:]
        withBody["body"] = .string(text)
        withBody["subject"] = .string(text.split(separator: "\n").first { $0.contains(":") }.map(String.init) ?? template)
        let html = library.render(Self.mustacheValue(.object(withBody)), withTemplate: "layout.\(language)") ?? ""
        return (text, html)
    }

    /// A letter's subject, for an e-mail: its first line with a colon ("Subject: …", "הנדון: …"),
    /// without the label; nil when it has none.
    public static func subject(ofText text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains(":") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        let subject = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return subject.isEmpty ? nil : subject
    }

    /// JSON as Mustache reads it: objects → dictionaries, arrays → arrays, strings and numbers
    /// → their text, booleans → Bool (so `{{#flag}}` sections work), null → absent.
    static func mustacheValue(_ value: JSONValue) -> Any {
        switch value {
        case .object(let object):
            var result: [String: Any] = [:]
            for (key, member) in object where !member.isNull { result[key] = mustacheValue(member) }
            return result
        case .array(let items): return items.map(mustacheValue)
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag
        case .null: return ""
        }
    }
}
