import AshraiCore

extension Schema {
    /// A preferred contact channel.
    public static let channel: JSONValue = oneOf(ContactChannel.self)
    /// A letter language.
    public static let language: JSONValue = oneOf(Language.self)
    /// A customer status.
    public static let customerStatus: JSONValue = oneOf(CustomerStatus.self)
    /// A grade.
    public static let grade: JSONValue = ["type": "string", "enum": .array(Grade.allCases.map { .string($0.rawValue) })]
    /// A percentage 0–100 as a decimal string.
    public static let percent: JSONValue = ["type": "string", "pattern": "^[0-9]+(\\\\.[0-9]+)?$", "description": "percent, 0–100"]
    /// An optional text.
    public static let text: JSONValue = string(maxLength: 2000)

    /// A customer as methods return it.
    public static let customer = object([
        "id": id, "code": nullable(string), "name": string, "legal_id": nullable(string), "email": nullable(string),
        "phone": nullable(string), "address": nullable(string), "preferred_channel": nullable(channel), "language": language,
        "notes": nullable(string), "status": customerStatus, "grade": nullable(grade), "score": nullable(["type": "integer"]),
        "next_review_on": nullable(date), "created_at": instant, "version": ["type": "integer"], "closed_reason": nullable(string),
        "courtesy_reminders": bool, "owner_id": nullable(id),
    ], required: ["id", "name", "status", "version"])

    /// A contact person.
    public static let contact = object([
        "id": id, "customer_id": id, "name": string, "role": nullable(string), "email": nullable(string),
        "phone": nullable(string), "preferred_channel": nullable(channel),
    ], required: ["id", "customer_id", "name"])

    /// Credit terms (a version).
    /// How days to pay are counted: from the invoice's date, or from the end of its month (שוטף).
    public static let termsBasis: JSONValue = oneOf(TermsBasis.self)

    /// A customer's terms.
    public static let terms = object([
        "customer_id": id, "version": ["type": "integer"], "credit_limit": money, "net_days": ["type": "integer"],
        "terms_basis": termsBasis, "description": ["type": "string", "description": "the terms in the customer's language: net 30, שוטף + 60"],
        "late_interest_rate": percent, "early_discount_rate": nullable(percent), "early_discount_days": nullable(["type": "integer"]),
        "currency": string, "reason": string, "set_by": nullable(string), "set_at": nullable(instant), "is_default": bool,
    ], required: ["customer_id", "version", "credit_limit", "net_days", "late_interest_rate", "currency", "is_default"])

    /// A stored assessment.
    public static let assessment = object([
        "id": id, "customer_id": id, "as_of": date, "score": ["type": "integer", "minimum": 0, "maximum": 100], "grade": grade,
        "reasons": array(object(["factor": string, "value": string, "points": ["type": "integer"], "note": string],
                                required: ["factor", "value", "points", "note"])),
        "z_score": nullable(string), "z_zone": nullable(["type": "string", "enum": ["safe", "grey", "distress"]]),
        "suggested_terms": object(["credit_limit": money, "net_days": ["type": "integer"]], required: ["credit_limit", "net_days"]),
        "created_at": instant,
    ], required: ["id", "customer_id", "as_of", "score", "grade", "reasons", "suggested_terms"])

    /// A hold.
    public static let hold = object([
        "id": id, "customer_id": id, "reason": string, "interaction_id": nullable(id), "placed_by": nullable(string),
        "placed_at": instant, "release_reason": nullable(string), "released_by": nullable(string), "released_at": nullable(instant),
        "active": bool,
    ], required: ["id", "customer_id", "reason", "placed_at", "active"])

    /// A review.
    public static let review = object([
        "id": id, "customer_id": id, "reviewed_on": date, "findings": string, "decision": string, "grade": nullable(grade),
        "next_review_on": date, "reviewed_by": nullable(string),
    ], required: ["id", "customer_id", "reviewed_on", "findings", "decision", "next_review_on"])
}

extension MethodCatalog {
    static let customerFields: [ParamSpec] = [
        .optional("code", Schema.string(maxLength: 64)), .optional("legal_id", Schema.string(maxLength: 64)),
        .optional("email", Schema.string(maxLength: 254)), .optional("phone", Schema.string(maxLength: 64)),
        .optional("address", Schema.string(maxLength: 500)), .optional("preferred_channel", Schema.channel),
        .optional("language", Schema.language), .optional("notes", Schema.text),
        .optional("courtesy_reminders", ["type": "boolean", "description": "send this customer the policy's courtesy reminder before the due date"]),
        .optional("allow_duplicate_legal_id", ["type": "boolean", "description": "accept a legal_id another customer has (a branch, a sole trader's second business); needs duplicate_reason"]),
        .optional("duplicate_reason", Schema.text),
        .optional("owner_id", ["oneOf": [Schema.id, ["type": "null"]], "description": "the user whose portfolio the customer is in (an active admin, manager or clerk; set by managers and admins); null: nobody's"]),
    ]

    static let customerMethods: [MethodSpec] = [
        MethodSpec(name: "customers.create", summary: "Create a customer (code unique when given; any script for names).", access: staff,
                   params: [.required("name", Schema.string(maxLength: 200))] + customerFields, result: Schema.customer),
        MethodSpec(name: "customers.get", summary: "One customer with grade, score, status and next review.", access: staffAndAgency,
                   params: [.required("id", Schema.id)], result: Schema.customer),
        MethodSpec(name: "customers.update", summary: "Change contact data; `version` must be current (else 409).", access: staff,
                   params: [.required("id", Schema.id), .required("version", ["type": "integer"]),
                            .optional("name", Schema.string(maxLength: 200))] + customerFields, result: Schema.customer),
        MethodSpec(name: "customers.close", summary: "Close an account (no more credit).", access: managers,
                   params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.customer),
        MethodSpec(name: "customers.list", summary: "Search (name, code, legal id, e-mail) and filter; keyset-paginated by `after` (an id).", access: staffAndAgency,
                   params: [.optional("query", Schema.string(maxLength: 200)), .optional("status", Schema.customerStatus),
                            .optional("grade", Schema.grade), .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]),
                            .optional("after", Schema.id), .optional("owner_id", ["type": "integer", "minimum": 1, "description": "only this user's portfolio (staff)"]),
                            .optional("unowned", ["type": "boolean", "description": "only customers nobody owns (staff)"])],
                   result: Schema.object(["customers": Schema.array(Schema.customer), "next_after": Schema.nullable(Schema.id)],
                                         required: ["customers", "next_after"])),
        MethodSpec(name: "customers.assign_owner", summary: "Give customers (up to 1,000) to one owner, or to nobody (owner_id null); each change audited.", access: managers,
                   params: [.required("customer_ids", ["type": "array", "items": Schema.id, "minItems": 1, "maxItems": 1000]),
                            .optional("owner_id", ["oneOf": [Schema.id, ["type": "null"]], "description": "the new owner; must be given — null gives the customers to nobody"])],
                   result: Schema.object(["owner_id": Schema.nullable(Schema.id), "customers": ["type": "integer"], "changed": ["type": "integer"]],
                                         required: ["owner_id", "customers", "changed"])),
        MethodSpec(name: "customers.contacts.add", summary: "Add a contact person.", access: staff,
                   params: [.required("customer_id", Schema.id), .required("name", Schema.string(maxLength: 200)),
                            .optional("role", Schema.string(maxLength: 100)), .optional("email", Schema.string(maxLength: 254)),
                            .optional("phone", Schema.string(maxLength: 64)), .optional("preferred_channel", Schema.channel)],
                   result: Schema.contact),
        MethodSpec(name: "customers.contacts.list", summary: "A customer's current contact people.", access: staffAndAgency,
                   params: [.required("customer_id", Schema.id)],
                   result: Schema.object(["contacts": Schema.array(Schema.contact)], required: ["contacts"])),
        MethodSpec(name: "customers.contacts.remove", summary: "Remove a contact person (kept in history).", access: staff,
                   params: [.required("id", Schema.id)], result: Schema.ok),
    ]

    static let creditMethods: [MethodSpec] = [
        MethodSpec(name: "credit.financials.add", summary: "Record a financial statement (amounts as decimal strings).", access: staff,
                   params: [.required("customer_id", Schema.id), .required("period_end", Schema.date)]
                       + ["current_assets", "current_liabilities", "total_assets", "total_liabilities", "retained_earnings",
                          "ebit", "equity", "revenue"].map { .required($0, Schema.money) },
                   result: Schema.object(["id": Schema.id], required: ["id"])),
        MethodSpec(name: "credit.references.add", summary: "Record a bureau report, trade or bank reference (rating 1 worst … 5 best).", access: staff,
                   params: [.required("customer_id", Schema.id),
                            .required("kind", Schema.oneOf(ReferenceKind.self)),
                            .required("source", Schema.string(maxLength: 200)), .required("received_on", Schema.date),
                            .optional("rating", ["type": "integer", "minimum": 1, "maximum": 5]), .optional("notes", Schema.text)],
                   result: Schema.object(["id": Schema.id], required: ["id"])),
        MethodSpec(name: "credit.assess", summary: "Score and grade a customer with reasons and suggested terms; stored.", access: managers,
                   params: [.required("customer_id", Schema.id), .optional("as_of", Schema.date)], result: Schema.assessment),
        MethodSpec(name: "credit.assessments", summary: "A customer's assessments, newest first.", access: staff,
                   params: [.required("customer_id", Schema.id), .optional("limit", ["type": "integer", "minimum": 1, "maximum": 100])],
                   result: Schema.object(["assessments": Schema.array(Schema.assessment)], required: ["assessments"])),
        MethodSpec(name: "credit.terms.set", summary: "Set new terms (a new version, effective now), with the reason.", access: managers,
                   params: [.required("customer_id", Schema.id), .required("credit_limit", Schema.money),
                            .required("net_days", ["type": "integer", "minimum": 0, "maximum": 365]),
                            .optional("terms_basis", Schema.termsBasis),
                            .required("late_interest_rate", Schema.percent), .optional("early_discount_rate", Schema.percent),
                            .optional("early_discount_days", ["type": "integer", "minimum": 0, "maximum": 365]),
                            .optional("currency", Schema.string(maxLength: 3)), .required("reason", Schema.text)],
                   result: Schema.terms),
        MethodSpec(name: "credit.terms.get", summary: "The terms in force (configured defaults when none were set).", access: staff,
                   params: [.required("customer_id", Schema.id)], result: Schema.terms),
        MethodSpec(name: "credit.terms.history", summary: "Every version of the terms: who set what, when and why.", access: staff,
                   params: [.required("customer_id", Schema.id)],
                   result: Schema.object(["versions": Schema.array(Schema.terms)], required: ["versions"])),
        MethodSpec(name: "credit.check", summary: "May this amount be given on credit now? Limit, exposure, available, reasons. The limit is measured against exposure without the post-dated cheques in hand (not money yet); secured_by_cheques and exposure_after_cheques show it with them.", access: staff,
                   params: [.required("customer_id", Schema.id), .required("amount", Schema.money)],
                   result: Schema.object(["allowed": Schema.bool, "credit_limit": Schema.money, "exposure": Schema.money,
                                          "secured_by_cheques": Schema.money, "exposure_after_cheques": Schema.money,
                                          "available": Schema.money, "status": Schema.customerStatus, "reasons": Schema.array(Schema.string)],
                                         required: ["allowed", "credit_limit", "exposure", "available", "status", "reasons"])),
        MethodSpec(name: "holds.place", summary: "Stop credit for a customer — a last step after contact and mediation.", access: managers,
                   params: [.required("customer_id", Schema.id), .required("reason", Schema.text), .optional("interaction_id", Schema.id)],
                   result: Schema.hold),
        MethodSpec(name: "holds.release", summary: "Lift the active hold.", access: managers,
                   params: [.required("customer_id", Schema.id), .required("reason", Schema.text)], result: Schema.hold),
        MethodSpec(name: "holds.list", summary: "Holds, newest first.", access: staff,
                   params: [.optional("customer_id", Schema.id), .optional("active", Schema.bool)],
                   result: Schema.object(["holds": Schema.array(Schema.hold)], required: ["holds"])),
        MethodSpec(name: "reviews.record", summary: "Record a periodic review; the next date defaults from the grade's interval.", access: managers,
                   params: [.required("customer_id", Schema.id), .required("findings", Schema.text), .required("decision", Schema.text),
                            .optional("reviewed_on", Schema.date), .optional("next_review_on", Schema.date)],
                   result: Schema.review),
        MethodSpec(name: "reviews.due", summary: "Customers whose review is due or overdue as of a date, worst first.", access: managers,
                   params: [.optional("as_of", Schema.date)],
                   result: Schema.object(["due": Schema.array(Schema.object([
                       "customer": Schema.customer, "days_overdue": ["type": "integer"],
                   ], required: ["customer", "days_overdue"]))], required: ["due"])),
    ]
}
