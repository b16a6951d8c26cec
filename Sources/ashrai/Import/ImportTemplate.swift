import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser
import Foundation
import Glibc

/// `ashrai import template customers|invoices|payments`: the header row to fill in.
struct ImportTemplate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "Write a CSV header row for customers, invoices or payments to standard output (or --out FILE).")

    @OptionGroup var options: ClientOptions   // accepted like every command's; no server is needed
    @Argument(help: "customers, invoices or payments.") var kind: Import.Kind
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Flag(help: "Start with a BOM so Excel opens the file as UTF-8.") var bom = false

    func run() throws {
        var text = CSV.line(ImportFile.columns[kind]!) + "\r\n"
        if bom { text = "\u{FEFF}" + text }
        if let out {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch { throw ValidationError("cannot write \(out)") }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
