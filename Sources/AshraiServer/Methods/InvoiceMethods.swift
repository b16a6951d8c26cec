import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `invoices.*`.
enum InvoiceMethods {
    static let handlers: [String: MethodHandler] = [
        "invoices.create": create, "invoices.get": get, "invoices.list": list, "invoices.void": void,
    ]

    /// An invoice's fields from params, validated once for `invoices.create` and the bulk import.
    struct Fields {
        var number: String
        var issueDate: PostgresDate
        var dueDate: PostgresDate?
        var amount: Decimal
        var currency: Currency
        var description: String?
        var overrideReason: String?

        init(_ params: Params, services: Services, context: CallContext) throws {
            number = try params.text("number", maxLength: 64)
            issueDate = try params.date("issue_date")
            dueDate = try params.optionalDate("due_date")
            if let dueDate, dueDate < issueDate { throw RPCFailure.invalidParams("due_date", "due_date cannot be before issue_date") }
            (amount, currency) = try params.positiveAmount(defaultCurrency: services.settings.currency)
            description = try params.optionalString("description", maxLength: 2000)
            overrideReason = try params.optionalString("override_reason", maxLength: 2000)?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let overrideReason, overrideReason.isEmpty {
                throw RPCFailure.invalidParams("override_reason", "override_reason must not be empty")
            }
            if overrideReason != nil, let role = context.session?.role, role != .admin, role != .manager {
                throw RPCFailure.forbidden("only a manager may exceed a credit limit")
            }
        }
    }

    /// Issues an invoice. The customer row is locked for the whole decision, so concurrent
    /// invoices for one customer are decided one after the other against the same limit:
    /// exposure can never pass it without a manager's audited override.
    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await create(services: services, context: context, params: params, joining: nil)
    }

    /// The single-row core, also used row by row by the batch import inside its transaction.
    static func create(services: Services, context: CallContext, params: Params, joining existing: PostgresConnection?) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let fields = try Fields(params, services: services, context: context)
        let key = try params.optionalString("idempotency_key", maxLength: 200)
        let current = context
        do {
            return try await services.transaction(current, joining: existing) { tx in
                try await Idempotency.perform(method: "invoices.create", key: key, params: params, context: current, on: tx) {
                    try await insert(customerID: customerID, fields: fields, services: services, context: current, on: tx)
                }
            }.get()
        } catch let error as PostgresError where error.isUniqueViolation && error.constraint == "invoices_number_key" {
            throw RPCFailure.conflict("invoice number is already in use", data: ["field": "number"])
        }
    }

    /// The credit decision and the insert of one invoice, with its audit record.
    static func insert(customerID: Int64, fields: Fields, services: Services, context current: CallContext,
                       on tx: PostgresConnection) async throws -> JSONValue {
        let (number, issueDate, dueDate, amount, currency, description, overrideReason) =
            (fields.number, fields.issueDate, fields.dueDate, fields.amount, fields.currency, fields.description, fields.overrideReason)
        // A number in use is a refusal like any other (so an idempotency key remembers it): checked
        // here, and by the unique index against a concurrent insert.
        if try await tx.query("SELECT 1 FROM invoices WHERE number_key = \(number.lowercased())").first != nil {
            throw RPCFailure.conflict("invoice number is already in use", data: ["field": "number"])
        }
        let customer = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
        let terms = try await CreditMethods.termsInForce(customerID: customerID, services: services, on: tx)
        let limit = terms.creditLimit
        let exposure = try await CreditMethods.exposure(customerID: customerID, on: tx)
        let overLimit: Bool
        switch InvoiceDecision.decide(status: customer.status, currency: currency.code, termsCurrency: terms.currency.code,
                                      creditLimit: limit, exposure: exposure, amount: amount, hasOverride: overrideReason != nil) {
        case .refused(let rule, let message) where rule == .creditLimit:
            throw RPCFailure.ruleViolated(
                rule, message,
                data: ["credit_limit": .money(limit, currency), "exposure": .money(exposure, currency),
                       "amount": .money(amount, currency), "available": .money(max(0, limit - exposure), currency)])
        case .refused(let rule, let message):
            throw RPCFailure.ruleViolated(rule, message)
        case .allowed(let over):
            overLimit = over
        }
        let id = try await insertRow(customerID: customerID, number: number, issueDate: issueDate,
                                     dueDate: dueDate ?? terms.dueDate(issuedOn: issueDate), amount: amount, currency: currency,
                                     description: description, terms: terms, overrideReason: overLimit ? overrideReason : nil,
                                     context: current, on: tx)
        let invoice = try await InvoiceStore.load(id, on: tx).json
        var details: JSONObject = [:]
        if overLimit {
            details = ["override": true, "credit_limit": .money(limit, currency), "exposure_before": .money(exposure, currency)]
        }
        try await Audit.record(tx, context: current, method: "invoices.create", entity: "invoice", entityID: String(id),
                               after: invoice, details: details)
        return invoice
    }

    /// The invoice row itself, with the terms in force snapshotted on it (no decision, no audit: the caller's).
    static func insertRow(customerID: Int64, number: String, issueDate: PostgresDate, dueDate: PostgresDate, amount: Decimal,
                          currency: Currency, description: String?, terms: CreditMethods.Terms, overrideReason: String?,
                          context: CallContext, on tx: PostgresConnection) async throws -> Int64 {
        try await tx.query("""
            INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, description, terms_version,
                credit_limit, net_days, terms_basis, late_interest_rate, early_discount_rate, early_discount_days, override_reason, created_by)
            VALUES (\(customerID), \(number), \(issueDate), \(dueDate),
                \(amount), \(currency.code), \(description), \(terms.version), \(terms.creditLimit), \(terms.netDays), \(terms.basis.rawValue),
                \(terms.lateInterestRate), \(terms.earlyDiscountRate), \(terms.earlyDiscountDays), \(overrideReason),
                \(context.session?.userID))
            RETURNING id
            """).scalar(Int64.self)
    }

    /// One invoice with its late interest accrued to today (computed, never stored).
    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let agency = AgencyScope.agency(context)
        return try await services.read(context) { connection in
            try await AgencyScope.requireInvoice(id, agency: agency, on: connection)
            var invoice = AgencyScope.invoiceView(try await InvoiceStore.load(id, on: connection).json, agency: agency)
            let today = services.today()
            let interest = try await StatementMethods.accruedInterest(invoiceIDs: [id], asOf: today, on: connection)[id] ?? 0
            if case .object(var object) = invoice {
                object["accrued_interest"] = .money(interest)
                invoice = .object(object)
            }
            return invoice
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let status = try params.optionalChoice("status", InvoiceStatus.self)?.rawValue
        let agency = AgencyScope.agency(context)
        let overdueAsOf = try params.optionalDate("overdue_as_of")
        let limit = try params.optionalInt("limit", range: 1...500) ?? 50
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: InvoiceStore.columns) FROM invoices i
            WHERE i.id > \(after)
              AND (\(agency)::bigint IS NULL OR i.id IN (SELECT agency_invoice_ids(\(agency))))
              AND (\(customerID)::bigint IS NULL OR i.customer_id = \(customerID))
              AND (\(status)::text IS NULL OR i.status = \(status))
              AND (\(overdueAsOf)::date IS NULL OR (i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.due_date < \(overdueAsOf)))
            ORDER BY i.id
            LIMIT \(limit)
            """)
        let invoices = rows.decodeEach("invoice", logger: context.logger) { AgencyScope.invoiceView(try $0.decode(InvoiceRecord.self).json, agency: agency) }
        let next = rows.nextAfter(limit: limit)
        return ["invoices": .array(invoices), "next_after": next]
    }

    static func void(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason")
        let current = context
        return try await services.transaction(current) { tx in
            let before = try await InvoiceStore.load(id, forUpdate: true, on: tx)
            guard before.status == .open, before.paidAmount == 0 else {
                throw RPCFailure.ruleViolated(.invoiceNotVoidable, "only an open invoice without payments can be voided")
            }
            try await tx.query("""
                UPDATE invoices SET status = 'void', void_reason = \(reason), voided_by = \(current.session?.userID), voided_at = now()
                WHERE id = \(id)
                """)
            let after = try await InvoiceStore.load(id, on: tx).json
            try await Audit.record(tx, context: current, method: "invoices.void", entity: "invoice", entityID: String(id),
                                   before: before.json, after: after)
            return after
        }
    }
}
