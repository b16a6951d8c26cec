import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `writeoffs.*`: bad debt, never more than what is open.
enum WriteoffMethods {
    static let handlers: [String: MethodHandler] = ["writeoffs.create": create, "writeoffs.list": list]

    static func writeoffJSON(_ row: PostgresRow) throws -> JSONValue {
        [
            "id": .id(try row.decode(Int64.self, column: "id")),
            "invoice_id": .id(try row.decode(Int64.self, column: "invoice_id")),
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "amount": .money(try row.decode(Decimal.self, column: "amount")),
            "reason": .string(try row.decode(String.self, column: "reason")),
            "written_off_on": .date(try row.decode(PostgresDate.self, column: "written_off_on")),
            "created_by": .optional(try row.decode(String?.self, column: "created_by")),
        ]
    }

    static let columns = "w.id, w.invoice_id, w.customer_id, w.amount, w.reason, w.written_off_on, u.username AS created_by"

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let invoiceID = Int64(try params.id("invoice_id"))
        let requested = try params.optionalMoney("amount")
        if let requested, requested <= 0 { throw RPCFailure.invalidParams("amount", "amount must be positive") }
        let reason = try params.text("reason")
        let on = try params.optionalDate("written_off_on")
        let current = context
        return try await services.transaction(current) { tx in
            let head = try await tx.query("SELECT customer_id FROM invoices WHERE id = \(invoiceID)")
            guard let customerID = try head.first?.decode(Int64.self, at: 0) else { throw RPCFailure.notFound("invoice") }
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let before = try await InvoiceStore.load(invoiceID, forUpdate: true, on: tx)
            guard before.status.isOwing else {
                throw RPCFailure.ruleViolated(.invoiceNotOpen, "only an open invoice can be written off")
            }
            let open = before.openAmount
            let amount = requested ?? open
            guard amount <= open else {
                throw RPCFailure.invalidParams("amount", "amount exceeds the open remainder \(Money(open).text)")
            }
            let id = try await tx.query("""
                INSERT INTO writeoffs (invoice_id, customer_id, amount, reason, written_off_on, created_by)
                VALUES (\(invoiceID), \(customerID), \(amount), \(reason), coalesce(\(on)::date, \(services.today())), \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            try await tx.query("""
                UPDATE invoices SET written_off_amount = written_off_amount + \(amount),
                    status = invoice_settlement_status(amount, paid_amount, discount_amount, written_off_amount + \(amount), credited_amount)
                WHERE id = \(invoiceID)
                """)
            let writeoff = try writeoffJSON(try await tx.query(
                "SELECT \(unescaped: columns) FROM writeoffs w LEFT JOIN users u ON u.id = w.created_by WHERE w.id = \(id)").one())
            let after = try await InvoiceStore.load(invoiceID, on: tx).json
            try await Audit.record(tx, context: current, method: "writeoffs.create", entity: "invoice", entityID: String(invoiceID),
                                   before: before.json, after: after, details: ["writeoff": writeoff])
            return ["writeoff": writeoff, "invoice": after]
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let from = try params.optionalDate("from")
        let to = try params.optionalDate("to")
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: columns) FROM writeoffs w LEFT JOIN users u ON u.id = w.created_by
            WHERE (\(customerID)::bigint IS NULL OR w.customer_id = \(customerID))
              AND (\(from)::date IS NULL OR w.written_off_on >= \(from)) AND (\(to)::date IS NULL OR w.written_off_on <= \(to))
            ORDER BY w.id DESC LIMIT 1000
            """)
        let writeoffs = try rows.map(writeoffJSON)
        let total = try rows.reduce(Decimal(0)) { $0 + (try $1.decode(Decimal.self, column: "amount")) }
        return ["writeoffs": .array(writeoffs), "total": .money(total)]
    }
}
