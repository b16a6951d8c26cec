@testable import AshraiServer
import Foundation
import Testing

@Suite("the e-mail format")
struct MailFormatTests {
    @Test("Hebrew headers become RFC 2047 words of at most 75 characters; ASCII stays; the boundary is a plain token; lines end in CRLF")
    func format() throws {
        #expect(MailFormat.encodedWords("Payment reminder") == "Payment reminder")
        let subject = String(repeating: "תזכורת תשלום ", count: 6)
        let encoded = MailFormat.encodedWords(subject)
        for word in encoded.components(separatedBy: "\r\n ") {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?=") && word.count <= 75)
        }
        let decoded = encoded.components(separatedBy: "\r\n ").map { word -> String in
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(payload))!, as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        let mail = OutgoingMail(fromAddress: "a@b.example", fromName: "מאפייה", replyTo: nil, to: "c@d.example", subject: subject,
                                text: "שלום", html: "<p dir=\"rtl\">שלום</p>", messageID: "ashrai.L1.x_y-z@b.example", date: Date(timeIntervalSince1970: 0))
        let text = String(decoding: MailFormat.message(mail), as: UTF8.self)
        #expect(text.contains("boundary=\"ashrai-alt-ashraiL1xyzbexample\""))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
    }
}
