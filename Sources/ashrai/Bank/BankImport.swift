import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai bank import FILE [--format camt053|mt940|csv] [--profile NAME --account ACCOUNT] [--dry-run]`.
struct BankImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a bank statement; each line once (a statement imported again adds nothing).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The statement file.") var file: String
    @Option(help: "camt053, mt940 or csv (default: from the file: XML is camt053, :20:/:61: tags are MT940, else csv).") var format: String?
    @Option(help: "For a CSV export: the bank's profile (ashrai bank profiles).") var profile: String?
    @Option(help: "For a CSV export: the business's account the statement is of.") var account: String?
    @Flag(help: "Read and count without importing.") var dryRun = false

    /// The format a statement's text is in, when not given.
    static func detect(_ text: String) -> String {
        let start = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        if start.hasPrefix("<") { return "camt053" }
        if start.hasPrefix(":20:") || start.hasPrefix("{1:") || text.contains("\n:61:") { return "mt940" }
        return "csv"
    }

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw ValidationError("\(file) is not UTF-8") }
        let chosen = format ?? Self.detect(text)
        var params: JSONObject = ["format": .string(chosen), "content": .string(text), "dry_run": .bool(dryRun)]
        if let profile { params["profile"] = .string(profile) }
        if let account { params["account"] = .string(account) }
        try await options.run { connection in
            options.show(try await connection.call("bank.statements.import", params)) { r in
                let head = "\(chosen): \(r["lines"]?.cell ?? "0") lines, \(r["new"]?.cell ?? "0") new, \(r["duplicates"]?.cell ?? "0") already imported"
                    + " — in \(r["credits"]?.cell ?? "0.00"), out \(r["debits"]?.cell ?? "0.00")" + (dryRun ? " (dry run: nothing imported)" : "")
                let lines = r["transactions"]?.arrayValue ?? []
                return lines.isEmpty ? head : head + "\n" + bankTable(lines)
            }
        }
    }
}
