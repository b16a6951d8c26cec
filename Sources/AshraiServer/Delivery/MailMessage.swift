import Foundation

/// One e-mail as the outbox hands it over.
struct OutgoingMail: Sendable, Equatable {
    var fromAddress: String
    var fromName: String
    var replyTo: String?
    var to: String
    var subject: String
    var text: String
    var html: String?
    /// Without angle brackets; the same on every attempt.
    var messageID: String
    var date: Date
    /// Extra headers from configuration (business headers), already validated as printable ASCII names.
    var headers: [(name: String, value: String)] = []
    /// Files attached after the body (the letter as a PDF).
    var attachments: [Attachment] = []

    struct Attachment: Sendable, Equatable {
        var filename: String
        var contentType: String
        var bytes: [UInt8]
    }

    static func == (lhs: OutgoingMail, rhs: OutgoingMail) -> Bool {
        lhs.fromAddress == rhs.fromAddress && lhs.fromName == rhs.fromName && lhs.replyTo == rhs.replyTo && lhs.to == rhs.to
            && lhs.subject == rhs.subject && lhs.text == rhs.text && lhs.html == rhs.html && lhs.messageID == rhs.messageID
            && lhs.date == rhs.date && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
            && lhs.attachments == rhs.attachments
    }
}

/// The message format (RFC 5322 + MIME), not the protocol: libcurl speaks SMTP, this only writes
/// the bytes it carries. Text and HTML as `multipart/alternative`, each part UTF-8 in base64;
/// non-ASCII header values as RFC 2047 encoded words, so Hebrew subjects and names survive.
enum MailFormat {
    /// The whole message, CRLF line ends.
    static func message(_ mail: OutgoingMail) -> [UInt8] {
        var lines: [String] = []
        lines.append("From: \(mailbox(name: mail.fromName, address: mail.fromAddress))")
        lines.append("To: <\(mail.to)>")
        if let replyTo = mail.replyTo { lines.append("Reply-To: <\(replyTo)>") }
        lines.append("Subject: \(encodedWords(mail.subject))")
        lines.append("Date: \(rfc5322Date(mail.date))")
        lines.append("Message-ID: <\(mail.messageID)>")
        lines.append("MIME-Version: 1.0")
        for header in mail.headers { lines.append("\(header.name): \(encodedWords(header.value))") }
        let token = String(mail.messageID.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(32))
        if mail.attachments.isEmpty {
            lines += body(mail, token: token)
        } else {
            let mixed = "ashrai-mix-" + token
            lines.append("Content-Type: multipart/mixed; boundary=\"\(mixed)\"")
            lines.append("")
            lines.append("--\(mixed)")
            lines += body(mail, token: token)
            for attachment in mail.attachments {
                lines.append("--\(mixed)")
                lines.append("Content-Type: \(attachment.contentType); name=\"\(attachment.filename)\"")
                lines.append("Content-Disposition: attachment; filename=\"\(attachment.filename)\"")
                lines.append("Content-Transfer-Encoding: base64")
                lines.append("")
                lines += base64Lines(attachment.bytes)
            }
            lines.append("--\(mixed)--")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// The readable part: text and HTML as `multipart/alternative`, or text alone.
    static func body(_ mail: OutgoingMail, token: String) -> [String] {
        guard let html = mail.html else { return part(contentType: "text/plain; charset=utf-8", body: mail.text) }
        let boundary = "ashrai-alt-" + token
        return ["Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "", "--\(boundary)"]
            + part(contentType: "text/plain; charset=utf-8", body: mail.text)
            + ["--\(boundary)"] + part(contentType: "text/html; charset=utf-8", body: html) + ["--\(boundary)--"]
    }

    static func part(contentType: String, body: String) -> [String] {
        ["Content-Type: \(contentType)", "Content-Transfer-Encoding: base64", ""] + base64Lines(Array(body.utf8))
    }

    /// Base64 in lines of 76 characters.
    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Data(bytes).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    /// `Name <address>`, the name quoted or encoded as needed.
    static func mailbox(name: String, address: String) -> String {
        guard !name.isEmpty else { return "<\(address)>" }
        if name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }) {
            return "\"\(name)\" <\(address)>"
        }
        return "\(encodedWords(name)) <\(address)>"
    }

    /// RFC 2047: printable ASCII stays as it is; anything else becomes `=?UTF-8?B?…?=` words of
    /// at most 45 bytes each (75 characters encoded), cut between characters, folded with CRLF SP.
    static func encodedWords(_ value: String) -> String {
        if value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) && !value.contains("=?") {
            return value
        }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Mon, 30 Nov 2026 22:30:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// A Message-ID for a message row: stable, unique, in the sender's domain.
    static func messageID(token: String, fromAddress: String) -> String {
        let domain = fromAddress.split(separator: "@").last.map(String.init) ?? "ashrai.invalid"
        return "ashrai.\(token)@\(domain)"
    }
}
