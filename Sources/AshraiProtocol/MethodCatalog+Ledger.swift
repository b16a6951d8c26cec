import AshraiCore

extension Schema {
    /// An invoice status.
    public static let invoiceStatus: JSONValue = oneOf(InvoiceStatus.self)
    /// An idempotency key.
    public static let idempotencyKey: JSONValue = ["type": "string", "minLength": 1, "maxLength": 200]

    /// An invoice as methods return it.
    public static let invoice = object([
        "id": id, "customer_id": id, "number": string, "issue_date": date, "due_date": date, "amount": money,
        "currency": string, "description": nullable(string), "status": invoiceStatus, "paid_amount": money, "discount_amount": money,
        "written_off_amount": money, "credited_amount": money, "open_amount": money,
        "terms": object(["version": ["type": "integer"], "credit_limit": money, "net_days": ["type": "integer"], "terms_basis": termsBasis,
                         "late_interest_rate": percent, "early_discount_rate": nullable(percent),
                         "early_discount_days": nullable(["type": "integer"])],
                        required: ["version", "credit_limit", "net_days", "late_interest_rate"]),
        "override_reason": nullable(string), "created_at": instant, "void_reason": nullable(string),
        "accrued_interest": money, "opening": bool,
    ], required: ["id", "customer_id", "number", "issue_date", "due_date", "amount", "currency", "status", "open_amount"])
}

extension Schema {
    /// A payment method.
    public static let paymentMethod: JSONValue = oneOf(PaymentMethod.recordable)
    /// A stored payment's method: also `opening_balance`, what an opening invoice had been paid before the import.
    public static let storedPaymentMethod: JSONValue = oneOf(PaymentMethod.self)
    /// Requested allocation lines.
    public static let allocationRequest: JSONValue = array(object(["invoice_id": id, "amount": money], required: ["invoice_id", "amount"]))
    /// An allocation line.
    public static let allocation = object(["id": id, "payment_id": id, "invoice_id": id, "amount": money, "discount": money,
                                           "applied_on": date, "reversed": bool],
                                          required: ["id", "payment_id", "invoice_id", "amount", "discount", "applied_on", "reversed"])
    /// A payment.
    public static let payment = object([
        "id": id, "customer_id": id, "amount": money, "currency": string, "method": storedPaymentMethod, "received_on": date,
        "reference": nullable(string), "unapplied": money, "status": oneOf(PaymentStatus.self),
        "reverse_reason": nullable(string), "via_assignment_id": nullable(id), "created_at": instant,
    ], required: ["id", "customer_id", "amount", "currency", "method", "received_on", "unapplied", "status"])
    /// A write-off.
    public static let writeoff = object(["id": id, "invoice_id": id, "customer_id": id, "amount": money, "reason": string,
                                         "written_off_on": date, "created_by": nullable(string)],
                                        required: ["id", "invoice_id", "customer_id", "amount", "reason", "written_off_on"])
    /// What payment writes return.
    public static let paymentResult = object(["payment": nullable(payment), "allocations": array(allocation), "unapplied": money,
                                              "cheque": cheque],
                                             required: ["payment", "allocations", "unapplied"])
    /// A cheque received (payments.record with cheque; cheques.*).
    public static let cheque = object([
        "id": id, "customer_id": id, "number": string, "bank": string, "branch": string, "account": string, "amount": money,
        "currency": string, "received_on": date, "value_date": date, "reference": nullable(string),
        "status": oneOf(ChequeStatus.self), "payment_id": nullable(id), "applied_on": nullable(date),
        "bank_transaction_id": nullable(id), "bounce_reason": nullable(string),
        "bounced_on": nullable(date), "created_at": instant,
        "invoices": array(object(["invoice_id": id, "amount": money], required: ["invoice_id", "amount"])),
        "customer_name": string, "fee_invoice_id": nullable(id), "interaction_id": id,
    ], required: ["id", "customer_id", "number", "bank", "branch", "account", "amount", "currency", "received_on", "value_date",
                  "status", "invoices"])
}

extension MethodCatalog {
    /// A batch import method.
    static func importMethod(_ name: String, _ what: String, access: MethodSpec.Access = staff, extra: [ParamSpec] = []) -> MethodSpec {
        MethodSpec(name: name,
                   summary: "Import up to 5000 \(what) per call, each row as its single-row method would; per-row results; atomic: all or nothing; dry_run: check only.",
                   access: access,
                   params: [.required("rows", Schema.array(["type": "object"])), .optional("dry_run", Schema.bool), .optional("atomic", Schema.bool)] + extra,
                   result: Schema.object(["results": Schema.array(Schema.object(["index": ["type": "integer"], "ok": Schema.bool,
                                                                                 "id": Schema.nullable(Schema.id), "error": ["type": "object"]],
                                                                                required: ["index", "ok"])),
                                          "created": ["type": "integer"], "failed": ["type": "integer"], "committed": Schema.bool],
                                         required: ["results", "created", "failed", "committed"]))
    }

    static let ledgerMethods: [MethodSpec] = [
        importMethod("customers.import", "customers (columns as customers.create, plus terms: credit_limit, net_days, terms_basis, late_interest_rate, early_discount_rate, early_discount_days — they become terms version 1, reason \"import\"; a manager's or admin's — and owner, a username, also a manager's or admin's)"),
        importMethod("invoices.import", "invoices (columns as invoices.create; customer_code may replace customer_id; with opening: true — managers and admins — existing debts without a credit decision, each flagged opening, and paid_amount for what was already paid)",
                     extra: [.optional("opening", ["type": "boolean", "description": "opening balances: no credit decision, a hold does not block, paid_amount allowed"])]),
        importMethod("payments.import", "payments (columns as payments.record; customer_code may replace customer_id)"),
        MethodSpec(name: "invoices.create",
                   summary: "Issue an invoice; the credit decision is made here under a lock on the customer. Over the limit is 422 credit_limit unless a manager gives override_reason.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .required("number", Schema.string(maxLength: 64)),
                            .required("issue_date", Schema.date), .optional("due_date", Schema.date), .required("amount", Schema.money),
                            .optional("currency", Schema.string(maxLength: 3)), .optional("description", Schema.text),
                            .optional("override_reason", Schema.text), .optional("idempotency_key", Schema.idempotencyKey)],
                   result: Schema.invoice),
        MethodSpec(name: "invoices.get", summary: "One invoice with its open amount and the terms snapshotted on it.", access: staffAndAgency,
                   params: [.required("id", Schema.id)], result: Schema.invoice),
        MethodSpec(name: "invoices.list", summary: "Invoices, filtered; keyset-paginated by `after` (an id).", access: staffAndAgency,
                   params: [.optional("customer_id", Schema.id), .optional("status", Schema.invoiceStatus),
                            .optional("overdue_as_of", Schema.date), .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]),
                            .optional("after", Schema.id)],
                   result: Schema.object(["invoices": Schema.array(Schema.invoice), "next_after": Schema.nullable(Schema.id)],
                                         required: ["invoices", "next_after"])),
        MethodSpec(name: "invoices.void", summary: "Void an invoice that has no payments.", access: staff,
                   params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.invoice),
        MethodSpec(name: "payments.record",
                   summary: "Record money received; allocate as told or oldest due first; early-payment discounts as their own lines; the rest stays as unapplied credit.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .required("amount", Schema.money), .required("method", Schema.paymentMethod),
                            .required("received_on", Schema.date), .optional("reference", Schema.string(maxLength: 200)),
                            .optional("currency", Schema.string(maxLength: 3)), .optional("allocations", Schema.allocationRequest),
                            .optional("idempotency_key", Schema.idempotencyKey),
                            .optional("via_assignment_id", ["type": "integer", "minimum": 1, "description": "money a collection agency collected under this assignment"]),
                            .optional("cheque", Schema.object([
                                "number": Schema.string(maxLength: 40), "bank": Schema.string(maxLength: 40),
                                "branch": Schema.string(maxLength: 40), "account": Schema.string(maxLength: 40), "value_date": Schema.date,
                            ], required: ["number", "bank", "branch", "account", "value_date"]))],
                   result: Schema.paymentResult),
        MethodSpec(name: "payments.apply", summary: "Apply a payment's unapplied credit to invoices.", access: staff,
                   params: [.required("payment_id", Schema.id), .optional("allocations", Schema.allocationRequest),
                            .optional("idempotency_key", Schema.idempotencyKey)],
                   result: Schema.paymentResult),
        MethodSpec(name: "payments.reverse", summary: "Reverse a payment (bounced cheque, charge-back): un-allocates and reopens invoices.",
                   access: staff, params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.paymentResult),
        MethodSpec(name: "payments.get", summary: "One payment with its allocations.", access: staff,
                   params: [.required("id", Schema.id)], result: Schema.paymentResult),
        MethodSpec(name: "reports.aging",
                   summary: "Open receivables by days past due (current, 1–30, 31–60, 61–90, 90+ by default), per customer, as of a date; payments after as_of do not count.",
                   access: staff,
                   params: [.optional("as_of", Schema.date),
                            .optional("buckets", ["type": "array", "items": ["type": "integer", "minimum": 1, "maximum": 3650], "maxItems": 10]),
                            .optional("customer_id", Schema.id), .optional("group_by", ["type": "string", "enum": ["customer", "none"]]),
                            .optional("min_overdue_days", ["type": "integer", "minimum": 0]),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 100000, "description": "customer rows per page (default 1000); totals always cover all"]),
                            .optional("offset", ["type": "integer", "minimum": 0])],
                   result: Schema.object([
                       "as_of": Schema.date, "buckets": Schema.array(Schema.string),
                       "rows": Schema.array(Schema.object(["customer_id": Schema.id, "code": Schema.nullable(Schema.string), "name": Schema.string,
                                                           "amounts": ["type": "object", "additionalProperties": Schema.money],
                                                           "total": Schema.money, "invoices": ["type": "integer"]],
                                                          required: ["customer_id", "name", "amounts", "total", "invoices"])),
                       "totals": Schema.object(["amounts": ["type": "object", "additionalProperties": Schema.money], "total": Schema.money,
                                                "invoices": ["type": "integer"],
                                                "secured_by_cheques": ["type": "string", "description": "post-dated cheques in hand on as_of (not money, so not in the buckets)"],
                                                "total_after_cheques": Schema.money],
                                               required: ["amounts", "total", "invoices"]),
                       "next_offset": Schema.nullable(["type": "integer"]),
                   ], required: ["as_of", "buckets", "rows", "totals", "next_offset"])),
        MethodSpec(name: "writeoffs.create", summary: "Write off an invoice's open remainder (or part of it) as bad debt.", access: managers,
                   params: [.required("invoice_id", Schema.id), .optional("amount", Schema.money), .required("reason", Schema.text),
                            .optional("written_off_on", Schema.date)],
                   result: Schema.object(["writeoff": Schema.writeoff, "invoice": Schema.invoice], required: ["writeoff", "invoice"])),
        MethodSpec(name: "writeoffs.list", summary: "Write-offs, newest first, with their total.", access: managers,
                   params: [.optional("customer_id", Schema.id), .optional("from", Schema.date), .optional("to", Schema.date)],
                   result: Schema.object(["writeoffs": Schema.array(Schema.writeoff), "total": Schema.money], required: ["writeoffs", "total"])),
        MethodSpec(name: "statements.send",
                   summary: "Send the customer a statement of its open invoices as of a day (default today), with accrued late interest: written in the customer's language and delivered by the outbox (e-mail, else post). The letter.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .optional("as_of", Schema.date)],
                   result: Schema.letter),
        MethodSpec(name: "statements.get",
                   summary: "What the business sends a customer: opening balance, every invoice, payment, discount, reversal and write-off in date order with a running balance, accrued late interest, closing balance.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .optional("from", Schema.date), .optional("to", Schema.date),
                            .optional("as_of", Schema.date)],
                   result: Schema.object([
                       "customer": Schema.customer, "from": Schema.nullable(Schema.date), "to": Schema.date, "as_of": Schema.date,
                       "terms": Schema.terms,
                       "opening_balance": Schema.money, "closing_balance": Schema.money,
                       "lines": Schema.array(Schema.object(["date": Schema.date, "kind": ["type": "string", "enum": ["invoice", "payment", "discount", "reversal", "writeoff", "credit_note"]],
                                                            "reference": Schema.id, "description": Schema.string, "debit": Schema.money,
                                                            "credit": Schema.money, "balance": Schema.money],
                                                           required: ["date", "kind", "reference", "description", "debit", "credit", "balance"])),
                       "accrued_interest": Schema.object(["total": Schema.money, "invoices": Schema.array(Schema.object(
                           ["invoice_id": Schema.id, "number": Schema.nullable(Schema.string), "interest": Schema.money],
                           required: ["invoice_id", "interest"]))], required: ["total", "invoices"]),
                   ], required: ["customer", "to", "as_of", "opening_balance", "lines", "closing_balance", "accrued_interest"])),
        MethodSpec(name: "payments.list", summary: "Payments, filtered; keyset-paginated by `after` (an id).", access: staff,
                   params: [.optional("customer_id", Schema.id), .optional("from", Schema.date), .optional("to", Schema.date),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]), .optional("after", Schema.id)],
                   result: Schema.object(["payments": Schema.array(Schema.payment), "next_after": Schema.nullable(Schema.id)],
                                         required: ["payments", "next_after"])),
    ]
}
