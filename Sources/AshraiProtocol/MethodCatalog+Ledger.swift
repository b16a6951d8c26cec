import AshraiCore

extension Schema {
    /// An invoice status.
    public static let invoiceStatus: JSONValue = ["type": "string", "enum": ["open", "partially_paid", "paid", "written_off", "void"]]
    /// An idempotency key.
    public static let idempotencyKey: JSONValue = ["type": "string", "minLength": 1, "maxLength": 200]

    /// An invoice as methods return it.
    public static let invoice = object([
        "id": id, "customer_id": id, "number": string, "issue_date": date, "due_date": date, "amount": money,
        "currency": string, "description": nullable(string), "status": invoiceStatus, "paid_amount": money,
        "written_off_amount": money, "open_amount": money,
        "terms": object(["version": ["type": "integer"], "credit_limit": money, "net_days": ["type": "integer"],
                         "late_interest_rate": percent, "early_discount_rate": nullable(percent),
                         "early_discount_days": nullable(["type": "integer"])],
                        required: ["version", "credit_limit", "net_days", "late_interest_rate"]),
        "override_reason": nullable(string), "created_at": instant, "void_reason": nullable(string),
    ], required: ["id", "customer_id", "number", "issue_date", "due_date", "amount", "currency", "status", "open_amount", "terms"])
}

extension MethodCatalog {
    static let ledgerMethods: [MethodSpec] = [
        MethodSpec(name: "invoices.create",
                   summary: "Issue an invoice; the credit decision is made here under a lock on the customer. Over the limit is 422 credit_limit unless a manager gives override_reason.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .required("number", Schema.string(maxLength: 64)),
                            .required("issue_date", Schema.date), .optional("due_date", Schema.date), .required("amount", Schema.money),
                            .optional("currency", Schema.string(maxLength: 3)), .optional("description", Schema.text),
                            .optional("override_reason", Schema.text), .optional("idempotency_key", Schema.idempotencyKey)],
                   result: Schema.invoice),
        MethodSpec(name: "invoices.get", summary: "One invoice with its open amount and the terms snapshotted on it.", access: staff,
                   params: [.required("id", Schema.id)], result: Schema.invoice),
        MethodSpec(name: "invoices.list", summary: "Invoices, filtered; keyset-paginated by `after` (an id).", access: staff,
                   params: [.optional("customer_id", Schema.id), .optional("status", Schema.invoiceStatus),
                            .optional("overdue_as_of", Schema.date), .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]),
                            .optional("after", Schema.id)],
                   result: Schema.object(["invoices": Schema.array(Schema.invoice), "next_after": Schema.nullable(Schema.id)],
                                         required: ["invoices", "next_after"])),
        MethodSpec(name: "invoices.void", summary: "Void an invoice that has no payments.", access: staff,
                   params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.invoice),
    ]
}
