import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// The dunning run: what `dunning.run` and the daily scheduler both execute. It gathers the
/// overdue invoices and what pauses them, asks `Dunning.plan` (AshraiCore) what moves, and stores
/// the outcome: letters, holds, referrals and the `dunning_steps` that make each level happen once.
enum DunningRun {
    /// What a run did, in counts (for the log), and its reply.
    struct Outcome: Sendable {
        var asOf: PostgresDate
        var letters: Int
        var calls: Int
        var holds: Int
        var referrals: Int
        var skipped: Int
        var plansDefaulted: Int
        var json: JSONValue
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
        /// Levels whose letter was sent (or that have none).
        var delivered: Set<Int>
        var lastDateToPay: Int?
        var disputed: Bool
        var inPlan: Bool
        var assigned: Bool
        /// A post-dated cheque meant for it is in hand.
        var chequeInHand: Bool
        /// The customer wants a courtesy reminder before the due date.
        var courtesy: Bool
        /// A call to the customer was attempted since the invoice fell due (read only when a level requires it).
        var callAttempted: Bool
    }

    /// The run itself. Two runs (two daemons, or the scheduler and a manager) take the same
    /// transaction-scoped advisory lock, so the second waits and then finds nothing left to do;
    /// the `(invoice, level)` key of `dunning_steps` backs that up.
    static func execute(services: Services, context: CallContext, asOf asOfParam: PostgresDate?, dryRun: Bool,
                                 scheduled: Bool, on tx: PostgresConnection) async throws -> Outcome {
        try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.dunning.run'))")
        let today = services.today()
        let asOf = asOfParam ?? today
        let assets = try DunningPolicyStore.assets(services)
        let (version, levels, _) = try await DunningPolicyStore.policy(services: services, on: tx)
        // Money first: post-dated cheques whose value date has come are applied before anything is dunned.
        if !dryRun { _ = try await ChequeStore.applyDue(asOf: min(asOf, today), services: services, context: context, on: tx) }
        let plans = try await PlanMethods.checkPlans(asOf: asOf, write: !dryRun, context: context, on: tx)
        let defaultedNow = Set(plans.defaulted)
        // Courtesy reminders look ahead of the due date, for the customers who want them.
        let courtesyLead = levels.map { -$0.daysOverdue }.max().map { max(0, $0) } ?? 0
        let callsRequired = levels.contains(where: \.requiresCall)

        let rows = try await tx.query("""
            SELECT i.id, i.customer_id, i.number, i.issue_date, i.due_date, i.terms_basis, i.net_days,
                   invoice_open_amount(i) AS open,
                   \(asOf)::date - i.due_date AS days_overdue,
                   (SELECT string_agg(s.level::text, ',') FROM dunning_steps s WHERE s.invoice_id = i.id) AS reached,
                   (SELECT string_agg(s.level::text, ',') FROM dunning_steps s LEFT JOIN letters l ON l.id = s.letter_id
                    WHERE s.invoice_id = i.id AND (s.letter_id IS NULL OR l.status = 'sent')) AS delivered,
                   (SELECT max(l.last_date_to_pay) FROM dunning_steps s JOIN letters l ON l.id = s.letter_id WHERE s.invoice_id = i.id) AS last_date_to_pay,
                   EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status = 'open') AS disputed,
                   EXISTS (SELECT 1 FROM assignment_invoices ai JOIN assignments a ON a.id = ai.assignment_id
                           WHERE ai.invoice_id = i.id AND NOT ai.released AND a.status = 'active') AS assigned,
                   (SELECT string_agg(p.id::text, ',') FROM plan_invoices pi JOIN plans p ON p.id = pi.plan_id
                    WHERE pi.invoice_id = i.id AND p.status = 'active') AS plans,
                   \(unescaped: ChequeStore.inHandSQL(invoice: "i.id")) AS cheque_in_hand,
                   c.courtesy_reminders AS courtesy,
                   (\(callsRequired)::boolean AND (
                       EXISTS (SELECT 1 FROM interactions x WHERE x.customer_id = i.customer_id AND x.kind = 'call'
                               AND x.occurred_at::date >= i.due_date AND x.occurred_at::date <= \(asOf)::date)
                       OR EXISTS (SELECT 1 FROM tasks t WHERE t.customer_id = i.customer_id AND t.kind = 'call' AND t.state = 'done'
                                  AND i.id = ANY (t.invoice_ids)))) AS call_attempted
            FROM invoices i JOIN customers c ON c.id = i.customer_id
            WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.issue_date <= \(asOf)::date
              AND (i.due_date < \(asOf)::date OR (c.courtesy_reminders AND i.due_date <= \(asOf)::date + \(courtesyLead)::integer))
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
                delivered: Set((try row.decode(String?.self, column: "delivered") ?? "").split(separator: ",").compactMap { Int($0) }),
                lastDateToPay: try row.decode(PostgresDate?.self, column: "last_date_to_pay")?.daysSinceEpoch,
                disputed: try row.decode(Bool.self, column: "disputed"),
                inPlan: planIDs.contains { !defaultedNow.contains($0) }, assigned: try row.decode(Bool.self, column: "assigned"),
                chequeInHand: try row.decode(Bool.self, column: "cheque_in_hand"),
                courtesy: try row.decode(Bool.self, column: "courtesy"), callAttempted: try row.decode(Bool.self, column: "call_attempted"))
        }
        // Open promises pause the invoices they name, or all of the customer's when they name none.
        var promisedCustomers: Set<Int64> = []
        var promisedInvoices: Set<Int64> = []
        for promise in try await InteractionMethods.promises(asOf: asOf, on: tx) where promise.status == .open {
            if promise.invoiceIDs.isEmpty { promisedCustomers.insert(promise.customerID) } else { promisedInvoices.formUnion(promise.invoiceIDs) }
        }

        let plan = Dunning.plan(candidates.map { candidate in
            Dunning.Candidate(invoiceID: candidate.invoiceID, customerID: candidate.customerID, invoice: Dunning.Invoice(
                daysOverdue: candidate.daysOverdue, reached: candidate.reached,
                pause: Dunning.pause(assigned: candidate.assigned, disputed: candidate.disputed, inPlan: candidate.inPlan,
                                     chequeInHand: candidate.chequeInHand,
                                     promised: promisedCustomers.contains(candidate.customerID) || promisedInvoices.contains(candidate.invoiceID)),
                lastDateToPay: candidate.lastDateToPay, delivered: candidate.delivered, courtesy: candidate.courtesy,
                callAttempted: candidate.callAttempted))
        }, levels: levels, asOfDay: asOf.daysSinceEpoch)
        let skipped: [JSONValue] = plan.skipped.map { skip in
            ["invoice_id": .id(skip.invoiceID), "customer_id": .id(skip.customerID), "level": .int(skip.level), "reason": .string(skip.pause.rawValue)]
        }
        let byID = Dictionary(uniqueKeysWithValues: candidates.map { ($0.invoiceID, $0) })
        let customersWritten = Set(plan.steps.map(\.customerID))

        var runID: Int64?
        if !dryRun {
            runID = try await tx.query("""
                INSERT INTO dunning_runs (as_of, policy_version, started_by, scheduled) VALUES (\(asOf), \(version), \(context.session?.userID), \(scheduled))
                RETURNING id
                """).scalar(Int64.self)
        }
        var letters: [JSONValue] = []
        var calls: [JSONValue] = []
        var holds: [JSONValue] = []
        var referrals: [JSONValue] = []
        let interest = plan.steps.isEmpty ? [:] : try await StatementMethods.accruedInterest(
            invoiceIDs: plan.steps.flatMap(\.invoiceIDs), asOf: asOf, on: tx)
        // Name, code, language and addresses of every customer written to, in one read.
        let people = try await LetterStore.recipients(customersWritten, on: tx)
        for (customerID, level, ids) in plan.steps {
            let levelNumber = level.level
            let invoices = ids.compactMap { byID[$0] }
            let openTotal = invoices.reduce(Decimal(0)) { $0 + $1.open }
            var letterID: Int64?
            if level.action == .call {
                let currency = services.settings.currency
                let note = "Dunning level \(levelNumber): call about \(invoices.map(\.number).joined(separator: ", ")), open \(Money(openTotal, currency).text)"
                var taskID: Int64?
                if let runID {
                    taskID = try await TaskRules.dunningCall(customerID: customerID, level: levelNumber, invoiceIDs: ids, note: note,
                                                             asOf: asOf, runID: runID, context: context, on: tx)
                }
                calls.append(["customer_id": .id(customerID), "level": .int(levelNumber), "task_id": taskID.map(JSONValue.id) ?? .null,
                              "invoice_ids": .array(ids.map(JSONValue.id)), "open_amount": .money(openTotal)])
            }
            if level.action.writesLetter {
                let next = levels.first { $0.level == levelNumber + 1 }
                // Only a letter that follows one the customer actually received may say "despite our earlier reminder"
                // (after downtime, catch-up sends a later level first).
                let hadEarlier = invoices.contains { Dunning.followsEarlierNotice(level: levelNumber, delivered: $0.delivered, levels: levels) }
                let letter = try await writeLetter(services: services, assets: assets, context: context, customerID: customerID,
                                                   customer: people[customerID] ?? LetterStore.Recipient(name: "", code: nil, language: "he"), level: level,
                                                   nextFee: next?.fee ?? 0, hadEarlierLetter: hadEarlier, invoices: invoices, interest: interest,
                                                   asOf: asOf, runID: runID, dryRun: dryRun, on: tx)
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
        let result: JSONValue = [
            "as_of": .date(asOf), "dry_run": .bool(dryRun), "run_id": runID.map(JSONValue.id) ?? .null, "policy_version": .int(version),
            "letters": .array(letters), "calls": .array(calls), "holds": .array(holds), "referrals": .array(referrals),
            "skipped": .array(Array(skipped.prefix(maxSkippedListed))), "skipped_total": .int(skipped.count),
            "plans_defaulted": .array(plans.defaulted.map(JSONValue.id)),
        ]
        if let runID {
            let summary: JSONValue = ["letters": .int(letters.count), "calls": .int(calls.count), "holds": .int(holds.count), "referrals": .int(referrals.count),
                                      "skipped": .int(skipped.count), "plans_defaulted": .int(plans.defaulted.count)]
            try await tx.query("UPDATE dunning_runs SET summary = \(summary) WHERE id = \(runID)")
            try await Audit.record(tx, context: context, method: "dunning.run", entity: "dunning_run", entityID: String(runID),
                                   after: summary, details: ["as_of": .date(asOf), "scheduled": .bool(scheduled)])
        }
        return Outcome(asOf: asOf, letters: letters.count, calls: calls.count, holds: holds.count, referrals: referrals.count, skipped: skipped.count,
                       plansDefaulted: plans.defaulted.count, json: result)
    }

    /// Renders (and, unless dry, stores) one letter to a customer covering `invoices` at `level`,
    /// logs it as an interaction of kind `letter` and queues it on the level's channels.
    static func writeLetter(services: Services, assets: CollectionAssets, context: CallContext, customerID: Int64,
                            customer: LetterStore.Recipient, level: Dunning.Level,
                            nextFee: Decimal, hadEarlierLetter: Bool, invoices: [Candidate], interest: [Int64: Decimal], asOf: PostgresDate, runID: Int64?,
                            dryRun: Bool, on tx: PostgresConnection) async throws -> (id: Int64?, total: Decimal) {
        let language = LetterStore.language(template: level.template, preferred: customer.language, assets: assets)
        let currency = services.settings.currency
        let format = LetterStore.Format(language: language, currency: currency)
        let amounts = Dunning.LetterTotal(open: invoices.reduce(Decimal(0)) { $0 + $1.open },
                                          interest: invoices.reduce(Decimal(0)) { $0 + (interest[$1.invoiceID] ?? 0) }, fee: level.fee)
        let (openTotal, interestTotal, total) = (amounts.open, amounts.interest, amounts.total)
        let lastDate = PostgresDate(daysSinceEpoch: Dunning.lastDateToPay(
            letterDay: asOf.daysSinceEpoch, level: level, earliestDue: invoices.map(\.dueDate.daysSinceEpoch).min()))
        var data = LetterStore.baseData(services: services, customerID: customerID, recipient: customer, format: format, day: asOf)
        let letterFields: JSONObject = [
            "last_date_to_pay": format.day(lastDate), "level": .int(level.level), "action": .string(level.action.rawValue),
            "had_earlier_letter": .bool(hadEarlierLetter), "courtesy": .bool(level.isCourtesy), "invoice_table": true, "has_pay_by": true,
            "invoices": .array(invoices.map { invoice in
                let accrued = interest[invoice.invoiceID] ?? 0
                return ["id": .id(invoice.invoiceID), "number": .string(invoice.number), "issue_date": format.day(invoice.issueDate),
                        "due_date": format.day(invoice.dueDate), "open_amount": format.money(invoice.open), "days_overdue": .int(invoice.daysOverdue),
                        "days_until_due": .int(max(0, -invoice.daysOverdue)),
                        "terms": .string(invoice.termsBasis.describe(netDays: invoice.netDays, language: language)),
                        "interest": format.money(accrued), "has_interest": .bool(accrued > 0)]
            }),
            "open_total": format.money(openTotal), "interest_total": format.money(interestTotal), "has_interest": .bool(interestTotal > 0),
            "fee": format.money(level.fee), "has_fee": .bool(level.fee > 0), "next_fee": format.money(nextFee), "has_next_fee": .bool(nextFee > 0),
            "total": format.money(total),
            "amounts": ["open": .money(openTotal, currency), "interest": .money(interestTotal, currency), "fee": .money(level.fee, currency),
                        "total": .money(total, currency), "last_date_to_pay": .date(lastDate)],
        ]
        for (key, value) in letterFields { data[key] = value }
        guard !dryRun else { return (nil, total) }   // a dry run reports totals; rendering is the run's
        let id = try await LetterStore.write(LetterStore.Draft(
            kind: .dunning, customerID: customerID, template: level.template, language: language, asOf: asOf, data: data, total: total,
            fee: level.fee, level: level, lastDateToPay: lastDate, runID: runID, invoiceIDs: invoices.map(\.invoiceID),
            summary: "Dunning level \(level.level) (\(level.isCourtesy ? "courtesy reminder" : level.action.rawValue)), total \(Money(total, currency).text), pay by \(lastDate)",
            channels: level.channels), recipient: customer, services: services, context: context, on: tx)
        return (id, total)
    }

    /// The policy's hold: placed unless the customer is already on hold or closed.
    static func placeHold(customerID: Int64, level: Dunning.Level, invoiceIDs: [Int64], letterID: Int64?, context: CallContext,
                          on tx: PostgresConnection) async throws -> Int64? {
        let customer = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
        guard customer.status == .active else { return nil }
        let interactionID = try await tx.query("""
            SELECT id FROM interactions WHERE customer_id = \(customerID) AND letter_id IS NOT DISTINCT FROM \(letterID) ORDER BY id DESC LIMIT 1
            """).first?.decode(Int64.self, at: 0)
        let hold = try await HoldMethods.insertHold(
            customerID: customerID, reason: "dunning level \(level.level): invoices unpaid after the final notice's last date to pay",
            interactionID: interactionID, method: "dunning.run", details: ["invoice_ids": .array(invoiceIDs.map(JSONValue.id))],
            context: context, on: tx)
        return hold.id
    }
}
