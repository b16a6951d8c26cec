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
        let payment = try await PaymentStore.load(paymentID, on: connection).json
        let allocations = try await connection.query("""
            SELECT id, payment_id, invoice_id, amount, discount, applied_on, reversed_at IS NOT NULL AS reversed
            FROM allocations WHERE payment_id = \(paymentID) ORDER BY id
            """).map { a -> JSONValue in
            [
                "id": .id(try a.decode(Int64.self, column: "id")), "payment_id": .id(paymentID),
                "invoice_id": .id(try a.decode(Int64.self, column: "invoice_id")),
                "amount": .money(try a.decode(Decimal.self, column: "amount")),
                "discount": .money(try a.decode(Decimal.self, column: "discount")),
                "applied_on": .date(try a.decode(PostgresDate.self, column: "applied_on")),
                "reversed": .bool(try a.decode(Bool.self, column: "reversed")),
            ]
        }
        return ["payment": payment, "allocations": .array(allocations), "unapplied": payment["unapplied"] ?? "0.00"]
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

    /// Loads and locks the customer's open invoices in `currency`.
    static func openInvoices(customerID: Int64, currency: Currency, on tx: PostgresConnection) async throws -> [OpenInvoice] {
        try await tx.query("""
            SELECT id, issue_date, due_date, amount, paid_amount + discount_amount AS settled,
                   written_off_amount + credited_amount AS written_off_amount,
                   early_discount_rate, early_discount_days
            FROM invoices
            WHERE customer_id = \(customerID) AND currency = \(currency.code) AND status IN (\(unescaped: InvoiceStatus.owingSQL))
            ORDER BY id FOR UPDATE
            """).map { row in
            OpenInvoice(
                id: try row.decode(Int64.self, column: "id"),
                issueDay: try row.decode(PostgresDate.self, column: "issue_date").daysSinceEpoch,
                dueDay: try row.decode(PostgresDate.self, column: "due_date").daysSinceEpoch,
                amount: try row.decode(Decimal.self, column: "amount"),
                settled: try row.decode(Decimal.self, column: "settled"),
                writtenOff: try row.decode(Decimal.self, column: "written_off_amount"),
                discountRate: try row.decode(Decimal?.self, column: "early_discount_rate"),
                discountDays: try row.decode(Int?.self, column: "early_discount_days"))
        }
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

    /// Moves cash and discount onto (or, negative, off) an invoice and recomputes its status.
    static func settle(invoiceID: Int64, cash: Decimal, discount: Decimal, on tx: PostgresConnection) async throws {
        try await tx.query("""
            UPDATE invoices SET paid_amount = paid_amount + \(cash), discount_amount = discount_amount + \(discount),
                status = invoice_settlement_status(amount, paid_amount + \(cash), discount_amount + \(discount),
                                                   written_off_amount, credited_amount)
            WHERE id = \(invoiceID)
            """)
    }

    /// Writes allocation lines for a payment.
    static func write(_ lines: [AllocationLine], paymentID: Int64, appliedOn: PostgresDate, context: CallContext,
                      on tx: PostgresConnection) async throws {
        for line in lines {
            try await tx.query("""
                INSERT INTO allocations (payment_id, invoice_id, amount, discount, applied_on, created_by)
                VALUES (\(paymentID), \(line.invoiceID), \(line.amount), \(line.discount), \(appliedOn), \(context.session?.userID))
                """)
            try await settle(invoiceID: line.invoiceID, cash: line.amount, discount: line.discount, on: tx)
        }
    }

    static func record(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await record(services: services, context: context, params: params, joining: nil)
    }

    /// The single-row core, also used row by row by the batch import inside its transaction.
    static func record(services: Services, context: CallContext, params: Params, joining existing: PostgresConnection?) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let (amount, currency) = try params.positiveAmount(defaultCurrency: services.settings.currency)
        let method = try params.string("method", maxLength: 20)
        guard methods.contains(method) else { throw RPCFailure.invalidParams("method", "method must be one of: \(methods.joined(separator: ", "))") }
        let receivedOn = try params.date("received_on")
        let reference = try params.optionalString("reference", maxLength: 200)
        let requested = try requestedLines(params, currency: currency)
        let key = try params.optionalString("idempotency_key", maxLength: 200)
        let viaAssignment = try params.optionalInt("via_assignment_id", range: 1...Int.max).map(Int64.init)
        let cheque = try ChequeStore.details(params, method: method)
        let current = context
        do {
        return try await services.transaction(current, joining: existing) { tx in
          try await Idempotency.perform(method: "payments.record", key: key, params: params, context: current, on: tx) {
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            if let viaAssignment {
                let owner = try await tx.query("""
                    SELECT customer_id FROM assignments WHERE id = \(viaAssignment) AND status = 'active'
                    """).first?.decode(Int64.self, at: 0)
                guard owner == customerID else {
                    throw RPCFailure.invalidParams("via_assignment_id", "via_assignment_id must be an active assignment of this customer")
                }
            }
            let invoices = try await openInvoices(customerID: customerID, currency: currency, on: tx)
            if let cheque, Cheques.isPostDated(valueDay: cheque.valueDay, today: services.today().daysSinceEpoch) {
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
            let allocation: (lines: [AllocationLine], unapplied: Decimal)
            do {
                allocation = try Allocator.allocate(amount, to: invoices, onDay: receivedOn.daysSinceEpoch, requested: requested)
            } catch let error as AllocationError {
                throw failure(error)
            }
            let paymentID = try await tx.query("""
                INSERT INTO payments (customer_id, amount, currency, method, received_on, reference, unapplied, created_by, via_assignment_id)
                VALUES (\(customerID), \(amount), \(currency.code), \(method), \(receivedOn), \(reference), \(allocation.unapplied),
                        \(current.session?.userID), \(viaAssignment))
                RETURNING id
                """).scalar(Int64.self)
            try await write(allocation.lines, paymentID: paymentID, appliedOn: receivedOn, context: current, on: tx)
            var response = try await result(paymentID: paymentID, on: tx)
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
            try await write(allocation.lines, paymentID: paymentID, appliedOn: today, context: current, on: tx)
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
            for line in lines {
                try await settle(invoiceID: try line.decode(Int64.self, column: "invoice_id"),
                                 cash: -(try line.decode(Decimal.self, column: "amount")),
                                 discount: -(try line.decode(Decimal.self, column: "discount")), on: tx)
            }
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
        let rows = try await services.read(context) { try await $0.query("""
            SELECT \(unescaped: PaymentStore.columns) FROM payments p
            WHERE p.id > \(after)
              AND (\(customerID)::bigint IS NULL OR p.customer_id = \(customerID))
              AND (\(from)::date IS NULL OR p.received_on >= \(from))
              AND (\(to)::date IS NULL OR p.received_on <= \(to))
            ORDER BY p.id LIMIT \(limit)
            """) }
        let payments = rows.decodeEach("payment", logger: context.logger) { try $0.decode(PaymentRecord.self).json }
        let next = rows.nextAfter(limit: limit)
        return ["payments": .array(payments), "next_after": next]
    }
}
