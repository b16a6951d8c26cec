import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// The policy's wire form.
enum DunningPolicy {
    static func levels(from value: JSONValue) throws(RPCFailure) -> [Dunning.Level] {
        guard let items = value.arrayValue else { throw RPCFailure.invalidParams("levels", "levels must be an array") }
        var levels: [Dunning.Level] = []
        for item in items {
            guard let object = item.objectValue else { throw RPCFailure.invalidParams("levels", "each level is an object") }
            let params = Params(object)
            do {
                guard let level = try params.optionalInt("level", range: 1...20),
                      let days = try params.optionalInt("days_overdue", range: 1...3650) else {
                    throw RPCFailure.invalidParams("levels", "each level needs level and days_overdue")
                }
                let fee = try params.optionalMoney("fee") ?? 0
                levels.append(Dunning.Level(level: level, daysOverdue: days, action: try params.choice("action", Dunning.Action.self),
                                            template: try params.string("template", maxLength: 64), fee: fee,
                                            payWithinDays: try params.optionalInt("pay_within_days", range: 1...90) ?? 10))
            } catch let failure as RPCFailure {
                throw RPCFailure.invalidParams("levels", "level \(levels.count + 1): \(failure.message)")
            } catch {
                throw RPCFailure.invalidParams("levels", "level \(levels.count + 1) is not valid")
            }
        }
        do { try Dunning.validate(levels) } catch { throw RPCFailure.invalidParams("levels", error.message) }
        return levels
    }

    static func json(_ levels: [Dunning.Level]) -> JSONValue {
        .array(levels.map {
            ["level": .int($0.level), "days_overdue": .int($0.daysOverdue), "action": .string($0.action.rawValue),
             "template": .string($0.template), "fee": .money($0.fee), "pay_within_days": .int($0.payWithinDays)]
        })
    }
}

/// `dunning.*`: the policy and the run.
enum DunningMethods {
    static let handlers: [String: MethodHandler] = [
        "dunning.policy.get": getPolicy, "dunning.policy.set": setPolicy, "dunning.run": run,
    ]

    static func assets(_ services: Services) throws -> CollectionAssets {
        switch services.collectionAssets {
        case .success(let assets): return assets
        case .failure: throw RPCFailure(.internalError, "letters are not configured on this server")
        }
    }

    /// The policy in force: the newest stored version, else the default from Config/ (version 0).
    static func policy(services: Services, on connection: PostgresConnection) async throws -> (version: Int, levels: [Dunning.Level], json: JSONValue) {
        let rows = try await connection.query("""
            SELECT d.version, d.levels, d.reason, u.username AS set_by, d.set_at FROM dunning_policies d LEFT JOIN users u ON u.id = d.set_by
            ORDER BY d.version DESC LIMIT 1
            """)
        if let row = rows.first {
            let levels = try DunningPolicy.levels(from: try row.decode(JSONValue.self, column: "levels"))
            let version = try row.decode(Int.self, column: "version")
            return (version, levels, [
                "version": .int(version), "levels": DunningPolicy.json(levels), "is_default": false,
                "reason": .optional(try row.decode(String?.self, column: "reason")),
                "set_by": .optional(try row.decode(String?.self, column: "set_by")),
                "set_at": .string(rfc3339(try row.decode(Date.self, column: "set_at"))),
            ])
        }
        let levels = try assets(services).defaultPolicy
        return (0, levels, ["version": 0, "levels": DunningPolicy.json(levels), "is_default": true, "reason": .null, "set_by": .null, "set_at": .null])
    }

    static func getPolicy(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await services.read(context) { try await policy(services: services, on: $0).json }
    }

    static func setPolicy(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let levels = try DunningPolicy.levels(from: params.object["levels"] ?? .null)
        let templates = try assets(services).templates
        for level in levels where level.action != .refer_to_agency && !(templates.has(level.template, language: "he") && templates.has(level.template, language: "en")) {
            throw RPCFailure.invalidParams("levels", "level \(level.level): no template \(level.template) in Hebrew and English")
        }
        let reason = try params.optionalString("reason", maxLength: 2000)
        let current = context
        return try await services.transaction(current) { tx in
            try await tx.query("LOCK TABLE dunning_policies IN EXCLUSIVE MODE")
            let before = try await policy(services: services, on: tx).json
            try await tx.query("""
                INSERT INTO dunning_policies (version, levels, reason, set_by)
                SELECT coalesce(max(version), 0) + 1, \(DunningPolicy.json(levels)), \(reason), \(current.session?.userID)
                FROM dunning_policies
                """)
            let after = try await policy(services: services, on: tx).json
            try await Audit.record(tx, context: current, method: "dunning.policy.set", entity: "dunning_policy",
                                   entityID: after["version"]?.intValue.map { String($0) }, before: before, after: after)
            return after
        }
    }

    /// The answer lists at most this many skipped invoices (`skipped_total` counts them all).
    static let maxSkippedListed = 1000

    /// One overdue invoice as the run reads it.
    struct Candidate {
        var invoiceID: Int64
        var customerID: Int64
        var number: String
        var issueDate: PostgresDate
        var dueDate: PostgresDate
        /// The terms snapshotted on the invoice, for the letter ("שוטף + 60").
        var termsBasis: TermsBasis
        var netDays: Int
        var open: Decimal
        var daysOverdue: Int
        var reached: Set<Int>
        var lastDateToPay: Int?
        var disputed: Bool
        var inPlan: Bool
        var assigned: Bool
    }

    static func run(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let asOfParam = try params.optionalDate("as_of")
        let dryRun = try params.optionalBool("dry_run") ?? false
        let current = context
        return try await services.transaction(current) { tx in
            try await runInTransaction(services: services, context: current, asOf: asOfParam, dryRun: dryRun, scheduled: false, on: tx)
        }
    }

    /// The run itself. Two runs (two daemons, or the scheduler and a manager) take the same
    /// transaction-scoped advisory lock, so the second waits and then finds nothing left to do;
    /// the `(invoice, level)` key of `dunning_steps` backs that up.
    static func runInTransaction(services: Services, context: CallContext, asOf asOfParam: PostgresDate?, dryRun: Bool,
                                 scheduled: Bool, on tx: PostgresConnection) async throws -> JSONValue {
        try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.dunning.run'))")
        let today = services.today()
        let asOf = asOfParam ?? today
        let assets = try assets(services)
        let (version, levels, _) = try await policy(services: services, on: tx)
        let plans = try await PlanMethods.checkPlans(asOf: asOf, write: !dryRun, context: context, on: tx)
        let defaultedNow = Set(plans.defaulted)

        let rows = try await tx.query("""
            SELECT i.id, i.customer_id, i.number, i.issue_date, i.due_date, i.terms_basis, i.net_days,
                   invoice_open_amount(i) AS open,
                   \(asOf)::date - i.due_date AS days_overdue,
                   (SELECT string_agg(s.level::text, ',') FROM dunning_steps s WHERE s.invoice_id = i.id) AS reached,
                   (SELECT max(l.last_date_to_pay) FROM dunning_steps s JOIN letters l ON l.id = s.letter_id WHERE s.invoice_id = i.id) AS last_date_to_pay,
                   EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status = 'open') AS disputed,
                   EXISTS (SELECT 1 FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
                           WHERE ai.invoice_id = i.id AND NOT ai.released AND a.status = 'active') AS assigned,
                   (SELECT string_agg(p.id::text, ',') FROM plan_invoices pi JOIN plans p ON p.id = pi.plan_id
                    WHERE pi.invoice_id = i.id AND p.status = 'active') AS plans
            FROM invoices i
            WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.due_date < \(asOf)::date AND i.issue_date <= \(asOf)::date
            ORDER BY i.customer_id, i.due_date, i.id
            """)
        let candidates: [Candidate] = try rows.map { row in
            let planIDs = (try row.decode(String?.self, column: "plans") ?? "").split(separator: ",").compactMap { Int64($0) }
            return Candidate(
                invoiceID: try row.decode(Int64.self, column: "id"), customerID: try row.decode(Int64.self, column: "customer_id"),
                number: try row.decode(String.self, column: "number"), issueDate: try row.decode(PostgresDate.self, column: "issue_date"),
                dueDate: try row.decode(PostgresDate.self, column: "due_date"),
                termsBasis: TermsBasis(rawValue: try row.decode(String.self, column: "terms_basis")) ?? .net,
                netDays: try row.decode(Int.self, column: "net_days"), open: try row.decode(Decimal.self, column: "open"),
                daysOverdue: try row.decode(Int.self, column: "days_overdue"),
                reached: Set((try row.decode(String?.self, column: "reached") ?? "").split(separator: ",").compactMap { Int($0) }),
                lastDateToPay: try row.decode(PostgresDate?.self, column: "last_date_to_pay")?.daysSinceEpoch,
                disputed: try row.decode(Bool.self, column: "disputed"),
                inPlan: planIDs.contains { !defaultedNow.contains($0) }, assigned: try row.decode(Bool.self, column: "assigned"))
        }
        // Open promises pause the invoices they name, or all of the customer's when they name none.
        var promisedCustomers: Set<Int64> = []
        var promisedInvoices: Set<Int64> = []
        for promise in try await InteractionMethods.promises(asOf: asOf, on: tx) where promise.status == .open {
            if promise.invoiceIDs.isEmpty { promisedCustomers.insert(promise.customerID) } else { promisedInvoices.formUnion(promise.invoiceIDs) }
        }

        var skipped: [JSONValue] = []
        var groups: [Int64: [Int: [Candidate]]] = [:]   // customer → level → invoices
        for candidate in candidates {
            let pause: Dunning.Pause? = candidate.assigned ? .assigned : candidate.disputed ? .disputed : candidate.inPlan ? .inPlan
                : (promisedCustomers.contains(candidate.customerID) || promisedInvoices.contains(candidate.invoiceID)) ? .promised : nil
            let decision = Dunning.decide(
                Dunning.Invoice(daysOverdue: candidate.daysOverdue, reached: candidate.reached, pause: pause, lastDateToPay: candidate.lastDateToPay),
                levels: levels, asOfDay: asOf.daysSinceEpoch)
            switch decision {
            case .none: break
            case .skip(let level, let reason):
                skipped.append(["invoice_id": .id(candidate.invoiceID), "customer_id": .id(candidate.customerID), "level": .int(level),
                                "reason": .string(reason.rawValue)])
            case .advance(let target):
                for level in Dunning.levelsToApply(for: target, levels: levels, reached: candidate.reached) {
                    groups[candidate.customerID, default: [:]][level.level, default: []].append(candidate)
                }
            }
        }

        var runID: Int64?
        if !dryRun {
            runID = try await tx.query("""
                INSERT INTO dunning_runs (as_of, policy_version, started_by, scheduled) VALUES (\(asOf), \(version), \(context.session?.userID), \(scheduled))
                RETURNING id
                """).scalar(Int64.self)
        }
        var letters: [JSONValue] = []
        var holds: [JSONValue] = []
        var referrals: [JSONValue] = []
        let interest = groups.isEmpty ? [:] : try await StatementMethods.accruedInterest(
            invoiceIDs: groups.values.flatMap { $0.values.flatMap { $0.map(\.invoiceID) } }, asOf: asOf, on: tx)
        // Name, code and language of every customer written to, in one read.
        var people: [Int64: (name: String, code: String?, language: String)] = [:]
        if !groups.isEmpty {
            for row in try await tx.query("""
                SELECT id, name, code, language FROM customers WHERE id = ANY(\(PostgresArray(groups.keys.map { String($0) }))::bigint[])
                """) {
                people[try row.decode(Int64.self, column: "id")] = (try row.decode(String.self, column: "name"), try row.decode(String?.self, column: "code"),
                                                                   try row.decode(String?.self, column: "language") ?? "he")
            }
        }
        for customerID in groups.keys.sorted() {
            for (levelNumber, invoices) in groups[customerID]!.sorted(by: { $0.key < $1.key }) {
                let level = levels[levelNumber - 1]
                let ids = invoices.map(\.invoiceID)
                let openTotal = invoices.reduce(Decimal(0)) { $0 + $1.open }
                var letterID: Int64?
                if level.action != .refer_to_agency {
                    let next = levels.first { $0.level == levelNumber + 1 }
                    let letter = try await writeLetter(services: services, assets: assets, context: context, customerID: customerID,
                                                       customer: people[customerID] ?? ("", nil, "he"), level: level,
                                                       nextFee: next?.fee ?? 0, invoices: invoices, interest: interest, asOf: asOf,
                                                       runID: runID, dryRun: dryRun, on: tx)
                    letterID = letter.id
                    letters.append(["letter_id": letterID.map(JSONValue.id) ?? .null, "customer_id": .id(customerID), "level": .int(levelNumber),
                                    "action": .string(level.action.rawValue), "invoice_ids": .array(ids.map(JSONValue.id)), "total": .money(letter.total)])
                }
                if level.action == .hold {
                    let holdID = dryRun ? nil : try await placeHold(customerID: customerID, level: level, invoiceIDs: ids, letterID: letterID,
                                                                    context: context, on: tx)
                    holds.append(["customer_id": .id(customerID), "hold_id": holdID.map(JSONValue.id) ?? .null, "invoice_ids": .array(ids.map(JSONValue.id))])
                }
                if level.action == .refer_to_agency {
                    referrals.append(["customer_id": .id(customerID), "invoice_ids": .array(ids.map(JSONValue.id)), "open_amount": .money(openTotal)])
                }
                if let runID {
                    try await tx.query("""
                        INSERT INTO dunning_steps (invoice_id, level, run_id, action, letter_id, as_of)
                        SELECT unnest(\(PostgresArray(ids.map { String($0) }))::bigint[]), \(levelNumber), \(runID), \(level.action.rawValue), \(letterID), \(asOf)
                        """)
                }
            }
        }
        let result: JSONValue = [
            "as_of": .date(asOf), "dry_run": .bool(dryRun), "run_id": runID.map(JSONValue.id) ?? .null, "policy_version": .int(version),
            "letters": .array(letters), "holds": .array(holds), "referrals": .array(referrals),
            "skipped": .array(Array(skipped.prefix(maxSkippedListed))), "skipped_total": .int(skipped.count),
            "plans_defaulted": .array(plans.defaulted.map(JSONValue.id)),
        ]
        if let runID {
            let summary: JSONValue = ["letters": .int(letters.count), "holds": .int(holds.count), "referrals": .int(referrals.count),
                                      "skipped": .int(skipped.count), "plans_defaulted": .int(plans.defaulted.count)]
            try await tx.query("UPDATE dunning_runs SET summary = \(summary) WHERE id = \(runID)")
            try await Audit.record(tx, context: context, method: "dunning.run", entity: "dunning_run", entityID: String(runID),
                                   after: summary, details: ["as_of": .date(asOf), "scheduled": .bool(scheduled)])
        }
        return result
    }

    /// Renders (and, unless dry, stores) one letter to a customer covering `invoices` at `level`,
    /// and logs it as an interaction of kind `letter`.
    static func writeLetter(services: Services, assets: CollectionAssets, context: CallContext, customerID: Int64,
                            customer: (name: String, code: String?, language: String), level: Dunning.Level,
                            nextFee: Decimal, invoices: [Candidate], interest: [Int64: Decimal], asOf: PostgresDate, runID: Int64?,
                            dryRun: Bool, on tx: PostgresConnection) async throws -> (id: Int64?, total: Decimal) {
        let preferred = customer.language
        let language = assets.templates.has(level.template, language: preferred) ? preferred : "en"
        let currency = services.settings.currency
        func money(_ value: Decimal) -> JSONValue { .string(LetterFormat.amount(value, currency: currency, language: language)) }
        func day(_ date: PostgresDate) -> JSONValue { .string(LetterFormat.date(year: date.year, month: date.month, day: date.day, language: language)) }
        let openTotal = invoices.reduce(Decimal(0)) { $0 + $1.open }
        let interestTotal = invoices.reduce(Decimal(0)) { $0 + (interest[$1.invoiceID] ?? 0) }
        let total = openTotal + interestTotal + level.fee
        let lastDate = PostgresDate(daysSinceEpoch: asOf.daysSinceEpoch + level.payWithinDays)
        let business = services.settings.collections.business
        var businessJSON: JSONObject = [:]
        for (key, value) in [("name", business.name), ("phone", business.phone), ("email", business.email), ("address", business.address),
                             ("contact_name", business.contactName), ("bank_transfer", business.bankTransfer),
                             ("card_payment", business.cardPayment), ("digital_payment", business.digitalPayment)] where !value.isEmpty {
            businessJSON[key] = .string(value)
        }
        let code = customer.code
        let data: JSONValue = [
            "business": .object(businessJSON),
            "customer": ["id": .id(customerID), "name": .string(customer.name),
                         "reference": .string(code.map { language == "he" ? "מספר לקוח \($0)" : "customer number \($0)" }
                                                  ?? (language == "he" ? "מספר לקוח \(customerID)" : "customer number \(customerID)"))],
            "letter_date": day(asOf), "last_date_to_pay": day(lastDate), "level": .int(level.level), "action": .string(level.action.rawValue),
            "invoices": .array(invoices.map { invoice in
                let accrued = interest[invoice.invoiceID] ?? 0
                return ["id": .id(invoice.invoiceID), "number": .string(invoice.number), "issue_date": day(invoice.issueDate),
                        "due_date": day(invoice.dueDate), "open_amount": money(invoice.open), "days_overdue": .int(invoice.daysOverdue),
                        "terms": .string(invoice.termsBasis.describe(netDays: invoice.netDays, language: language)),
                        "interest": money(accrued), "has_interest": .bool(accrued > 0)]
            }),
            "open_total": money(openTotal), "interest_total": money(interestTotal), "has_interest": .bool(interestTotal > 0),
            "fee": money(level.fee), "has_fee": .bool(level.fee > 0), "next_fee": money(nextFee), "has_next_fee": .bool(nextFee > 0),
            "total": money(total),
            "amounts": ["open": .money(openTotal, currency), "interest": .money(interestTotal, currency), "fee": .money(level.fee, currency),
                        "total": .money(total, currency), "last_date_to_pay": .date(lastDate)],
        ]
        guard !dryRun else { return (nil, total) }   // a dry run reports totals; rendering is the run's
        let rendered: (text: String, html: String)
        do { rendered = try assets.templates.render(template: level.template, language: language, data: data) } catch {
            throw RPCFailure(.internalError, "the letter template \(level.template).\(language) could not be rendered")
        }
        let id = try await tx.query("""
            INSERT INTO letters (customer_id, run_id, level, action, template, language, as_of, last_date_to_pay, total, fee, data, body_text, body_html)
            VALUES (\(customerID), \(runID), \(level.level), \(level.action.rawValue), \(level.template), \(language), \(asOf), \(lastDate),
                    \(total), \(level.fee), \(data), \(rendered.text), \(rendered.html))
            RETURNING id
            """).scalar(Int64.self)
        _ = try await InteractionMethods.insert(
            customerID: customerID, kind: .letter, channelDetail: level.template, occurredAt: nil,
            summary: "Dunning level \(level.level) (\(level.action.rawValue)): letter #\(id), total \(Money(total, currency).text), pay by \(lastDate)",
            outcome: nil, reason: nil, invoiceIDs: invoices.map(\.invoiceID), correctsID: nil, letterID: id, context: context, on: tx)
        return (id, total)
    }

    /// The policy's hold: placed unless the customer is already on hold or closed.
    static func placeHold(customerID: Int64, level: Dunning.Level, invoiceIDs: [Int64], letterID: Int64?, context: CallContext,
                          on tx: PostgresConnection) async throws -> Int64? {
        let customer = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
        guard customer.status == "active" else { return nil }
        let interactionID = try await tx.query("""
            SELECT id FROM interactions WHERE customer_id = \(customerID) AND letter_id IS NOT DISTINCT FROM \(letterID) ORDER BY id DESC LIMIT 1
            """).first?.decode(Int64.self, at: 0)
        let hold = try await HoldMethods.insertHold(
            customerID: customerID, reason: "dunning level \(level.level): invoices unpaid after the final notice's last date to pay",
            interactionID: interactionID, method: "dunning.run", details: ["invoice_ids": .array(invoiceIDs.map(JSONValue.id))],
            context: context, on: tx)
        return hold["id"]?.intValue.map(Int64.init)
    }
}
