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
                   summary: "Hand open, overdue invoices of one customer to an agency. Without customer_notified_on it stays pending (the agency sees nothing); dunning stops for the invoices while it is active.",
                   access: managers,
                   params: [.required("agency_id", Schema.id), .required("customer_id", Schema.id), .required("invoice_ids", Schema.array(Schema.id)),
                            .optional("customer_notified_on", Schema.date), .optional("notification_interaction_id", Schema.id),
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

extension MethodCatalog {
    static let kpiMethods: [MethodSpec] = [
        MethodSpec(name: "reports.kpis",
                   summary: "Receivables KPIs for a period from the ledger: DSO (simple and countback), best-possible DSO, average days delinquent, CEI, bad-debt ratio, at-risk rate, promises kept, dispute rate, average days to pay, agency collections and commission. Formulas in the README.",
                   access: managers,
                   params: [.required("from", Schema.date), .required("to", Schema.date), .optional("as_of", Schema.date)],
                   result: Schema.object([
                       "from": Schema.date, "to": Schema.date, "as_of": Schema.date, "days": ["type": "integer"],
                       "figures": ["type": "object"],
                       "kpis": Schema.object([
                           "dso_simple": Schema.nullable(Schema.signedDecimal), "dso_countback": Schema.nullable(Schema.signedDecimal),
                           "best_possible_dso": Schema.nullable(Schema.signedDecimal), "average_days_delinquent": Schema.nullable(Schema.signedDecimal),
                           "cei": Schema.nullable(Schema.signedDecimal), "bad_debt_ratio": Schema.nullable(Schema.signedDecimal),
                           "at_risk_rate": Schema.nullable(Schema.signedDecimal), "promises_kept_rate": Schema.nullable(Schema.signedDecimal),
                           "dispute_rate": Schema.nullable(Schema.signedDecimal), "average_days_to_pay": Schema.nullable(Schema.signedDecimal),
                       ]),
                   ], required: ["from", "to", "as_of", "days", "figures", "kpis"])),
    ]
}

extension Schema {
    public static let trainingTopic: JSONValue = oneOf(TrainingTopic.self)
    public static let staffRoles: JSONValue = array(oneOf(Role.staff))
    public static let course = object([
        "id": id, "code": string, "title": string, "topic": trainingTopic, "required_for_roles": staffRoles,
        "validity_months": nullable(["type": "integer"]), "description": nullable(string), "version": ["type": "integer"],
    ], required: ["id", "code", "title", "topic", "required_for_roles"])
    public static let trainingRecord = object([
        "id": id, "user_id": id, "username": string, "course_code": string, "course_title": string, "completed_on": date,
        "expires_on": nullable(date), "score": nullable(percent), "trainer": nullable(string), "certificate_ref": nullable(string),
        "notes": nullable(string),
    ], required: ["id", "user_id", "course_code", "completed_on"])
}

extension MethodCatalog {
    static let trainingMethods: [MethodSpec] = [
        MethodSpec(name: "training.courses.create", summary: "A training course, the staff roles that must have it and how many months it counts.",
                   access: managers,
                   params: [.required("code", Schema.string(maxLength: 40)), .required("title", Schema.string(maxLength: 200)),
                            .required("topic", Schema.trainingTopic), .optional("required_for_roles", Schema.staffRoles),
                            .optional("validity_months", ["type": "integer", "minimum": 1, "maximum": 120]), .optional("description", Schema.text)],
                   result: Schema.course),
        MethodSpec(name: "training.courses.list", summary: "Training courses.", access: staff, params: [],
                   result: Schema.object(["courses": Schema.array(Schema.course)], required: ["courses"])),
        MethodSpec(name: "training.courses.update", summary: "Change a course (by code).", access: managers,
                   params: [.required("code", Schema.string(maxLength: 40)), .optional("title", Schema.string(maxLength: 200)),
                            .optional("topic", Schema.trainingTopic), .optional("required_for_roles", Schema.staffRoles),
                            .optional("validity_months", ["type": "integer", "minimum": 1, "maximum": 120]), .optional("description", Schema.text)],
                   result: Schema.course),
        MethodSpec(name: "training.records.add", summary: "Record that a staff member completed a course.", access: managers,
                   params: [.required("user_id", Schema.id), .required("course_code", Schema.string(maxLength: 40)), .required("completed_on", Schema.date),
                            .optional("score", Schema.percent), .optional("trainer", Schema.string(maxLength: 200)),
                            .optional("certificate_ref", Schema.string(maxLength: 200)), .optional("notes", Schema.text)],
                   result: Schema.trainingRecord),
        MethodSpec(name: "training.records.list", summary: "Training records, newest first; a clerk reads only their own.", access: staff,
                   params: [.optional("user_id", Schema.id)],
                   result: Schema.object(["records": Schema.array(Schema.trainingRecord)], required: ["records"])),
        MethodSpec(name: "training.compliance",
                   summary: "Per active staff member: each course their role requires — missing, expired, expiring within 30 days, or current — and the team's compliance rate.",
                   access: managers, params: [.optional("as_of", Schema.date)],
                   result: Schema.object([
                       "as_of": Schema.date, "compliance_rate": Schema.nullable(Schema.percent),
                       "users": Schema.array(Schema.object(["user_id": Schema.id, "username": Schema.string, "role": Schema.string, "compliant": Schema.bool,
                                                            "courses": Schema.array(["type": "object"])], required: ["user_id", "compliant", "courses"])),
                   ], required: ["as_of", "users", "compliance_rate"])),
    ]
}

extension MethodCatalog {
    static let reviewMethods: [MethodSpec] = [
        MethodSpec(name: "reports.kpis_trend", summary: "reports.kpis per calendar month for the last `months` months (the current one to today), oldest first.",
                   access: managers, params: [.optional("months", ["type": "integer", "minimum": 1, "maximum": 36])],
                   result: Schema.object(["months": Schema.array(["type": "object"])], required: ["months"])),
        MethodSpec(name: "reports.collectors",
                   summary: "Per staff member in a period: interactions logged, promises obtained and kept, and money collected after their contact (payments credited to whoever last contacted the customer in the 30 days before).",
                   access: managers, params: [.required("from", Schema.date), .required("to", Schema.date)],
                   result: Schema.object(["from": Schema.date, "to": Schema.date, "collectors": Schema.array(["type": "object"])],
                                         required: ["from", "to", "collectors"])),
        MethodSpec(name: "reports.review",
                   summary: "The periodic audit of the credit process: reviews overdue, customers over their limit by override, old holds, broken promises without follow-up, invoices 90+ days late without contact in 14 days, agencies' recovery rates, staff missing required training.",
                   access: managers, params: [.optional("as_of", Schema.date), .optional("hold_days", ["type": "integer", "minimum": 1, "maximum": 3650])],
                   result: ["type": "object"]),
    ]
}
