import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `cheques.*`: the cheques in hand (the list a bookkeeper takes to the bank), applying one by
/// hand, a bounce, and giving one back. Recording one is `payments.record` with `cheque`.
enum ChequeMethods {
    static let handlers: [String: MethodHandler] = [
        "cheques.list": list, "cheques.get": get, "cheques.apply": apply, "cheques.bounce": bounce, "cheques.cancel": cancel,
    ]

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let status = try params.optionalChoice("status", ChequeStatus.self) ?? .inHand
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let from = try params.optionalDate("from")
        let to = try params.optionalDate("to")
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        return try await services.read(context) { connection in
            // Keyset on (value_date, id) through the id of the last row seen.
            let rows = try await connection.query("""
                SELECT \(unescaped: ChequeStore.columns), c.name AS customer_name FROM cheques q JOIN customers c ON c.id = q.customer_id
                WHERE q.status = \(status.rawValue)
                  AND (\(customerID)::bigint IS NULL OR q.customer_id = \(customerID))
                  AND (\(from)::date IS NULL OR q.value_date >= \(from)) AND (\(to)::date IS NULL OR q.value_date <= \(to))
                  AND (\(after) = 0 OR (q.value_date, q.id) > (SELECT value_date, id FROM cheques WHERE id = \(after)))
                ORDER BY q.value_date, q.id LIMIT \(limit)
                """)
            let cheques = rows.decodeEach("cheque", logger: context.logger) { row -> JSONValue in
                guard case .object(var object) = try row.decode(ChequeRecord.self).json else { return .null }
                object["customer_name"] = .string(try row.decode(String.self, column: "customer_name"))
                return .object(object)
            }
            let totals = try await connection.query("""
                SELECT count(*) AS count, coalesce(sum(amount), 0) AS total FROM cheques q
                WHERE q.status = \(status.rawValue) AND (\(customerID)::bigint IS NULL OR q.customer_id = \(customerID))
                  AND (\(from)::date IS NULL OR q.value_date >= \(from)) AND (\(to)::date IS NULL OR q.value_date <= \(to))
                """).one()
            return ["cheques": .array(cheques), "next_after": rows.nextAfter(limit: limit),
                    "count": .int(try totals.decode(Int.self, column: "count")), "total": .money(try totals.decode(Decimal.self, column: "total"))]
        }
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        return try await services.read(context) { try await ChequeStore.load(id, on: $0).json }
    }

    /// Applies a held cheque now: the bank paid it (before its value date reached the books), or the
    /// business deposits it on its date and does not wait for the daily job.
    static func apply(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let current = context
        return try await services.transaction(current) { tx in
            let cheque = try await ChequeStore.load(id, on: tx)
            guard cheque.status == .inHand else { throw RPCFailure.conflict("the cheque is \(cheque.status.rawValue), not in hand") }
            guard try await ChequeStore.apply(id, clearedOn: services.today(), services: services, context: current, on: tx) != nil else {
                throw RPCFailure.conflict("the cheque is no longer in hand")
            }
            _ = try await OutboxStore.recheck(customerIDs: [cheque.customerID], today: services.today(), method: "cheques.apply",
                                              context: current, on: tx)
            return try await ChequeStore.load(id, on: tx).json
        }
    }

    /// A cheque the bank returned (חזר): a held one is simply bounced; an applied one's payment is
    /// reversed. Either way the customer's log, the payment-history score and (by policy) a fee show it.
    static func bounce(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason", maxLength: 500)
        let fee = try params.optionalMoney("fee", currency: services.settings.currency)
        let current = context
        return try await services.transaction(current) { tx in
            let cheque = try await ChequeStore.lock(id, on: tx)
            let customerID = cheque.customerID
            guard cheque.status == .inHand || cheque.status == .applied else {
                throw RPCFailure.conflict("the cheque is \(cheque.status.rawValue)")
            }
            let outcome = try await PaymentReturns.record(customerID: customerID, paymentID: cheque.paymentID, chequeID: id,
                                                          reason: "cheque bounced: \(reason)", fee: fee,
                                                          services: services, context: current, on: tx)
            try await Audit.record(tx, context: current, method: "cheques.bounce", entity: "cheque", entityID: String(id),
                                   before: cheque.json, details: ["reason": .string(reason),
                                                                  "fee_invoice_id": outcome.feeInvoiceID.map(JSONValue.id) ?? .null])
            return try await reply(id, outcome: outcome, on: tx)
        }
    }

    /// Gives a held cheque back (replaced by another, or recorded by mistake): it pauses nothing any more.
    static func cancel(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason", maxLength: 500)
        let current = context
        return try await services.transaction(current) { tx in
            let cheque = try await ChequeStore.lock(id, on: tx)
            guard cheque.status == .inHand else { throw RPCFailure.conflict("only a cheque in hand can be given back; this one is \(cheque.status.rawValue)") }
            try await tx.query("UPDATE cheques SET status = 'cancelled', bounce_reason = \(reason) WHERE id = \(id)")
            try await Audit.record(tx, context: current, method: "cheques.cancel", entity: "cheque", entityID: String(id),
                                   before: cheque.json, details: ["reason": .string(reason)])
            return try await ChequeStore.load(id, on: tx).json
        }
    }

    static func reply(_ id: Int64, outcome: PaymentReturns.Outcome, on tx: PostgresConnection) async throws -> JSONValue {
        guard case .object(var object) = try await ChequeStore.load(id, on: tx).json else { return .null }
        object["fee_invoice_id"] = outcome.feeInvoiceID.map(JSONValue.id) ?? .null
        object["interaction_id"] = .id(outcome.interactionID)
        return .object(object)
    }
}
