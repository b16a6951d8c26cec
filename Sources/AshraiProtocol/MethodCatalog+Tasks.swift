import AshraiCore

extension Schema {
    public static let task = object([
        "id": id, "customer_id": id, "customer_name": string, "invoice_ids": array(id), "kind": oneOf(TaskKind.self), "due_on": date,
        "owner_id": nullable(id), "state": oneOf(TaskState.self), "note": nullable(string), "outcome": nullable(string),
        "interaction_id": nullable(id), "source": nullable(string), "created_at": instant, "closed_at": nullable(instant),
    ], required: ["id", "customer_id", "invoice_ids", "kind", "due_on", "owner_id", "state", "created_at"])
}

extension MethodCatalog {
    static let taskMethods: [MethodSpec] = [
        MethodSpec(name: "tasks.list",
                   summary: "Tasks, soonest due first (open ones unless state says otherwise). A clerk sees their own and the unowned; managers and admins all.",
                   access: staff,
                   params: [.optional("state", Schema.oneOf(TaskState.self)), .optional("owner_id", Schema.id), .optional("customer_id", Schema.id),
                            .optional("kind", Schema.oneOf(TaskKind.self)), .optional("due_by", Schema.date),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500]), .optional("after", Schema.id)],
                   result: Schema.object(["tasks": Schema.array(Schema.task), "next_after": Schema.nullable(Schema.id)], required: ["tasks", "next_after"])),
        MethodSpec(name: "tasks.create", summary: "Write a task by hand (kind manual); its owner is the customer's unless owner_id says otherwise.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .required("due_on", Schema.date), .required("note", Schema.text),
                            .optional("invoice_ids", Schema.array(Schema.id)), .optional("owner_id", Schema.id)],
                   result: Schema.task),
        MethodSpec(name: "tasks.complete",
                   summary: "Close a task with its outcome; interaction {kind, summary, …, promise?} logs the contact as interactions.log does, in the same transaction.",
                   access: staff,
                   params: [.required("id", Schema.id), .required("outcome", Schema.string(maxLength: 2000)),
                            .optional("interaction", ["type": "object", "description": "interactions.log's params without customer_id (invoice_ids default to the task's)"])],
                   result: Schema.object(["task": Schema.task, "interaction": Schema.nullable(Schema.interaction), "promise": Schema.nullable(Schema.promise)],
                                         required: ["task", "interaction", "promise"])),
        MethodSpec(name: "tasks.cancel", summary: "Cancel an open task, saying why.", access: staff,
                   params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.task),
        MethodSpec(name: "worklist.today",
                   summary: "Whom to call today: customers with money overdue or a task due, ranked by expected loss (overdue × the probability of not collecting, from days past due — the ledger's own rate where two years of settled invoices give enough, else the usual allowance rate — grade, broken promises and disputes; by_age shows both), each with the reason, the next action and the last contact. A clerk gets their own portfolio; managers and admins all, one owner's, or the unowned.",
                   access: staff,
                   params: [.optional("owner_id", Schema.id), .optional("unowned", ["type": "boolean"]),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500])],
                   result: Schema.object([
                       "as_of": Schema.date, "customers": ["type": "integer"], "expected_loss": Schema.money,
                       "by_age": Schema.array(Schema.object(["from_days": ["type": "integer"], "prior": ["type": "number"],
                                                             "ledger": Schema.nullable(["type": "number"])], required: ["from_days", "prior", "ledger"])),
                       "rows": Schema.array(Schema.object([
                           "customer_id": Schema.id, "customer_name": Schema.string, "owner_id": Schema.nullable(Schema.id), "overdue": Schema.money,
                           "days_past_due": ["type": "integer"], "grade": Schema.nullable(Schema.grade), "broken_promises": ["type": "integer"],
                           "disputed_invoices": ["type": "integer"], "probability": ["type": "number", "minimum": 0, "maximum": 1],
                           "expected_loss": Schema.money, "reason": Schema.string, "next_action": Schema.string,
                           "promise_due_on": Schema.nullable(Schema.date), "task_due_on": Schema.nullable(Schema.date),
                           "task_kind": Schema.nullable(Schema.oneOf(TaskKind.self)),
                           "last_contact": Schema.nullable(Schema.object(["occurred_at": Schema.instant, "kind": Schema.nullable(Schema.interactionKind),
                                                                          "summary": Schema.nullable(Schema.string)], required: ["occurred_at"])),
                       ], required: ["customer_id", "customer_name", "overdue", "days_past_due", "probability", "expected_loss", "reason", "next_action"])),
                   ], required: ["as_of", "customers", "expected_loss", "by_age", "rows"])),
    ]
}
