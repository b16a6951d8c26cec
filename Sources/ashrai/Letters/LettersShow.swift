import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct LettersShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a letter, or save it with --out FILE.txt or FILE.html.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Letter id.") var letter: Int
    @Option(help: "Save to FILE.txt (text) or FILE.html (HTML) instead of printing.") var out: String?

    func run() async throws {
        if let out, !(out.hasSuffix(".txt") || out.hasSuffix(".html")) { throw ValidationError("--out must end in .txt or .html") }
        try await options.run { connection in
            let result = try await connection.call("letters.get", ["id": .int(letter)])
            if let out {
                let body = (out.hasSuffix(".html") ? result["html"] : result["text"])?.stringValue ?? ""
                guard FileManager.default.createFile(atPath: out, contents: Data(body.utf8)) else { throw ValidationError("cannot write \(out)") }
                print("saved letter #\(letter) to \(out)")
            } else {
                options.show(result) { $0["text"]?.stringValue ?? "" }
            }
        }
    }
}
