import Foundation

/// Letters for the post as one printable document: one letter per page (A4), the recipient's name
/// and address placed where a left-window envelope (DIN C5/6, window 45 mm from the top, 20 mm from
/// the left) shows it, each letter's own right-to-left or left-to-right HTML below.
enum PostBatch {
    struct Letter: Sendable {
        var recipient: String
        var language: String
        var html: String
    }

    /// The batch as one HTML document.
    static func html(_ letters: [Letter]) -> String {
        var pages: [String] = []
        for letter in letters {
            let direction = letter.language == "he" ? "rtl" : "ltr"
            let address = escape(letter.recipient).replacingOccurrences(of: "\n", with: "<br>")
            pages.append("""
                <section class="letter" dir="\(direction)" lang="\(escape(letter.language))">
                <div class="window" dir="\(direction)">\(address)</div>
                <div class="content">\(bodyContent(letter.html))</div>
                </section>
                """)
        }
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>post</title>
            <style>
            @page { size: A4; margin: 0; }
            body { margin: 0; font-family: sans-serif; }
            section.letter { position: relative; width: 210mm; height: 297mm; page-break-after: always; box-sizing: border-box; }
            .window { position: absolute; top: 50mm; left: 25mm; width: 85mm; height: 35mm; overflow: hidden; line-height: 1.3; direction: inherit; }
            .content { position: absolute; top: 95mm; left: 20mm; right: 20mm; font-size: 10pt; line-height: 1.4; }
            .content table { border-collapse: collapse; } .content td, .content th { padding: .2em .6em; border-bottom: 1px solid #ccc; }
            .content pre { white-space: pre-wrap; font-family: inherit; margin: 0 0 1em 0; }
            </style></head>
            <body>
            \(pages.joined(separator: "\n"))
            </body></html>
            """
    }

    /// What lies between `<body>` and `</body>` (the whole text when there is no body element).
    static func bodyContent(_ html: String) -> String {
        guard let open = html.range(of: "<body>"), let close = html.range(of: "</body>", range: open.upperBound..<html.endIndex) else { return html }
        return String(html[open.upperBound..<close.lowerBound])
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Renders the batch to a PDF off the cooperative pool.
    static func pdf(_ letters: [Letter]) async throws -> [UInt8] {
        try await LetterPDF.render(html: html(letters), timeoutSeconds: 120)
    }
}
