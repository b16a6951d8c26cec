import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct LettersPrint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print", abstract: "The letters waiting for the post as one PDF to print (one per page, for window envelopes); marks them sent.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only letters dated on or after this day (YYYY-MM-DD).") var since: String?
    @Option(help: "At most this many letters (1–100).") var limit: Int?
    @Option(help: "Where to write the PDF.") var out: String
    @Option(help: "The channel printed: post (e-mail, SMS and WhatsApp are sent by the daemon).") var channel = "post"

    func validate() throws {
        guard channel == "post" else { throw ValidationError("only post is printed; e-mail, SMS and WhatsApp messages are sent by the daemon") }
    }

    func run() async throws {
        var params: JSONObject = [:]
        if let since { params["since"] = .string(since) }
        if let limit { params["limit"] = .int(limit) }
        try await options.run { connection in
            let result = try await connection.call("letters.print", params)
            if let encoded = result["pdf_base64"]?.stringValue, let pdf = Data(base64Encoded: encoded) {
                try pdf.write(to: URL(fileURLWithPath: out))
            }
            let cancelled = result["cancelled"]?.arrayValue ?? []
            options.show(result) { r in
                let count = r["letters"]?.arrayValue?.count ?? 0
                return (count == 0 ? "no letters waiting for the post" : "\(count) letters, \(r["pages"]?.cell ?? "?") pages → \(out)")
                    + cancelled.map { "\nnot printed: letter #\($0["letter_id"]?.cell ?? "?") — \($0["reason"]?.cell ?? "")" }.joined()
            }
        }
    }
}
