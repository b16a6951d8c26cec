import AshraiProtocol
import Testing

@Suite("JSON")
struct JSONValueTests {
    @Test("strings: Hebrew and emoji as is, escapes and surrogate pairs decoded, round trip exact")
    func strings() throws {
        #expect(try JSONValue.parse(#""שלום 👋""#) == .string("שלום 👋"))
        #expect(try JSONValue.parse(#""a\"b\\c\n\u05d0\ud83d\udc4b""#) == .string("a\"b\\c\nא👋"))
        for text in ["plain", "quote \" and \\ back", "line\nbreak\u{2028}", "\u{1}", "עברית"] {
            #expect(try JSONValue.parse(JSONValue.string(text).encoded()) == .string(text))
        }
    }

    @Test("invalid UTF-8, overlong forms, lone surrogates and raw control characters are refused")
    func invalid() {
        let cases: [[UInt8]] = [
            [0x22, 0xC3, 0x28, 0x22],             // bad continuation
            [0x22, 0xC0, 0xAF, 0x22],             // overlong '/'
            [0x22, 0xED, 0xA0, 0x80, 0x22],       // UTF-16 surrogate encoded in UTF-8
            [0x22, 0x0A, 0x22],                   // raw newline in a string
        ]
        for bytes in cases {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#""\ud83d""#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a":1,"a":2}"#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[1,]") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("01") }
    }

    @Test("numbers keep their exact text")
    func numbers() throws {
        for text in ["0", "-0", "1.50", "1e3", "-12.345E-6", "123456789012345678901234567890"] {
            #expect(try JSONValue.parse(text).encoded() == text)
        }
    }
}
