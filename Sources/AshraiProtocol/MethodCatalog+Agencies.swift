import AshraiCore

extension Schema {
    public static let agency = object([
        "id": id, "name": string, "registration_no": nullable(string), "contact_name": nullable(string), "email": nullable(string),
        "phone": nullable(string), "commission_rate": percent, "fee_terms": nullable(string), "licensed": bool,
        "rating": nullable(["type": "integer", "minimum": 1, "maximum": 5]), "notes": nullable(string), "active": bool,
        "version": ["type": "integer"], "open_assignments": ["type": "integer"], "created_at": instant,
    ], required: ["id", "name", "commission_rate", "licensed", "active", "version"])
    public static let assignmentStatus: JSONValue = oneOf(AssignmentStatus.self)
    public static let assignment = object([
        "id": id, "agency_id": id, "agency_name": string, "customer_id": id, "customer_name": string, "status": assignmentStatus,
        "customer_notified_on": nullable(date), "notification_interaction_id": nullable(id), "commission_rate": percent,
        "assigned_amount": money, "open_amount": money, "collected": money, "commission": money, "net": money, "invoice_ids": array(id),
        "notes": nullable(string), "activated_on": nullable(date), "ended_on": nullable(date), "end_reason": nullable(string), "created_at": instant,
        "notice_letter_id": nullable(id),
    ], required: ["id", "agency_id", "customer_id", "status", "commission_rate", "assigned_amount", "collected", "commission", "invoice_ids"])

    static func agencyFields(required: Bool) -> [ParamSpec] {
        [required ? .required("name", string(maxLength: 200)) : .optional("name", string(maxLength: 200)),
         .optional("registration_no", string(maxLength: 200)), .optional("contact_name", string(maxLength: 200)),
         .optional("email", string(maxLength: 200)), .optional("phone", string(maxLength: 200)),
         required ? .required("commission_rate", percent) : .optional("commission_rate", percent),
         .optional("fee_terms", text), .optional("licensed", bool), .optional("rating", nullable(["type": "integer", "minimum": 1, "maximum": 5])),
         .optional("notes", text)]
    }
}

extension MethodCatalog {
    static let agencyMethods: [MethodSpec] = [
        MethodSpec(name: "agencies.create", summary: "Record a collection agency and its agreed terms (commission %, fees, licence, rating).",
                   access: adminOnly, params: Schema.agencyFields(required: true), result: Schema.agency),
        MethodSpec(name: "agencies.update", summary: "Change an agency's record; `version` guards against lost updates.", access: adminOnly,
                   params: [.required("id", Schema.id), .optional("version", ["type": "integer", "minimum": 1])] + Schema.agencyFields(required: false),
                   result: Schema.agency),
        MethodSpec(name: "agencies.get", summary: "One agency.", access: managersAndAgency, params: [.required("id", Schema.id)], result: Schema.agency),
        MethodSpec(name: "agencies.list", summary: "Agencies by name.", access: managers, params: [.optional("active", Schema.bool)],
                   result: Schema.object(["agencies": Schema.array(Schema.agency)], required: ["agencies"])),
        MethodSpec(name: "agencies.deactivate", summary: "Stop working with an agency (only with no pending or active assignment).", access: adminOnly,
                   params: [.required("id", Schema.id)], result: Schema.agency),
        MethodSpec(name: "agencies.statement",
                   summary: "Per assignment and in total: assigned, collected (payments via the assignment in the period), commission at the assignment's rate (half-even to the agora), net to the business, recovery rate.",
                   access: managers,
                   params: [.required("agency_id", Schema.id), .optional("from", Schema.date), .optional("to", Schema.date)],
                   result: Schema.object([
                       "agency": Schema.agency, "from": Schema.nullable(Schema.date), "to": Schema.nullable(Schema.date),
                       "assignments": Schema.array(Schema.object([
                           "assignment_id": Schema.id, "customer_id": Schema.id, "customer_name": Schema.string, "status": Schema.assignmentStatus,
                           "assigned_on": Schema.date, "commission_rate": Schema.percent, "assigned": Schema.money, "collected": Schema.money,
                           "commission": Schema.money, "net": Schema.money,
                       ], required: ["assignment_id", "customer_id", "assigned", "collected", "commission", "net"])),
                       "assigned": Schema.money, "collected": Schema.money, "commission": Schema.money, "net": Schema.money,
                       "recovery_rate": Schema.nullable(Schema.signedDecimal),
                   ], required: ["agency", "assignments", "assigned", "collected", "commission", "net", "recovery_rate"])),
        MethodSpec(name: "assignments.create",
                   summary: "Hand open, overdue invoices of one customer to an agency. Without customer_notified_on Ashrai writes the referral notice (he/en) and delivers it through the outbox; the assignment stays pending (the agency sees nothing) until the notice is sent, and is then active, notified on the day it was sent. customer_notified_on records a notice given outside Ashrai instead; send_notice: false writes none (notify by hand later). Dunning stops for the invoices while it is active.",
                   access: managers,
                   params: [.required("agency_id", Schema.id), .required("customer_id", Schema.id), .required("invoice_ids", Schema.array(Schema.id)),
                            .optional("customer_notified_on", Schema.date), .optional("notification_interaction_id", Schema.id),
                            .optional("send_notice", Schema.bool),
                            .optional("notes", Schema.text)],
                   result: Schema.assignment),
        MethodSpec(name: "assignments.notify", summary: "Record that the customer was told of the transfer; a pending assignment becomes active.",
                   access: managers,
                   params: [.required("id", Schema.id), .required("customer_notified_on", Schema.date), .optional("notification_interaction_id", Schema.id)],
                   result: Schema.assignment),
        MethodSpec(name: "assignments.recall", summary: "Take the invoices back from the agency; its access ends at once.", access: managers,
                   params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.assignment),
        MethodSpec(name: "assignments.settle", summary: "Close an assignment as settled; its access ends at once.", access: managers,
                   params: [.required("id", Schema.id), .optional("reason", Schema.text)], result: Schema.assignment),
        MethodSpec(name: "assignments.list", summary: "Assignments, newest first.", access: managersAndAgency,
                   params: [.optional("agency_id", Schema.id), .optional("customer_id", Schema.id), .optional("status", Schema.assignmentStatus)],
                   result: Schema.object(["assignments": Schema.array(Schema.assignment)], required: ["assignments"])),
        MethodSpec(name: "assignments.get", summary: "One assignment with what is open, collected and the commission.", access: managersAndAgency,
                   params: [.required("id", Schema.id)], result: Schema.assignment),
    ]
}

extension Schema {
    /// A decimal number as a string, possibly negative (a KPI: days or percent).
    public static let signedDecimal: JSONValue = ["type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"]
}
