import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("rows into records")
struct RowDecoderTests {
    enum Status: String, Decodable { case open, partiallyPaid = "partially_paid" }

    struct Invoice: Decodable, Equatable {
        var id: Int64
        var customerID: Int64
        var openAmount: Decimal
        var dueDate: PostgresDate
        var status: Status
        var note: String?
        var discountDays: Int?

        enum CodingKeys: String, CodingKey {
            case id, customerID = "customer_id", openAmount, dueDate, status, note, discountDays
        }
    }

    @Test("each property is the column of its snake-case name; enums from raw values; NULL and a missing column are nil for optionals")
    func decodes() async throws {
        let db = try await Shared.client.value
        let rows = try await db.query("""
            SELECT 7::bigint AS id, 42::bigint AS customer_id, 1234.50::numeric(18,2) AS open_amount, DATE '2026-02-28' AS due_date,
                   'partially_paid' AS status, NULL::text AS note
            """)
        let invoice = try #require(try rows.decode(Invoice.self).first)
        #expect(invoice == Invoice(id: 7, customerID: 42, openAmount: Decimal(string: "1234.50")!, dueDate: PostgresDate(iso: "2026-02-28")!,
                                   status: .partiallyPaid, note: nil, discountDays: nil))
    }

    @Test("an unknown enum value, a missing column and a NULL in a non-optional are decoding errors that name the column")
    func errorsNameTheColumn() async throws {
        let db = try await Shared.client.value
        let unknown = try await db.query("SELECT 1::bigint AS id, 2::bigint AS customer_id, 0 AS open_amount, DATE '2026-01-01' AS due_date, 'lost' AS status").one()
        let bad = try #require(throws: PostgresError.self) { try unknown.decode(Invoice.self) }
        #expect(bad.code == .decoding && bad.message.contains("status"))
        let missing = try await db.query("SELECT 1::bigint AS id, 0 AS open_amount, DATE '2026-01-01' AS due_date, 'open' AS status").one()
        let absent = try #require(throws: PostgresError.self) { try missing.decode(Invoice.self) }
        #expect(absent.code == .decoding && absent.message.contains("customer_id"))
        let null = try await db.query("SELECT 1::bigint AS id, NULL::bigint AS customer_id, 0 AS open_amount, DATE '2026-01-01' AS due_date, 'open' AS status").one()
        let nullError = try #require(throws: PostgresError.self) { try null.decode(Invoice.self) }
        #expect(nullError.code == .decoding && nullError.message.contains("customer_id"))
    }
}
