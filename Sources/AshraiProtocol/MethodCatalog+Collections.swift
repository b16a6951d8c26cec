import AshraiCore

extension Schema {
    public static let interactionKind: JSONValue = oneOf(InteractionKind.self)
    public static let promiseStatus: JSONValue = ["type": "string", "enum": ["open", "kept", "broken"]]
    public static let promise = object([
        "id": id, "interaction_id": id, "customer_id": id, "customer_name": string, "amount": money, "promised_on": date,
        "due_on": date, "invoice_ids": array(id), "paid_in_window": money, "status": promiseStatus, "created_by": nullable(string),
    ], required: ["id", "interaction_id", "customer_id", "amount", "promised_on", "due_on", "paid_in_window", "status"])
    public static let interaction = object([
        "id": id, "customer_id": id, "kind": interactionKind, "channel_detail": nullable(string), "occurred_at": instant,
        "summary": string, "outcome": nullable(string), "reason_for_nonpayment": nullable(string), "invoice_ids": array(id),
        "corrects_id": nullable(id), "letter_id": nullable(id), "created_by": nullable(string), "promise_id": nullable(id),
    ], required: ["id", "customer_id", "kind", "occurred_at", "summary", "invoice_ids"])
    public static let dispute = object([
        "id": id, "invoice_id": id, "customer_id": id, "reason": string, "amount": nullable(money), "status": oneOf(DisputeStatus.self),
        "opened_on": date, "opened_by": nullable(string),
        "resolution": nullable(oneOf(DisputeResolution.self)),
        "resolution_note": nullable(string), "credit_amount": nullable(money), "resolved_on": nullable(date), "resolved_by": nullable(string),
    ], required: ["id", "invoice_id", "customer_id", "reason", "status", "opened_on"])
    public static let creditNote = object(["id": id, "invoice_id": id, "customer_id": id, "dispute_id": nullable(id), "amount": money,
                                           "reason": string, "issued_on": date], required: ["id", "invoice_id", "amount", "issued_on"])
    public static let dunningAction: JSONValue = ["type": "string", "enum": .array(Dunning.Action.allCases.map { .string($0.rawValue) })]
    public static let dunningLevel = object([
        "level": ["type": "integer", "minimum": 1], "days_overdue": ["type": "integer", "minimum": 1], "action": dunningAction,
        "template": string, "fee": money, "pay_within_days": ["type": "integer", "minimum": 1, "maximum": 90],
    ], required: ["level", "days_overdue", "action", "template"])
    public static let dunningPolicy = object([
        "version": ["type": "integer"], "levels": array(dunningLevel), "is_default": bool, "reason": nullable(string),
        "set_by": nullable(string), "set_at": nullable(instant),
    ], required: ["version", "levels", "is_default"])
    public static let letter = object([
        "id": id, "customer_id": id, "customer_name": string, "run_id": nullable(id), "level": ["type": "integer"], "action": dunningAction,
        "template": string, "language": string, "as_of": date, "last_date_to_pay": date, "total": money, "fee": money,
        "status": oneOf(LetterStatus.self), "sent_channel": nullable(string), "sent_at": nullable(instant),
        "interaction_id": nullable(id), "text": string, "html": string, "data": ["type": "object"],
    ], required: ["id", "customer_id", "level", "action", "language", "as_of", "last_date_to_pay", "total", "status"])
    public static let planStatus: JSONValue = oneOf(PlanStatus.self)
    public static let plan = object([
        "id": id, "customer_id": id, "status": planStatus, "principal": money, "interest_rate": nullable(percent), "interest_amount": money,
        "total": money, "down_payment": money, "installments": ["type": "integer"], "frequency": oneOf(InstallmentPlan.Frequency.self),
        "first_due_on": date, "grace_days": ["type": "integer"], "agreed_on": nullable(date), "agreement_ref": nullable(string),
        "signed_by": nullable(string), "ended_on": nullable(date), "end_reason": nullable(string), "invoice_ids": array(id),
        "schedule": array(object(["seq": ["type": "integer"], "due_on": date, "amount": money, "paid": money],
                                 required: ["seq", "due_on", "amount", "paid"])),
        "paid": money, "remaining": money, "as_of": date,
    ], required: ["id", "customer_id", "status", "principal", "total", "installments", "frequency", "first_due_on", "schedule"])
}

extension MethodCatalog {
    static let collectionMethods: [MethodSpec] = [
        MethodSpec(name: "interactions.log",
                   summary: "Record a contact with a customer (append-only; a correction names the entry it corrects). With promise {amount, due_on} it also records a promise to pay.",
                   access: staff,
                   params: [.required("customer_id", Schema.id), .required("kind", Schema.interactionKind),
                            .optional("channel_detail", Schema.string(maxLength: 200)), .optional("occurred_at", Schema.instant),
                            .required("summary", Schema.text), .optional("outcome", Schema.string(maxLength: 2000)),
                            .optional("reason_for_nonpayment", Schema.string(maxLength: 2000)), .optional("invoice_ids", Schema.array(Schema.id)),
                            .optional("corrects_id", Schema.id),
                            .optional("promise", Schema.object(["amount": Schema.money, "due_on": Schema.date], required: ["amount", "due_on"]))],
                   result: Schema.object(["interaction": Schema.interaction, "promise": Schema.nullable(Schema.promise)], required: ["interaction"])),
        MethodSpec(name: "interactions.list", summary: "A customer's interactions, newest first.", access: staffAndAgency,
                   params: [.required("customer_id", Schema.id), .optional("kind", Schema.interactionKind), .optional("since", Schema.instant),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500])],
                   result: Schema.object(["interactions": Schema.array(Schema.interaction)], required: ["interactions"])),
        MethodSpec(name: "promises.list",
                   summary: "Promises to pay with their status as of a date: kept when the customer's payments between the promise and its date cover it, broken when the date passed without that.",
                   access: staff,
                   params: [.optional("status", Schema.promiseStatus), .optional("as_of", Schema.date), .optional("customer_id", Schema.id)],
                   result: Schema.object(["as_of": Schema.date, "promises": Schema.array(Schema.promise)], required: ["as_of", "promises"])),
        MethodSpec(name: "disputes.open", summary: "Open a dispute on an invoice; dunning pauses for it while the dispute is open.", access: staff,
                   params: [.required("invoice_id", Schema.id), .required("reason", Schema.text), .optional("amount", Schema.money)],
                   result: Schema.dispute),
        MethodSpec(name: "disputes.resolve",
                   summary: "Resolve a dispute: customer_right credits the disputed amount (or the open amount), partial credits credit_amount, business_right credits nothing; the credit note is a ledger entry.",
                   access: managers,
                   params: [.required("id", Schema.id), .required("resolution", Schema.oneOf(DisputeResolution.self)),
                            .optional("credit_amount", Schema.money), .optional("note", Schema.text)],
                   result: Schema.object(["dispute": Schema.dispute, "credit_note": Schema.nullable(Schema.creditNote), "invoice": Schema.invoice],
                                         required: ["dispute", "invoice"])),
        MethodSpec(name: "disputes.list", summary: "Disputes, newest first.", access: staff,
                   params: [.optional("status", Schema.oneOf(DisputeStatus.self)), .optional("customer_id", Schema.id)],
                   result: Schema.object(["disputes": Schema.array(Schema.dispute)], required: ["disputes"])),
        MethodSpec(name: "dunning.policy.get", summary: "The dunning policy in force (the default from Config/ until one is set).", access: staff,
                   params: [], result: Schema.dunningPolicy),
        MethodSpec(name: "dunning.policy.set", summary: "Set a new version of the dunning policy.", access: adminOnly,
                   params: [.required("levels", Schema.array(Schema.dunningLevel)), .optional("reason", Schema.text)],
                   result: Schema.dunningPolicy),
        MethodSpec(name: "dunning.run",
                   summary: "Bring every overdue invoice to the level the policy gives it as of a date: one letter per customer per level, holds, agency referrals suggested. Idempotent; catches up after downtime without sending twice; disputes, active plans and open promises pause; dry_run reports without writing.",
                   access: managers,
                   params: [.optional("as_of", Schema.date), .optional("dry_run", Schema.bool)],
                   result: Schema.object([
                       "as_of": Schema.date, "dry_run": Schema.bool, "run_id": Schema.nullable(Schema.id), "policy_version": ["type": "integer"],
                       "letters": Schema.array(Schema.object(["letter_id": Schema.nullable(Schema.id), "customer_id": Schema.id, "level": ["type": "integer"],
                                                              "action": Schema.dunningAction, "invoice_ids": Schema.array(Schema.id), "total": Schema.money],
                                                             required: ["customer_id", "level", "action", "invoice_ids", "total"])),
                       "holds": Schema.array(Schema.object(["customer_id": Schema.id, "hold_id": Schema.nullable(Schema.id), "invoice_ids": Schema.array(Schema.id)],
                                                           required: ["customer_id", "invoice_ids"])),
                       "referrals": Schema.array(Schema.object(["customer_id": Schema.id, "invoice_ids": Schema.array(Schema.id), "open_amount": Schema.money],
                                                               required: ["customer_id", "invoice_ids", "open_amount"])),
                       "skipped": Schema.array(Schema.object(["invoice_id": Schema.id, "customer_id": Schema.id, "level": ["type": "integer"], "reason": Schema.string],
                                                             required: ["invoice_id", "customer_id", "level", "reason"])),
                       "skipped_total": ["type": "integer", "description": "all skipped invoices; `skipped` lists the first 1000"],
                       "plans_defaulted": Schema.array(Schema.id),
                   ], required: ["as_of", "dry_run", "policy_version", "letters", "holds", "referrals", "skipped", "skipped_total", "plans_defaulted"])),
        MethodSpec(name: "letters.list", summary: "Dunning letters, newest first (without their text).", access: staffAndAgency,
                   params: [.optional("customer_id", Schema.id), .optional("status", Schema.oneOf(LetterStatus.self)),
                            .optional("limit", ["type": "integer", "minimum": 1, "maximum": 500])],
                   result: Schema.object(["letters": Schema.array(Schema.letter)], required: ["letters"])),
        MethodSpec(name: "letters.get", summary: "One letter: its rendered text and HTML and the data they were rendered from.", access: staffAndAgency,
                   params: [.required("id", Schema.id)], result: Schema.letter),
        MethodSpec(name: "letters.mark_sent", summary: "Record that a letter went out, and by which channel.", access: staff,
                   params: [.required("id", Schema.id), .required("channel", Schema.oneOf(LetterChannel.self))],
                   result: Schema.letter),
        MethodSpec(name: "plans.create",
                   summary: "An installment plan over open invoices: total = their open amount (+ interest if set), split evenly to the agora, remainder on the last. Without agreed_on, agreement_ref and signed_by it stays proposed and does not pause dunning.",
                   access: managers,
                   params: [.required("customer_id", Schema.id), .required("invoice_ids", Schema.array(Schema.id)),
                            .required("installments", ["type": "integer", "minimum": 1, "maximum": 120]),
                            .required("frequency", Schema.oneOf(InstallmentPlan.Frequency.self)),
                            .required("first_due_on", Schema.date), .optional("down_payment", Schema.money), .optional("interest_rate", Schema.percent),
                            .optional("grace_days", ["type": "integer", "minimum": 0, "maximum": 60]),
                            .optional("agreed_on", Schema.date), .optional("agreement_ref", Schema.string(maxLength: 200)),
                            .optional("signed_by", Schema.string(maxLength: 200))],
                   result: Schema.plan),
        MethodSpec(name: "plans.agree", summary: "Record the written agreement of a proposed plan; it becomes active and pauses dunning.", access: managers,
                   params: [.required("id", Schema.id), .required("agreed_on", Schema.date), .required("agreement_ref", Schema.string(maxLength: 200)),
                            .required("signed_by", Schema.string(maxLength: 200))],
                   result: Schema.plan),
        MethodSpec(name: "plans.get", summary: "A plan with its schedule and what has been paid on it.", access: staff,
                   params: [.required("id", Schema.id), .optional("as_of", Schema.date)], result: Schema.plan),
        MethodSpec(name: "plans.list", summary: "Plans, newest first.", access: staff,
                   params: [.optional("customer_id", Schema.id), .optional("status", Schema.planStatus)],
                   result: Schema.object(["plans": Schema.array(Schema.plan)], required: ["plans"])),
        MethodSpec(name: "plans.cancel", summary: "Cancel a proposed or active plan; its invoices return to dunning.", access: managers,
                   params: [.required("id", Schema.id), .required("reason", Schema.text)], result: Schema.plan),
        MethodSpec(name: "plans.check",
                   summary: "Mark plans defaulted (an installment unpaid grace_days after its date) or completed, as of a date; dunning.run does this first.",
                   access: managers,
                   params: [.optional("as_of", Schema.date)],
                   result: Schema.object(["as_of": Schema.date, "defaulted": Schema.array(Schema.id), "completed": Schema.array(Schema.id)],
                                         required: ["as_of", "defaulted", "completed"])),
    ]
}
