import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// The set-based path of `invoices.import`: the same validation and the same credit rule
/// (`InvoiceDecision`) as `invoices.create`, but a constant number of statements per batch
/// instead of a dozen per row. The batch's customers are locked (in id order) for the whole
/// decision, exposures are read once and carried forward row by row in file order, and the
/// accepted rows and their audit records are written by one `INSERT … FROM unnest(…)`.
///
/// Opening balances (`opening: true`, a manager's or admin's first import of the debts the
/// business already has) take this path too, without the credit decision: a hold or the
/// limit does not stop a debt that already exists. Each is flagged `opening` and audited as
/// `invoices.import_opening`; a part already paid (`paid_amount`) becomes a payment of method
/// `opening_balance` dated on the day of the import and allocated to the invoice.
enum BulkInvoices {
    struct Row {
        var index: Int
        var customerID: Int64?
        var customerCode: String?
        var fields: InvoiceMethods.Fields
        /// Opening balances only: what was paid before the import.
        var paidAmount: Decimal = 0
    }

    static let columns = ["customer_id", "customer_code", "number", "issue_date", "due_date", "amount", "currency",
                          "description", "override_reason"]

    /// Whether the batch can take this path (per-row idempotency keys need the single-row path).
    static func applies(to rows: [JSONValue]) -> Bool {
        !rows.contains { $0["idempotency_key"] != nil }
    }

    static func parse(_ object: JSONObject, index: Int, opening: Bool, services: Services, context: CallContext) throws -> Row {
        let params = Params(object)
        for key in object.keys where !columns.contains(key) && !(opening && key == "paid_amount") {
            throw RPCFailure.invalidParams(key, key == "paid_amount" ? "paid_amount is only for opening balances (opening: true)"
                                                                     : "unknown column \(key)")
        }
        if opening, params.has("override_reason") {
            throw RPCFailure.invalidParams("override_reason", "opening balances are not credit decisions: override_reason does not apply")
        }
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let customerCode = try params.optionalString("customer_code", maxLength: 64)
        guard customerID != nil || customerCode != nil else { throw RPCFailure.invalidParams("customer_id", "customer_id or customer_code is required") }
        let fields = try InvoiceMethods.Fields(params, services: services, context: context)
        var row = Row(index: index, customerID: customerID, customerCode: customerCode, fields: fields)
        if opening, let paid = try params.optionalMoney("paid_amount", currency: fields.currency) {
            guard paid < fields.amount else {
                throw RPCFailure.invalidParams("paid_amount", "paid_amount must be less than amount: an opening balance is a debt still open")
            }
            row.paidAmount = paid
        }
        return row
    }

    static func run(services: Services, context: CallContext, rows: [JSONValue], dryRun: Bool, atomic: Bool,
                    opening: Bool = false) async throws -> JSONValue {
        var results = [JSONValue?](repeating: nil, count: rows.count)
        func fail(_ index: Int, _ failure: RPCFailure) { results[index] = ["index": .int(index), "ok": false, "error": failure.errorObject] }
        var parsed: [Row] = []
        for (index, value) in rows.enumerated() {
            guard case .object(let object) = value else { fail(index, .invalidParams("row", "row must be an object")); continue }
            do { parsed.append(try parse(object, index: index, opening: opening, services: services, context: context)) } catch let failure as RPCFailure {
                fail(index, failure)
            }
        }
        let committed = try await services.transaction(context) { tx -> Bool in
            // Codes to ids (a code is only a name for the id), then lock every customer of the
            // batch in id order, so two imports touching the same customers wait for each other
            // instead of deadlocking. (One statement with `id = ANY(…) OR lower(code) = ANY(…)`
            // was planned as a seq scan of customers.)
            let codes = Array(Set(parsed.compactMap { $0.customerID == nil ? $0.customerCode?.lowercased() : nil }))
            var idByCode: [String: Int64] = [:]
            if !codes.isEmpty {
                for row in try await tx.query("""
                    SELECT id, code_key AS code FROM customers WHERE code_key = ANY(\(PostgresArray(codes))::text[])
                    """) { idByCode[try row.decode(String.self, column: "code")] = try row.decode(Int64.self, column: "id") }
            }
            for index in parsed.indices where parsed[index].customerID == nil {
                parsed[index].customerID = parsed[index].customerCode.flatMap { idByCode[$0.lowercased()] }
            }
            var status: [Int64: CustomerStatus] = [:]
            let ids = Array(Set(parsed.compactMap(\.customerID))).sorted().map { String($0) }
            for row in try await tx.query("SELECT id, status FROM customers WHERE id = ANY(\(PostgresArray(ids))::bigint[]) ORDER BY id FOR UPDATE") {
                status[try row.decode(Int64.self, column: "id")] = CustomerStatus(rawValue: try row.decode(String.self, column: "status"))
            }
            // Terms in force and open exposure, read after the lock (READ COMMITTED: a new
            // snapshot per statement, so an invoice committed while we waited is counted).
            // One index probe per customer: the join on unnest keeps the generic plan of the
            // prepared statement on the indexes (`= ANY($1)` over credit_terms went to a seq scan).
            var terms: [Int64: CreditMethods.Terms] = [:]
            var exposure: [Int64: Decimal] = [:]
            for row in try await tx.query("""
                SELECT c.id, t.version, t.credit_limit, t.net_days, t.terms_basis, t.late_interest_rate, t.early_discount_rate,
                       t.early_discount_days, t.currency, \(unescaped: InvoiceStore.exposureSQL(customer: "c.id")) AS open
                FROM unnest(\(PostgresArray(ids))::bigint[]) AS c(id)
                LEFT JOIN LATERAL (SELECT * FROM credit_terms WHERE customer_id = c.id ORDER BY version DESC LIMIT 1) t ON true
                """) {
                let id = try row.decode(Int64.self, column: "id")
                if try row.decode(Int?.self, column: "version") != nil { terms[id] = try CreditMethods.Terms(row, services: services) }
                exposure[id] = try row.decode(Decimal?.self, column: "open") ?? 0
            }
            var taken = Set(try await tx.query("""
                SELECT number_key FROM invoices WHERE number_key = ANY(\(PostgresArray(parsed.map { $0.fields.number.lowercased() }))::text[])
                """).map { try $0.decode(String.self, at: 0) })
            let fallback = CreditMethods.Terms.defaults(customerID: 0, services: services)   // its json is not used here
            var accepted: [(row: Row, due: PostgresDate, terms: CreditMethods.Terms, overLimit: Bool)] = []
            for row in parsed {
                guard let customerID = row.customerID, let customerStatus = status[customerID] else {
                    fail(row.index, row.customerCode != nil && row.customerID == nil
                         ? .invalidParams("customer_code", "no customer with code \(row.customerCode!)") : .notFound("customer"))
                    continue
                }
                guard taken.insert(row.fields.number.lowercased()).inserted else {
                    fail(row.index, .conflict("invoice number is already in use", data: ["field": "number"]))
                    continue
                }
                let t = terms[customerID] ?? fallback
                let current = exposure[customerID] ?? 0
                if opening {   // a debt that already exists: no credit decision
                    accepted.append((row, row.fields.dueDate ?? t.dueDate(issuedOn: row.fields.issueDate), t, false))
                    continue
                }
                switch InvoiceDecision.decide(status: customerStatus, currency: row.fields.currency.code, termsCurrency: t.currency.code,
                                              creditLimit: t.creditLimit, exposure: current, amount: row.fields.amount, hasOverride: row.fields.overrideReason != nil) {
                case .refused(let rule, let message):
                    taken.remove(row.fields.number.lowercased())
                    fail(row.index, .ruleViolated(rule, message))
                case .allowed(let overLimit):
                    exposure[customerID] = current + row.fields.amount
                    let due = row.fields.dueDate ?? t.dueDate(issuedOn: row.fields.issueDate)
                    accepted.append((row, due, t, overLimit))
                }
            }
            let failed = results.compactMap { $0 }.count
            guard !dryRun, !(atomic && failed > 0), !accepted.isEmpty else {
                for item in accepted { results[item.row.index] = ["index": .int(item.row.index), "ok": true, "id": .null] }
                return false
            }
            func column(_ values: [String?]) -> PostgresArray { PostgresArray(values) }
            let inserted = try await tx.query("""
                WITH r AS (
                    SELECT * FROM unnest(\(column(accepted.map { String($0.row.customerID!) }))::bigint[],
                        \(column(accepted.map { $0.row.fields.number }))::text[], \(column(accepted.map { $0.row.fields.issueDate.description }))::date[],
                        \(column(accepted.map { $0.due.description }))::date[], \(column(accepted.map { PostgresNumeric.text(of: $0.row.fields.amount) }))::numeric[],
                        \(column(accepted.map { $0.row.fields.currency.code }))::text[], \(column(accepted.map { $0.row.fields.description }))::text[],
                        \(column(accepted.map { String($0.terms.version) }))::int[], \(column(accepted.map { PostgresNumeric.text(of: $0.terms.creditLimit) }))::numeric[],
                        \(column(accepted.map { String($0.terms.netDays) }))::int[], \(column(accepted.map { PostgresNumeric.text(of: $0.terms.lateInterestRate) }))::numeric[],
                        \(column(accepted.map { $0.terms.earlyDiscountRate.map(PostgresNumeric.text(of:)) }))::numeric[],
                        \(column(accepted.map { $0.terms.earlyDiscountDays.map(String.init) }))::int[],
                        \(column(accepted.map { $0.overLimit ? $0.row.fields.overrideReason : nil }))::text[],
                        \(column(accepted.map { $0.terms.basis.rawValue }))::text[],
                        \(column(accepted.map { PostgresNumeric.text(of: $0.row.paidAmount) }))::numeric[])
                    AS r(customer_id, number, issue_date, due_date, amount, currency, description, terms_version, credit_limit,
                         net_days, late_interest_rate, early_discount_rate, early_discount_days, override_reason, terms_basis, paid_amount)
                ), ins AS (
                    INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, description, terms_version,
                        credit_limit, net_days, late_interest_rate, early_discount_rate, early_discount_days, override_reason, created_by,
                        terms_basis, opening, paid_amount, status)
                    SELECT customer_id, number, issue_date, due_date, amount, currency, description, terms_version, credit_limit,
                           net_days, late_interest_rate, early_discount_rate, early_discount_days, override_reason, \(context.session?.userID),
                           terms_basis, \(opening), paid_amount, invoice_settlement_status(amount, paid_amount, 0, 0, 0)
                    FROM r
                    RETURNING id, customer_id, number, number_key, issue_date, due_date, amount, currency, override_reason, paid_amount,
                              terms_basis, net_days
                ), audit AS (
                    INSERT INTO audit_log (actor_user_id, actor_username, action, entity_type, entity_id, after, context)
                    SELECT \(context.session?.userID), \(context.session?.username), \(opening ? "invoices.import_opening" : "invoices.import"),
                           'invoice', ins.id::text,
                           jsonb_build_object('id', ins.id, 'customer_id', ins.customer_id, 'number', ins.number,
                                              'issue_date', ins.issue_date, 'due_date', ins.due_date, 'amount', ins.amount::text,
                                              'currency', ins.currency, 'override_reason', ins.override_reason,
                                              'terms_basis', ins.terms_basis, 'net_days', ins.net_days,
                                              'opening', \(opening), 'paid_amount', ins.paid_amount::text),
                           \(JSONValue.object(["connection_id": .int(context.connectionID), "bulk": true, "opening": .bool(opening)]))
                    FROM ins
                )
                SELECT id, number_key AS number FROM ins
                """)
            var idByNumber: [String: Int64] = [:]
            for row in inserted { idByNumber[try row.decode(String.self, column: "number")] = try row.decode(Int64.self, column: "id") }
            // What an opening invoice had already been paid: a payment dated today, allocated to it.
            let today = services.today()
            for item in accepted where item.row.paidAmount > 0 {
                guard let invoiceID = idByNumber[item.row.fields.number.lowercased()] else { continue }
                try await tx.query("""
                    WITH p AS (
                        INSERT INTO payments (customer_id, amount, currency, method, received_on, reference, unapplied, created_by)
                        VALUES (\(item.row.customerID!), \(item.row.paidAmount), \(item.row.fields.currency.code), 'opening_balance', \(today),
                                \("opening balance, invoice \(item.row.fields.number)"), 0, \(context.session?.userID))
                        RETURNING id
                    )
                    INSERT INTO allocations (payment_id, invoice_id, amount, applied_on, created_by)
                    SELECT p.id, \(invoiceID), \(item.row.paidAmount), \(today), \(context.session?.userID) FROM p
                    """)
            }
            for item in accepted {
                results[item.row.index] = ["index": .int(item.row.index), "ok": true,
                                           "id": idByNumber[item.row.fields.number.lowercased()].map(JSONValue.id) ?? .null]
            }
            return true
        }
        let failed = results.filter { $0?["ok"] == false }.count
        return [
            "results": .array(results.map { $0 ?? .null }), "created": .int(committed ? rows.count - failed : 0),
            "failed": .int(failed), "committed": .bool(committed),
        ]
    }
}
