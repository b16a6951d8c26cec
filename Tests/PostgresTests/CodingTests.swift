import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("binding and decoding round trips")
struct CodingTests {
    @Test("Hebrew, emoji and other Unicode text round-trip unchanged")
    func unicodeText() async throws {
        let db = try await Shared.client.value
        for text in ["אשראי בע״מ — לקוח 17", "café 🧾💸 👩🏽‍💼", "", "line\nbreak\ttab 'quote' \"double\" \\ back"] {
            let back = try await db.query("SELECT \(text)::text AS value, length(\(text)) AS chars").one()
            #expect(try back.decode(String.self, column: "value") == text)
            #expect(try back.decode(Int.self, column: "chars") == text.unicodeScalars.count)   // length() counts code points
        }
    }

    @Test("an array parameter keeps quotes, backslashes, commas, braces, Hebrew, empty text and NULL; a NUL in an element is refused")
    func arrayRoundTrip() async throws {
        let db = try await Shared.client.value
        let elements: [String?] = ["plain", "with \"quotes\"", "back\\slash", "a,b", "{braces}", "NULL", "אשראי בע״מ", "", nil, "🧾"]
        let rows = try await db.query("""
            SELECT e, n FROM unnest(\(PostgresArray(elements))::text[]) WITH ORDINALITY AS u(e, n) ORDER BY n
            """)
        #expect(try rows.map { try $0.decode(String?.self, column: "e") } == elements)
        await #expect(throws: PostgresError.self) { try await db.query("SELECT \(PostgresArray(["x\u{0}y"]))::text[]") }
    }

    @Test("text holding a NUL byte is refused before it reaches the server, with a clear error")
    func nulRejected() async throws {
        let db = try await Shared.client.value
        let bad = "abc\u{0}def"
        let error = try await #require(throws: PostgresError.self) {
            try await db.query("SELECT \(bad)::text")
        }
        #expect(error.code == .invalidParameter)
        #expect(error.message.contains("NUL"))
        // The pool is still healthy afterwards.
        #expect(try await db.query("SELECT 1").scalar(Int.self) == 1)
    }

    @Test("numeric with 18 digits and 2 decimals is exact both ways, no Double on the way")
    func numericExact() async throws {
        let db = try await Shared.client.value
        let big = try #require(Decimal(string: "9999999999999999.99"))
        let row = try await db.query("""
            SELECT \(big)::numeric(18,2) AS same,
                   \(big)::numeric(18,2) + 0.01 AS next,
                   '1234567890123456.78'::numeric(18,2) AS literal,
                   0.1::numeric + 0.2::numeric AS tenth
            """).one()
        #expect(try row.decode(Decimal.self, column: "same") == big)
        #expect(try row.decode(Decimal.self, column: "next").description == "10000000000000000")
        #expect(try row.decode(Decimal.self, column: "literal").description == "1234567890123456.78")
        #expect(try row.decode(Decimal.self, column: "tenth") == Decimal(string: "0.3"))
        // A value Double could not hold exactly survives.
        #expect(PostgresNumeric.text(of: try row.decode(Decimal.self, column: "literal")) == "1234567890123456.78")
    }

    @Test("numeric text parses to the same Decimal as Foundation's parser, on the fast path and past it")
    func numericFastPathAgrees() throws {
        let cases = ["0", "0.00", "-0.00", "7", "100", "100.00", "-5.50", "0.0001", "12.3400", "1234567890123456.78",
                     "9999999999999999999", "99999999999999999999", "12345678901234567890.12", "-0.5", "00012.50",
                     "12345678901234567890123456789012345678"]
        for text in cases {
            let expected = try #require(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")))
            let parsed = try PostgresNumeric.decimal(from: text)
            #expect(parsed == expected, "\(text)")
            #expect(parsed.description == expected.description, "\(text)")
            #expect(parsed.hashValue == expected.hashValue, "\(text)")
        }
        for text in ["", "-", ".", "1.2.3", "1e5", "NaN", "Infinity", " 1", "1-", "--1", "123456789012345678901234567890123456789"] {
            #expect(throws: PostgresDecodingFailure.self, "\(text)") { try PostgresNumeric.decimal(from: text) }
        }
    }

    @Test("numeric text that is not a finite number is a decoding error")
    func numericRefusesNaN() async throws {
        let db = try await Shared.client.value
        let error = try await #require(throws: PostgresError.self) {
            try await db.query("SELECT 'NaN'::numeric AS amount").one().decode(Decimal.self, column: "amount")
        }
        #expect(error.code == .decoding)
        #expect(error.decodingColumn == "amount")
    }

    @Test("NULL decodes to nil for optionals and is an error naming the column otherwise")
    func nulls() async throws {
        let db = try await Shared.client.value
        let none: Int? = nil
        let row = try await db.query("SELECT \(none)::int AS missing, \(Optional(5))::int AS present").one()
        #expect(try row.decode(Int?.self, column: "missing") == nil)
        #expect(try row.decode(Int?.self, column: "present") == 5)
        let error = try #require(throws: PostgresError.self) { try row.decode(Int.self, column: "missing") }
        #expect(error.code == .decoding)
        #expect(error.decodingColumn == "missing")
        #expect(error.message.contains("missing"))
    }

    @Test("a decoding error names the column and the type")
    func decodingErrorNamesColumn() async throws {
        let db = try await Shared.client.value
        let row = try await db.query("SELECT 'seventeen'::text AS customer_id").one()
        let error = try #require(throws: PostgresError.self) { try row.decode(Int.self, column: "customer_id") }
        #expect(error.decodingColumn == "customer_id")
        #expect(error.message.contains("customer_id") && error.message.contains("Int"))
        #expect(throws: PostgresError.self) { try row.decode(Int.self, column: "no_such_column") }
    }

    @Test("integers, booleans and bytes round-trip")
    func scalars() async throws {
        let db = try await Shared.client.value
        let bytes: [UInt8] = [0, 1, 2, 254, 255, 0]
        let row = try await db.query("""
            SELECT \(Int64.max) AS big, \(Int.min) AS small, \(Int32(-7))::int4 AS i32,
                   \(true) AS yes, \(false) AS no, \(bytes)::bytea AS raw
            """).one()
        #expect(try row.decode(Int64.self, column: "big") == .max)
        #expect(try row.decode(Int.self, column: "small") == .min)
        #expect(try row.decode(Int32.self, column: "i32") == -7)
        #expect(try row.decode(Bool.self, column: "yes"))
        #expect(try !row.decode(Bool.self, column: "no"))
        #expect(try row.decode([UInt8].self, column: "raw") == bytes)
    }

    @Test("calendar dates round-trip and compute on the server like days")
    func dates() async throws {
        let db = try await Shared.client.value
        let leap = try #require(PostgresDate(year: 2028, month: 2, day: 29))
        let row = try await db.query("SELECT \(leap) AS d, \(leap) + 1 AS next, (\(leap) - DATE '2028-01-01') AS days").one()
        #expect(try row.decode(PostgresDate.self, column: "d") == leap)
        #expect(try row.decode(PostgresDate.self, column: "next") == PostgresDate(year: 2028, month: 3, day: 1))
        #expect(try row.decode(Int.self, column: "days") == 59)
        #expect(PostgresDate(year: 2027, month: 2, day: 29) == nil)
        #expect(PostgresDate(iso: "2026-11-29")?.daysSinceEpoch == PostgresDate(iso: "2026-11-28")!.daysSinceEpoch + 1)
        for days in [-1000, -1, 0, 1, 19_000, 2_932_896] {
            #expect(PostgresDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
    }

    @Test("timestamps keep microseconds and are UTC regardless of the server's zone")
    func timestamps() async throws {
        let db = try await Shared.client.value
        let instant = Date(timeIntervalSince1970: 1_796_000_000.123456)
        let row = try await db.query("""
            SELECT \(instant) AS t, to_char(\(instant) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS text,
                   TIMESTAMPTZ '2026-11-29 12:00:00+02' AS offset
            """).one()
        let back = try row.decode(Date.self, column: "t")
        #expect(abs(back.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_001)
        #expect(try row.decode(String.self, column: "text") == "2026-11-30 00:53:20.123456")
        #expect(try row.decode(Date.self, column: "offset") == Date(timeIntervalSince1970: 1_795_946_400))
    }

    struct Payload: Codable, Sendable, Equatable {
        var name: String
        var amounts: [String]
        var nested: [String: Int]
    }

    @Test("JSON values round-trip through jsonb")
    func json() async throws {
        let db = try await Shared.client.value
        let value = Payload(name: "דנה", amounts: ["1250.00", "0.10"], nested: ["a": 1])
        let row = try await db.query("SELECT \(PostgresJSON(value)) AS doc, \(PostgresJSON(value))->>'name' AS name").one()
        #expect(try row.decode(PostgresJSON<Payload>.self, column: "doc").value == value)
        #expect(try row.decode(String.self, column: "name") == "דנה")
    }

    @Test("interpolation produces $n placeholders, never the values")
    func interpolation() {
        let name = "x'; DROP TABLE audit_log; --"
        let query: PostgresQuery = "SELECT * FROM \(identifier: "weird\"table") WHERE a = \(name) AND b = \(7)"
        #expect(query.sql == #"SELECT * FROM "weird""table" WHERE a = $1 AND b = $2"#)
        #expect(query.binds.count == 2)
        #expect(!query.description.contains("DROP"))
    }

    @Test("a value that looks like SQL is stored as data")
    func injectionIsData() async throws {
        let db = try await Shared.client.value
        let table = Shared.unique("inj")
        try await db.query("CREATE TABLE \(identifier: table) (v text)")
        let hostile = "'); DROP TABLE \(table); --"
        try await db.query("INSERT INTO \(identifier: table) (v) VALUES (\(hostile))")
        #expect(try await db.query("SELECT v FROM \(identifier: table)").scalar(String.self) == hostile)
    }
}
