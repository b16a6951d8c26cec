import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `payments.*`. Every write locks the customer row first (then its invoices), so payments,
/// applications and reversals for one customer are decided one at a time: no invoice is ever
/// over-allocated (and a CHECK on `invoices` would refuse it anyway).
enum PaymentMethods {
    static let handlers: [String: MethodHandler] = [
        "payments.record": record, "payments.apply": apply, "payments.reverse": reverse,
        "payments.get": get, "payments.list": list,
    ]
    static let methods = PaymentMethod.recordable.map(\.rawValue)

    /// The payment with all its allocation lines, as every payment method returns it.
    static func result(paymentID: Int64, on connection: PostgresConnection) async throws -> JSONValue {
        let payment = try await PaymentStore.load(paymentID, on: connection)
        let allocations = try await connection.query("""
            SELECT \(unescaped: AllocationRecord.columns) FROM allocations a WHERE a.payment_id = \(paymentID) ORDER BY a.id
            """).decode(AllocationRecord.self)
        return result(payment, allocations)
    }

    static func result(_ payment: PaymentRecord, _ allocations: [AllocationRecord]) -> JSONValue {
        let json = payment.json
        return ["payment": json, "allocations": .array(allocations.map(\.json)), "unapplied": json["unapplied"] ?? "0.00"]
    }

    /// The `allocations` param as lines; -32602 naming `allocations` when malformed.
    static func requestedLines(_ params: Params, currency: Currency) throws -> [AllocationLine]? {
        guard let value = params.object["allocations"], !value.isNull else { return nil }
        guard case .array(let items) = value, !items.isEmpty else {
            throw RPCFailure.invalidParams("allocations", "allocations must be a non-empty array of {invoice_id, amount}")
        }
        return try items.map { item in
            guard case .object(let object) = item else {
                throw RPCFailure.invalidParams("allocations", "each allocation must be an object {invoice_id, amount}")
            }
            let line = Params(object)
            let invoiceID = try line.id("invoice_id")
            let amount: Decimal
            do { amount = try line.money("amount", currency: currency) } catch let failure as RPCFailure {
                throw RPCFailure.invalidParams("allocations", "allocation to invoice \(invoiceID): \(failure.message)")
            }
            return AllocationLine(invoiceID: Int64(invoiceID), amount: amount)
        }
    }

    /// Loads and locks the customer's open invoices in `currency` (the customer's row locked first).
    static func openInvoices(customerID: Int64, currency: Currency, on tx: PostgresConnection) async throws -> [OpenInvoice] {
        try await PaymentPosting.openInvoices(customerIDs: [customerID], on: tx)[.init(customerID: customerID, currency: currency.code)] ?? []
    }

    /// Turns an allocation refusal into -32602 on `allocations`.
    static func failure(_ error: AllocationError) -> RPCFailure {
        switch error {
        case .notOpen(let id):
            return .invalidParams("allocations", "invoice \(id) is not an open invoice of this customer in this currency")
        case .exceedsOpen(let id, let open):
            return .invalidParams("allocations", "allocation to invoice \(id) exceeds its open amount \(Money(open).text)")
        case .exceedsPayment(let available):
            return .invalidParams("allocations", "allocations exceed the money available (\(Money(available).text))")
        case .notPositive(let id):
            return .invalidParams("allocations", "allocation to invoice \(id) must be positive")
        case .duplicate(let id):
            return .invalidParams("allocations", "invoice \(id) appears twice")
        }
    }

    static func record(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await record(services: services, context: context, params: params, joining: nil)
    }

    /// The single-row core, also used row by row by the batch import inside its transaction.
    static func record(services: Services, context: CallContext, params: Params, joining existing: PostgresConnection?) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let (amount, currency) = try params.positiveAmount(defaultCurrency: services.settings.currency)
        let methodName = try params.string("method", maxLength: 20)
        guard methods.contains(methodName), let method = PaymentMethod(rawValue: methodName) else {
            throw RPCFailure.invalidParams("method", "method must be one of: \(methods.joined(separator: ", "))")
        }
        let receivedOn = try params.date("received_on")
        let reference = try params.optionalString("reference", maxLength: 200)
        let requested = try requestedLines(params, currency: currency)
        let key = try params.optionalString("idempotency_key", maxLength: 200)
        let viaAssignment = try params.optionalInt("via_assignment_id", range: 1...Int.max).map(Int64.init)
        let cheque = try ChequeStore.details(params, method: methodName)
        let current = context
        do {
        return try await services.transaction(current, joining: existing) { tx in
          try await Idempotency.perform(method: "payments.record", key: key, params: params, context: current, on: tx) {
            let request = PaymentPosting.Request(customerID: customerID, amount: amount, currency: currency, method: method, receivedOn: receivedOn,
                                                 reference: reference, requested: requested, viaAssignment: viaAssignment)
            if let cheque, Cheques.isPostDated(valueDay: cheque.valueDay, today: services.today().daysSinceEpoch) {
                _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
                let invoices = try await openInvoices(customerID: customerID, currency: currency, on: tx)
                // Not money yet: held until its value date, meant for the invoices it would settle then.
                let planned: [AllocationLine]
                do {
                    planned = try Allocator.allocate(amount, to: invoices, onDay: cheque.valueDay, requested: requested).lines
                } catch let error as AllocationError {
                    throw failure(error)
                }
                let chequeID = try await ChequeStore.insert(cheque, customerID: customerID, amount: amount, currency: currency,
                                                            receivedOn: receivedOn, reference: reference,
                                                            meantFor: planned.map { AllocationLine(invoiceID: $0.invoiceID, amount: $0.amount + $0.discount) },
                                                            paymentID: nil, context: current, on: tx)
                let response: JSONValue = ["payment": .null, "allocations": [], "unapplied": .money(0, currency),
                                           "cheque": try await ChequeStore.load(chequeID, on: tx).json]
                try await Audit.record(tx, context: current, method: "payments.record", entity: "cheque", entityID: String(chequeID),
                                       after: response)
                return response
            }
            let plan = try await PaymentPosting.plan([request], on: tx)[0].get()
            let recorded = try await PaymentPosting.write([plan], context: current, on: tx)[0]
            let paymentID = recorded.payment.id
            var response = recorded.json
            if let cheque, case .object(var object) = response {
                // A cheque dated today or earlier is money now; its details are kept, for a bounce.
                let chequeID = try await ChequeStore.insert(cheque, customerID: customerID, amount: amount, currency: currency,
                                                            receivedOn: receivedOn, reference: reference, meantFor: [],
                                                            paymentID: paymentID, context: current, on: tx)
                object["cheque"] = try await ChequeStore.load(chequeID, on: tx).json
                response = .object(object)
            }
            try await Audit.record(tx, context: current, method: "payments.record", entity: "payment", entityID: String(paymentID),
                                   after: response)
            return response
          }
        }.get()
        } catch let error as PostgresError where error.isUniqueViolation && error.constraint == "cheques_identity_key" {
            throw RPCFailure.conflict("this cheque is already recorded", data: ["field": "cheque"])
        }
    }

    static func apply(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let paymentID = Int64(try params.id("payment_id"))
        let key = try params.optionalString("idempotency_key", maxLength: 200)
        let current = context
        return try await services.transaction(current) { tx in
          try await Idempotency.perform(method: "payments.apply", key: key, params: params, context: current, on: tx) {
            // Customer first, then the payment: the ledger's lock order.
            let customerID = try await PaymentStore.load(paymentID, on: tx).customerID
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let payment = try await PaymentStore.load(paymentID, forUpdate: true, on: tx)
            let currency = payment.currency
            let requested = try requestedLines(params, currency: currency)
            guard payment.status == .recorded else {
                throw RPCFailure.ruleViolated(.paymentReversed, "a reversed payment cannot be applied")
            }
            let unapplied = payment.unapplied
            guard unapplied > 0 else { throw RPCFailure.ruleViolated(.nothingUnapplied, "the payment has no unapplied credit") }
            let receivedOn = payment.receivedOn
            let before = try await result(paymentID: paymentID, on: tx)
            let invoices = try await openInvoices(customerID: customerID, currency: currency, on: tx)
            let allocation: (lines: [AllocationLine], unapplied: Decimal)
            do {
                allocation = try Allocator.allocate(unapplied, to: invoices, onDay: receivedOn.daysSinceEpoch, requested: requested)
            } catch let error as AllocationError {
                throw failure(error)
            }
            let today = services.today()
            _ = try await PaymentPosting.insertAllocations(allocation.lines.map { (paymentID, $0, today) }, context: current, on: tx)
            try await PaymentPosting.settle(allocation.lines, on: tx)
            try await tx.query("UPDATE payments SET unapplied = \(allocation.unapplied) WHERE id = \(paymentID)")
            let response = try await result(paymentID: paymentID, on: tx)
            try await Audit.record(tx, context: current, method: "payments.apply", entity: "payment", entityID: String(paymentID),
                                   before: before, after: response)
            return response
          }
        }.get()
    }

    static func reverse(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await reverse(services: services, context: context, params: params, joining: nil)
    }

    /// The core, also used by `bank.reverse` inside its transaction.
    static func reverse(services: Services, context: CallContext, params: Params, joining existing: PostgresConnection?) async throws -> JSONValue {
        let paymentID = Int64(try params.id("id"))
        let reason = try params.text("reason")
        let current = context
        return try await services.transaction(current, joining: existing) { tx in
            let customerID = try await PaymentStore.load(paymentID, on: tx).customerID
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            guard try await PaymentStore.load(paymentID, forUpdate: true, on: tx).status == .recorded else {
                throw RPCFailure.conflict("the payment is already reversed")
            }
            let before = try await result(paymentID: paymentID, on: tx)
            let lines = try await tx.query("""
                UPDATE allocations SET reversed_at = now() WHERE payment_id = \(paymentID) AND reversed_at IS NULL
                RETURNING invoice_id, amount, discount
                """)
            try await PaymentPosting.settle(try lines.map { line in
                AllocationLine(invoiceID: try line.decode(Int64.self, column: "invoice_id"), amount: -(try line.decode(Decimal.self, column: "amount")),
                               discount: -(try line.decode(Decimal.self, column: "discount")))
            }, on: tx)
            try await tx.query("""
                UPDATE payments SET status = 'reversed', unapplied = 0, reverse_reason = \(reason),
                    reversed_by = \(current.session?.userID), reversed_at = now()
                WHERE id = \(paymentID)
                """)
            let response = try await result(paymentID: paymentID, on: tx)
            try await Audit.record(tx, context: current, method: "payments.reverse", entity: "payment", entityID: String(paymentID),
                                   before: before, after: response, details: ["reason": .string(reason)])
            return response
        }
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        return try await services.read(context) { try await result(paymentID: id, on: $0) }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let from = try params.optionalDate("from")
        let to = try params.optionalDate("to")
        let limit = try params.optionalInt("limit", range: 1...500) ?? 50
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: PaymentStore.columns) FROM payments p
            WHERE p.id > \(after)
              AND (\(customerID)::bigint IS NULL OR p.customer_id = \(customerID))
              AND (\(from)::date IS NULL OR p.received_on >= \(from))
              AND (\(to)::date IS NULL OR p.received_on <= \(to))
            ORDER BY p.id LIMIT \(limit)
            """)
        let payments = rows.decodeEach("payment", logger: context.logger) { try $0.decode(PaymentRecord.self).json }
        let next = rows.nextAfter(limit: limit)
        return ["payments": .array(payments), "next_after": next]
    }
}
