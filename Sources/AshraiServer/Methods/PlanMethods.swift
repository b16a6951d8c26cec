import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `plans.*`: installment plans agreed in writing. An active plan pauses dunning on its
/// invoices; payments on the customer since the agreement pay its installments in order; an
/// installment unpaid `grace_days` after its date puts the plan in default and its invoices
/// back into dunning at the level they had.
enum PlanMethods {
    static let handlers: [String: MethodHandler] = [
        "plans.create": create, "plans.agree": agree, "plans.get": get, "plans.list": list, "plans.cancel": cancel, "plans.check": check,
    ]

    static let defaultGraceDays = 7

    static let columns = """
        p.id, p.customer_id, p.status, p.principal, p.interest_rate, p.interest_amount, p.total, p.down_payment, p.installments,
        p.frequency, p.first_due_on, p.grace_days, p.agreed_on, p.agreement_ref, p.signed_by, p.ended_on, p.end_reason
        """

    /// A plan row with its schedule and standing as of a day.
    struct Plan {
        var id: Int64
        var customerID: Int64
        var status: String
        var total: Decimal
        var agreedOn: PostgresDate?
        var graceDays: Int
        var installments: [InstallmentPlan.Installment]
        var invoiceIDs: [Int64]
        var standing: InstallmentPlan.Standing
        var json: JSONValue
    }

    static func load(ids: [Int64]? = nil, customerID: Int64? = nil, status: [String]? = nil, asOf: PostgresDate,
                     forUpdate: Bool = false, on connection: PostgresConnection) async throws -> [Plan] {
        let idsText = ids.map { PostgresArray($0.map { String($0) }) }
        let statusText = status.map { PostgresArray($0) }
        let rows = try await connection.query("""
            SELECT \(unescaped: columns),
                   (SELECT string_agg(invoice_id::text, ',' ORDER BY invoice_id) FROM plan_invoices WHERE plan_id = p.id) AS invoice_ids,
                   (SELECT string_agg(seq || ':' || due_on || ':' || amount, ',' ORDER BY seq) FROM plan_installments WHERE plan_id = p.id) AS schedule,
                   CASE WHEN p.agreed_on IS NULL THEN 0 ELSE coalesce((
                       SELECT sum(pay.amount) FROM payments pay
                       WHERE pay.customer_id = p.customer_id AND pay.received_on >= p.agreed_on AND pay.received_on <= \(asOf)::date
                         AND (pay.status = 'recorded' OR pay.reversed_at::date > \(asOf)::date)), 0) END AS paid
            FROM plans p
            WHERE (\(idsText)::bigint[] IS NULL OR p.id = ANY(\(idsText)::bigint[]))
              AND (\(customerID)::bigint IS NULL OR p.customer_id = \(customerID))
              AND (\(statusText)::text[] IS NULL OR p.status = ANY(\(statusText)::text[]))
            ORDER BY p.id DESC LIMIT 1000 \(unescaped: forUpdate ? "FOR UPDATE OF p" : "")
            """)
        return try rows.map { row in
            let installments: [InstallmentPlan.Installment] = (try row.decode(String?.self, column: "schedule") ?? "").split(separator: ",").compactMap { part in
                let fields = part.split(separator: ":")
                guard fields.count == 3, let seq = Int(fields[0]), let due = PostgresDate(iso: String(fields[1])),
                      let amount = try? PostgresNumeric.decimal(from: String(fields[2])) else { return nil }
                return InstallmentPlan.Installment(seq: seq, dueDay: due.daysSinceEpoch, amount: amount)
            }
            let status = try row.decode(String.self, column: "status")
            let graceDays = try row.decode(Int.self, column: "grace_days")
            let paid = try row.decode(Decimal.self, column: "paid")
            let standing = InstallmentPlan.standing(installments, paidTotal: paid, asOfDay: asOf.daysSinceEpoch, graceDays: graceDays)
            let invoiceIDs = (try row.decode(String?.self, column: "invoice_ids") ?? "").split(separator: ",").compactMap { Int64($0) }
            let schedule: [JSONValue] = zip(installments, standing.paid).map { installment, paidPart in
                ["seq": .int(installment.seq), "due_on": .date(PostgresDate(daysSinceEpoch: installment.dueDay)),
                 "amount": .money(installment.amount), "paid": .money(paidPart)]
            }
            let json: JSONValue = [
                "id": .id(try row.decode(Int64.self, column: "id")),
                "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
                "status": .string(status),
                "principal": .money(try row.decode(Decimal.self, column: "principal")),
                "interest_rate": try row.decode(Decimal?.self, column: "interest_rate").map { .decimal($0) } ?? .null,
                "interest_amount": .money(try row.decode(Decimal.self, column: "interest_amount")),
                "total": .money(try row.decode(Decimal.self, column: "total")),
                "down_payment": .money(try row.decode(Decimal.self, column: "down_payment")),
                "installments": .int(try row.decode(Int.self, column: "installments")),
                "frequency": .string(try row.decode(String.self, column: "frequency")),
                "first_due_on": .date(try row.decode(PostgresDate.self, column: "first_due_on")),
                "grace_days": .int(graceDays),
                "agreed_on": .date(try row.decode(PostgresDate?.self, column: "agreed_on")),
                "agreement_ref": .optional(try row.decode(String?.self, column: "agreement_ref")),
                "signed_by": .optional(try row.decode(String?.self, column: "signed_by")),
                "ended_on": .date(try row.decode(PostgresDate?.self, column: "ended_on")),
                "end_reason": .optional(try row.decode(String?.self, column: "end_reason")),
                "invoice_ids": .array(invoiceIDs.map(JSONValue.id)),
                "schedule": .array(schedule),
                "paid": .money(standing.paid.reduce(0, +)), "remaining": .money(standing.remaining),
                "as_of": .date(asOf),
            ]
            return Plan(id: try row.decode(Int64.self, column: "id"), customerID: try row.decode(Int64.self, column: "customer_id"),
                        status: status, total: try row.decode(Decimal.self, column: "total"), agreedOn: try row.decode(PostgresDate?.self, column: "agreed_on"), graceDays: graceDays,
                        installments: installments, invoiceIDs: invoiceIDs, standing: standing, json: json)
        }
    }

    /// The written agreement: all three or none.
    static func agreement(_ params: Params) throws -> (agreedOn: PostgresDate, ref: String, signedBy: String)? {
        let agreedOn = try params.optionalDate("agreed_on")
        let ref = try params.optionalString("agreement_ref", maxLength: 200)?.trimmingCharacters(in: .whitespaces)
        let signedBy = try params.optionalString("signed_by", maxLength: 200)?.trimmingCharacters(in: .whitespaces)
        if agreedOn == nil && (ref ?? "").isEmpty && (signedBy ?? "").isEmpty { return nil }
        guard let agreedOn, let ref, !ref.isEmpty, let signedBy, !signedBy.isEmpty else {
            let missing = agreedOn == nil ? "agreed_on" : (ref ?? "").isEmpty ? "agreement_ref" : "signed_by"
            throw RPCFailure.invalidParams(missing, "agreed_on, agreement_ref and signed_by go together: a plan is agreed in writing")
        }
        return (agreedOn, ref, signedBy)
    }

    /// Logs the signed agreement as an interaction of kind `agreement`.
    static func logAgreement(planID: Int64, customerID: Int64, invoiceIDs: [Int64], ref: String, signedBy: String, total: Decimal,
                             context: CallContext, on tx: PostgresConnection) async throws {
        _ = try await InteractionMethods.insert(
            customerID: customerID, kind: .agreement, channelDetail: ref, occurredAt: nil,
            summary: "Installment plan #\(planID) agreed in writing (\(ref)), signed by \(signedBy), total \(Money(total).text)",
            outcome: "plan_active", reason: nil, invoiceIDs: invoiceIDs, correctsID: nil, letterID: nil, context: context, on: tx)
    }

    /// Writes the customer the confirmation of the agreed plan, with its schedule (delivered by the outbox).
    static func confirmAgreement(planID: Int64, today: PostgresDate, services: Services, context: CallContext,
                                 on tx: PostgresConnection) async throws {
        guard let plan = try await load(ids: [planID], asOf: today, on: tx).first else { return }
        func amount(_ key: String) -> Decimal { plan.json[key]?.stringValue.flatMap { Decimal(string: $0) } ?? 0 }
        _ = try await CustomerLetters.planConfirmation(plan, principal: amount("principal"), interest: amount("interest_amount"),
                                                       services: services, context: context, on: tx)
    }

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        guard let invoiceIDs = try params.optionalIDs("invoice_ids", maxCount: 200), !invoiceIDs.isEmpty else {
            throw RPCFailure.invalidParams("invoice_ids", "invoice_ids lists the invoices the plan covers")
        }
        guard let count = try params.optionalInt("installments", range: 1...120) else {
            throw RPCFailure.invalidParams("installments", "installments is required")
        }
        let frequency = try params.choice("frequency", InstallmentPlan.Frequency.self)
        let firstDueOn = try params.date("first_due_on")
        let downPayment = try params.optionalMoney("down_payment", currency: services.settings.currency) ?? 0
        let rate = try params.optionalPercent("interest_rate")
        let graceDays = try params.optionalInt("grace_days", range: 0...60) ?? defaultGraceDays
        let agreement = try agreement(params)
        if let agreement, firstDueOn < agreement.agreedOn {
            throw RPCFailure.invalidParams("first_due_on", "first_due_on cannot be before agreed_on")
        }
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let rows = try await tx.query("""
                SELECT i.id, i.customer_id, i.status, invoice_open_amount(i) AS open,
                       EXISTS (SELECT 1 FROM plan_invoices pi JOIN plans p ON p.id = pi.plan_id
                               WHERE pi.invoice_id = i.id AND p.status IN ('proposed', 'active')) AS planned
                FROM invoices i WHERE i.id = ANY(\(PostgresArray(invoiceIDs.map { String($0) }))::bigint[]) ORDER BY i.id FOR UPDATE OF i
                """)
            guard rows.count == invoiceIDs.count, try rows.allSatisfy({ try $0.decode(Int64.self, column: "customer_id") == customerID }) else {
                throw RPCFailure.invalidParams("invoice_ids", "every invoice must be one of this customer's")
            }
            var principal: Decimal = 0
            var opens: [(Int64, Decimal)] = []
            for row in rows {
                let id = try row.decode(Int64.self, column: "id")
                guard InvoiceStatus(rawValue: try row.decode(String.self, column: "status"))?.isOwing == true else {
                    throw RPCFailure.ruleViolated(.invoiceNotOpen, "invoice \(id) is not open")
                }
                guard try !row.decode(Bool.self, column: "planned") else {
                    throw RPCFailure.conflict("invoice \(id) is already in a proposed or active plan", data: ["field": "invoice_ids"])
                }
                let open = try row.decode(Decimal.self, column: "open")
                principal += open
                opens.append((id, open))
            }
            let today = services.today()
            let startDay = agreement?.agreedOn ?? today
            let terms: InstallmentPlan.Terms
            switch InstallmentPlan.terms(principal: principal, downPayment: downPayment, count: count, frequency: frequency,
                                         firstDueDay: firstDueOn.daysSinceEpoch, startDay: startDay.daysSinceEpoch,
                                         annualRatePercent: rate ?? 0, agreed: agreement != nil) {
            case .success(let made): terms = made
            case .failure(.downPaymentTooLarge(let principal)):
                throw RPCFailure.invalidParams("down_payment", "down_payment must be less than the open amount \(Money(principal).text)")
            case .failure(.installmentsTooSmall):
                throw RPCFailure.invalidParams("installments", "too many installments for the amount: each must be at least 0.01")
            }
            let (interest, total, schedule, status) = (terms.interest, terms.total, terms.schedule, terms.status.rawValue)
            let id = try await tx.query("""
                INSERT INTO plans (customer_id, status, principal, interest_rate, interest_amount, total, down_payment, installments, frequency,
                                   first_due_on, grace_days, agreed_on, agreement_ref, signed_by, created_by)
                VALUES (\(customerID), \(status), \(principal), \(rate), \(interest), \(total), \(downPayment), \(count), \(frequency.rawValue),
                        \(firstDueOn), \(graceDays), \(agreement?.agreedOn), \(agreement?.ref), \(agreement?.signedBy), \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            try await tx.query("""
                INSERT INTO plan_invoices (plan_id, invoice_id, open_amount)
                SELECT \(id), * FROM unnest(\(PostgresArray(opens.map { String($0.0) }))::bigint[], \(PostgresArray(opens.map { PostgresNumeric.text(of: $0.1) }))::numeric[])
                """)
            try await tx.query("""
                INSERT INTO plan_installments (plan_id, seq, due_on, amount)
                SELECT \(id), * FROM unnest(\(PostgresArray(schedule.map { String($0.seq) }))::int[],
                                            \(PostgresArray(schedule.map { PostgresDate(daysSinceEpoch: $0.dueDay).description }))::date[],
                                            \(PostgresArray(schedule.map { PostgresNumeric.text(of: $0.amount) }))::numeric[])
                """)
            if let agreement {
                try await logAgreement(planID: id, customerID: customerID, invoiceIDs: invoiceIDs, ref: agreement.ref,
                                       signedBy: agreement.signedBy, total: total, context: current, on: tx)
                try await confirmAgreement(planID: id, today: today, services: services, context: current, on: tx)
            }
            let plan = try await load(ids: [id], asOf: today, on: tx)[0].json
            try await Audit.record(tx, context: current, method: "plans.create", entity: "plan", entityID: String(id), after: plan)
            return plan
        }
    }

    static func agree(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        guard let agreement = try agreement(params) else { throw RPCFailure.invalidParams("agreed_on", "agreed_on is required") }
        let current = context
        return try await services.transaction(current) { tx in
            let today = services.today()
            guard let plan = try await load(ids: [id], asOf: today, forUpdate: true, on: tx).first else { throw RPCFailure.notFound("plan") }
            guard plan.status == "proposed" else { throw RPCFailure.conflict("only a proposed plan can be agreed (this one is \(plan.status))") }
            // The down payment falls due on the day of the agreement.
            try await tx.query("""
                UPDATE plans SET status = 'active', agreed_on = \(agreement.agreedOn), agreement_ref = \(agreement.ref),
                    signed_by = \(agreement.signedBy) WHERE id = \(id)
                """)
            try await tx.query("UPDATE plan_installments SET due_on = \(agreement.agreedOn) WHERE plan_id = \(id) AND seq = 0")
            try await logAgreement(planID: id, customerID: plan.customerID, invoiceIDs: plan.invoiceIDs, ref: agreement.ref,
                                   signedBy: agreement.signedBy, total: plan.total,
                                   context: current, on: tx)
            try await confirmAgreement(planID: id, today: today, services: services, context: current, on: tx)
            let after = try await load(ids: [id], asOf: today, on: tx)[0].json
            try await Audit.record(tx, context: current, method: "plans.agree", entity: "plan", entityID: String(id), before: plan.json, after: after)
            return after
        }
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let asOfParam = try params.optionalDate("as_of")
        return try await services.read(context) { connection in
            let asOf: PostgresDate
            if let asOfParam { asOf = asOfParam } else { asOf = services.today() }
            guard let plan = try await load(ids: [id], asOf: asOf, on: connection).first else { throw RPCFailure.notFound("plan") }
            return plan.json
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let status = try params.optionalString("status", maxLength: 16)
        if let status, !["proposed", "active", "completed", "defaulted", "cancelled"].contains(status) {
            throw RPCFailure.invalidParams("status", "status must be one of: proposed, active, completed, defaulted, cancelled")
        }
        return try await services.read(context) { connection in
            let plans = try await load(customerID: customerID, status: status.map { [$0] }, asOf: services.today(), on: connection)
            return ["plans": .array(plans.map(\.json))]
        }
    }

    static func cancel(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason")
        let current = context
        return try await services.transaction(current) { tx in
            let today = services.today()
            guard let plan = try await load(ids: [id], asOf: today, forUpdate: true, on: tx).first else { throw RPCFailure.notFound("plan") }
            guard ["proposed", "active"].contains(plan.status) else { throw RPCFailure.conflict("the plan is already \(plan.status)") }
            try await tx.query("UPDATE plans SET status = 'cancelled', ended_on = \(services.today()), end_reason = \(reason) WHERE id = \(id)")
            let after = try await load(ids: [id], asOf: today, on: tx)[0].json
            try await Audit.record(tx, context: current, method: "plans.cancel", entity: "plan", entityID: String(id), before: plan.json, after: after)
            return after
        }
    }

    /// Marks active plans defaulted or completed as of `asOf` (inside the caller's transaction;
    /// `write: false` only reports).
    static func checkPlans(asOf: PostgresDate, write: Bool, context: CallContext, on tx: PostgresConnection) async throws -> (defaulted: [Int64], completed: [Int64]) {
        var defaulted: [Int64] = []
        var completed: [Int64] = []
        for plan in try await load(status: ["active"], asOf: asOf, forUpdate: write, on: tx) {
            if let seq = plan.standing.defaultedSeq {
                defaulted.append(plan.id)
                guard write else { continue }
                try await tx.query("""
                    UPDATE plans SET status = 'defaulted', ended_on = \(asOf),
                        end_reason = \("installment \(seq) unpaid \(plan.graceDays) days after its date") WHERE id = \(plan.id)
                    """)
                try await Audit.record(tx, context: context, method: "plans.check", entity: "plan", entityID: String(plan.id),
                                       before: ["status": "active"], after: ["status": "defaulted", "installment": .int(seq)])
            } else if plan.standing.completed {
                completed.append(plan.id)
                guard write else { continue }
                try await tx.query("UPDATE plans SET status = 'completed', ended_on = \(asOf), end_reason = 'paid in full' WHERE id = \(plan.id)")
                try await Audit.record(tx, context: context, method: "plans.check", entity: "plan", entityID: String(plan.id),
                                       before: ["status": "active"], after: ["status": "completed"])
            }
        }
        return (defaulted, completed)
    }

    static func check(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let asOfParam = try params.optionalDate("as_of")
        let current = context
        return try await services.transaction(current) { tx in
            let asOf: PostgresDate
            if let asOfParam { asOf = asOfParam } else { asOf = services.today() }
            let (defaulted, completed) = try await checkPlans(asOf: asOf, write: true, context: current, on: tx)
            return ["as_of": .date(asOf), "defaulted": .array(defaulted.map(JSONValue.id)), "completed": .array(completed.map(JSONValue.id))]
        }
    }
}
