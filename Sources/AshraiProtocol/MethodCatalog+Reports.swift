import AshraiCore

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

extension MethodCatalog {
    static let reviewMethods: [MethodSpec] = [
        MethodSpec(name: "reports.forecast",
                   summary: "Expected collections per week on the receivables open as of a day: each customer's own days-to-pay (blended with its grade's), open promises and plan installments weighted by the customer's kept rate, post-dated cheques at their value dates; each week with a 90% low–high band, and the open amount not expected within the horizon. The model is in the README.",
                   access: managers,
                   params: [.optional("weeks", ["type": "integer", "minimum": 1, "maximum": 26]), .optional("as_of", Schema.date)],
                   result: Schema.object([
                       "as_of": Schema.date, "currency": Schema.string,
                       "weeks": Schema.array(Schema.object([
                           "week": ["type": "integer"], "from": Schema.date, "to": Schema.date, "expected": Schema.money, "low": Schema.money,
                           "high": Schema.money, "committed": Schema.money,
                       ], required: ["week", "from", "to", "expected", "low", "high", "committed"])),
                       "expected_total": Schema.money, "not_expected": Schema.money, "open": Schema.money,
                       "basis": Schema.object(["open_invoices": ["type": "integer"], "customers_with_history": ["type": "integer"],
                                               "commitments": ["type": "integer"], "prior_weight": ["type": "integer"],
                                               "never_after_days": ["type": "integer"]],
                                              required: ["open_invoices", "customers_with_history", "commitments", "prior_weight", "never_after_days"]),
                   ], required: ["as_of", "currency", "weeks", "expected_total", "not_expected", "open", "basis"])),
        MethodSpec(name: "reports.kpis_trend", summary: "reports.kpis per calendar month for the last `months` months (the current one to today), oldest first.",
                   access: managers, params: [.optional("months", ["type": "integer", "minimum": 1, "maximum": 36])],
                   result: Schema.object(["months": Schema.array(["type": "object"])], required: ["months"])),
        MethodSpec(name: "reports.collectors",
                   summary: "Per staff member in a period: interactions logged, promises obtained and kept, money collected after their contact (payments credited to whoever last contacted the customer in the 30 days before), tasks done, how many were followed by a payment within 60 days and the average days from the task to that payment.",
                   access: managers, params: [.required("from", Schema.date), .required("to", Schema.date)],
                   result: Schema.object(["from": Schema.date, "to": Schema.date, "collectors": Schema.array(["type": "object"])],
                                         required: ["from", "to", "collectors"])),
        MethodSpec(name: "reports.review",
                   summary: "The periodic audit of the credit process: reviews overdue, customers over their limit by override, old holds, broken promises without follow-up, invoices 90+ days late without contact in 14 days, agencies' recovery rates, staff missing required training, and messages that did not reach customers (failed, unknown, retrying) with the e-mail addresses refused.",
                   access: managers, params: [.optional("as_of", Schema.date), .optional("hold_days", ["type": "integer", "minimum": 1, "maximum": 3650])],
                   result: ["type": "object"]),
    ]
}
