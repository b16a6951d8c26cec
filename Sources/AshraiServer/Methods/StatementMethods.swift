import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// Late interest per invoice and the customer statement.
enum StatementMethods {
    static let handlers: [String: MethodHandler] = ["statements.get": statement, "statements.send": send]

    /// `statements.send`: the customer's open invoices as of a day, written and queued for delivery.
    static func send(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let today = services.today()
        let asOf = try params.optionalDate("as_of") ?? today
        guard asOf <= today else { throw RPCFailure.invalidParams("as_of", "as_of cannot be in the future") }
        let current = context
        return try await services.transaction(current) { tx in
            let customer = try await CustomerRecord.require(customerID, on: tx)
            guard customer.status != .closed else { throw RPCFailure.conflict("the customer's account is closed") }
            let id = try await CustomerLetters.statement(customerID: customerID, asOf: asOf, services: services, context: current, on: tx)
            try await Audit.record(tx, context: current, method: "statements.send", entity: "letter", entityID: String(id),
                                   details: ["customer_id": .id(customerID), "as_of": .date(asOf)])
            return try await LetterMethods.load(id, on: tx)
        }
    }

    /// Accrued late interest as of a day for invoices (of one customer, or the given ids), computed by
    /// `LateInterest` from the invoice's snapshotted rate and every reduction of its principal
    /// (payments by received date, discounts, write-offs) — never stored.
    static func accruedInterest(customerID: Int64? = nil, invoiceIDs: [Int64]? = nil, asOf: PostgresDate,
                                on connection: PostgresConnection) async throws -> [Int64: Decimal] {
        let idsText = invoiceIDs.map { "{" + $0.map(String.init).joined(separator: ",") + "}" }
        let invoices = try await connection.query("""
            SELECT id, amount, due_date, late_interest_rate FROM invoices
            WHERE status <> 'void' AND late_interest_rate > 0 AND due_date < \(asOf) AND issue_date <= \(asOf)
              AND (\(customerID)::bigint IS NULL OR customer_id = \(customerID))
              AND (\(idsText)::bigint[] IS NULL OR id = ANY(\(idsText)::bigint[]))
            """)
        guard !invoices.isEmpty else { return [:] }
        let reductions = try await connection.query("""
            SELECT a.invoice_id, p.received_on AS day, a.amount + a.discount AS amount
            FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
            WHERE (a.reversed_at IS NULL OR a.reversed_at::date > \(asOf))
              AND (\(customerID)::bigint IS NULL OR i.customer_id = \(customerID))
              AND (\(idsText)::bigint[] IS NULL OR i.id = ANY(\(idsText)::bigint[]))
            UNION ALL
            SELECT w.invoice_id, w.written_off_on, w.amount FROM writeoffs w
            WHERE (\(customerID)::bigint IS NULL OR w.customer_id = \(customerID))
              AND (\(idsText)::bigint[] IS NULL OR w.invoice_id = ANY(\(idsText)::bigint[]))
            UNION ALL
            SELECT n.invoice_id, n.issued_on, n.amount FROM credit_notes n
            WHERE (\(customerID)::bigint IS NULL OR n.customer_id = \(customerID))
              AND (\(idsText)::bigint[] IS NULL OR n.invoice_id = ANY(\(idsText)::bigint[]))
            """)
        var byInvoice: [Int64: [LateInterest.Reduction]] = [:]
        for row in reductions {
            byInvoice[try row.decode(Int64.self, column: "invoice_id"), default: []].append(
                .init(day: try row.decode(PostgresDate.self, column: "day").daysSinceEpoch, amount: try row.decode(Decimal.self, column: "amount")))
        }
        var result: [Int64: Decimal] = [:]
        for row in invoices {
            let id = try row.decode(Int64.self, column: "id")
            result[id] = LateInterest.accrued(
                amount: try row.decode(Decimal.self, column: "amount"),
                dueDay: try row.decode(PostgresDate.self, column: "due_date").daysSinceEpoch,
                annualRatePercent: try row.decode(Decimal.self, column: "late_interest_rate"),
                reductions: byInvoice[id] ?? [], asOfDay: asOf.daysSinceEpoch)
        }
        return result
    }

    /// Opening balance, every movement in date order with a running balance, accrued
    /// interest (shown, not added to the balance) and the closing balance.
    static func statement(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let fromParam = try params.optionalDate("from")
        let toParam = try params.optionalDate("to")
        let asOfParam = try params.optionalDate("as_of")
        return try await services.reportReply(context) { connection in
            let customer = try await CustomerRecord.require(customerID, on: connection)
            let today = services.today()
            let to = toParam ?? asOfParam ?? today
            let from = fromParam ?? PostgresDate(year: 1970, month: 1, day: 1)!
            guard from <= to else { throw RPCFailure.invalidParams("from", "from must not be after to") }
            let asOf = asOfParam ?? to
            // Every movement as (day, kind, reference, description, debit, credit).
            let movements = """
                SELECT i.issue_date AS day, 1 AS ord, 'invoice' AS kind, i.id AS ref, i.number AS text, i.amount AS debit, 0::numeric AS credit
                FROM invoices i WHERE i.customer_id = $1 AND i.status <> 'void'
                UNION ALL
                SELECT p.received_on, 2, 'payment', p.id, p.method || coalesce(' ' || p.reference, ''), 0, p.amount
                FROM payments p WHERE p.customer_id = $1
                UNION ALL
                SELECT a.applied_on, 3, 'discount', a.invoice_id, 'early-payment discount, invoice ' || i.number, 0, a.discount
                FROM allocations a JOIN invoices i ON i.id = a.invoice_id WHERE i.customer_id = $1 AND a.discount > 0
                UNION ALL
                SELECT p.reversed_at::date, 4, 'reversal', p.id, 'payment reversed: ' || coalesce(p.reverse_reason, ''),
                       p.amount + coalesce((SELECT sum(a.discount) FROM allocations a WHERE a.payment_id = p.id), 0), 0
                FROM payments p WHERE p.customer_id = $1 AND p.status = 'reversed'
                UNION ALL
                SELECT w.written_off_on, 5, 'writeoff', w.invoice_id, 'written off: ' || w.reason, 0, w.amount
                FROM writeoffs w WHERE w.customer_id = $1
                UNION ALL
                SELECT n.issued_on, 6, 'credit_note', n.invoice_id, 'credit note: ' || n.reason, 0, n.amount
                FROM credit_notes n WHERE n.customer_id = $1
                """
            let opening = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT coalesce(sum(debit - credit), 0) FROM (\(movements)) m WHERE m.day < $2
                """, binds: [try customerID.postgresBind(), try from.postgresBind()])).scalar(Decimal.self)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT day, kind, ref, text, debit, credit FROM (\(movements)) m
                WHERE m.day >= $2 AND m.day <= $3 ORDER BY day, ord, ref
                """, binds: [try customerID.postgresBind(), try from.postgresBind(), try to.postgresBind()]))
            var balance = opening
            var lines: [JSONValue] = []
            for row in rows {
                let debit = try row.decode(Decimal.self, column: "debit")
                let credit = try row.decode(Decimal.self, column: "credit")
                balance += debit - credit
                lines.append([
                    "date": .date(try row.decode(PostgresDate.self, column: "day")),
                    "kind": .string(try row.decode(String.self, column: "kind")),
                    "reference": .id(try row.decode(Int64.self, column: "ref")),
                    "description": .string(try row.decode(String.self, column: "text")),
                    "debit": .money(debit), "credit": .money(credit), "balance": .money(balance),
                ])
            }
            let interest = try await accruedInterest(customerID: customerID, asOf: asOf, on: connection)
            let numbers = try await connection.query("SELECT id, number FROM invoices WHERE customer_id = \(customerID)")
            var numberOf: [Int64: String] = [:]
            for row in numbers { numberOf[try row.decode(Int64.self, at: 0)] = try row.decode(String.self, at: 1) }
            let interestLines: [JSONValue] = interest.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map {
                ["invoice_id": .id($0.key), "number": .optional(numberOf[$0.key]), "interest": .money($0.value)]
            }
            let terms = try await CreditMethods.termsInForce(customerID: customerID, services: services, on: connection)
            return [
                "customer": customer.json, "from": .date(fromParam), "to": .date(to), "as_of": .date(asOf), "terms": terms.json,
                "opening_balance": .money(opening), "lines": .array(lines), "closing_balance": .money(balance),
                "accrued_interest": ["total": .money(interest.values.reduce(0, +)), "invoices": .array(interestLines)],
            ]
        }
    }
}
