import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A task as stored.
struct TaskRecord: Sendable {
    var id: Int64
    var customerID: Int64
    var customerName: String
    var invoiceIDs: [Int64]
    var kind: TaskKind
    var dueOn: PostgresDate
    var ownerID: Int64?
    var state: TaskState
    var note: String?
    var outcome: String?
    var interactionID: Int64?
    var source: String?
    var createdAt: Date
    var closedAt: Date?

    static let columns = """
        t.id, t.customer_id, c.name AS customer_name, array_to_string(t.invoice_ids, ',') AS invoice_ids, t.kind, t.due_on, t.owner_id,
        t.state, t.note, t.outcome, t.interaction_id, t.source_key, t.created_at, t.closed_at
        """
    static let from = "tasks t JOIN customers c ON c.id = t.customer_id"

    init(row: PostgresRow) throws {
        func value<T: RawRepresentable>(_ type: T.Type, _ column: String) throws -> T where T.RawValue == String {
            let text = try row.decode(String.self, column: column)
            guard let value = T(rawValue: text) else {
                throw PostgresError(code: .decoding, message: "column \"\(column)\" has an unknown value", decodingColumn: column)
            }
            return value
        }
        id = try row.decode(Int64.self, column: "id")
        customerID = try row.decode(Int64.self, column: "customer_id")
        customerName = try row.decode(String.self, column: "customer_name")
        invoiceIDs = (try row.decode(String.self, column: "invoice_ids")).split(separator: ",").compactMap { Int64($0) }
        kind = try value(TaskKind.self, "kind")
        dueOn = try row.decode(PostgresDate.self, column: "due_on")
        ownerID = try row.decode(Int64?.self, column: "owner_id")
        state = try value(TaskState.self, "state")
        note = try row.decode(String?.self, column: "note")
        outcome = try row.decode(String?.self, column: "outcome")
        interactionID = try row.decode(Int64?.self, column: "interaction_id")
        source = try row.decode(String?.self, column: "source_key")
        createdAt = try row.decode(Date.self, column: "created_at")
        closedAt = try row.decode(Date?.self, column: "closed_at")
    }

    var json: JSONValue {
        ["id": .id(id), "customer_id": .id(customerID), "customer_name": .string(customerName), "invoice_ids": .array(invoiceIDs.map(JSONValue.id)),
         "kind": .string(kind.rawValue), "due_on": .date(dueOn), "owner_id": ownerID.map(JSONValue.id) ?? .null, "state": .string(state.rawValue),
         "note": .optional(note), "outcome": .optional(outcome), "interaction_id": interactionID.map(JSONValue.id) ?? .null,
         "source": .optional(source), "created_at": .string(rfc3339(createdAt)), "closed_at": closedAt.map { .string(rfc3339($0)) } ?? .null]
    }

    /// One task (404 when there is none, or when the caller — if given — is a clerk who may not see it), optionally locked.
    static func load(_ id: Int64, context: CallContext?, forUpdate: Bool = false, on tx: PostgresConnection) async throws -> TaskRecord {
        guard let row = try await tx.query("""
            SELECT \(unescaped: columns) FROM \(unescaped: from) WHERE t.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF t" : "")
            """).first else { throw RPCFailure.notFound("task") }
        let task = try TaskRecord(row: row)
        if let context, !TaskMethods.mayWork(on: task.ownerID, context: context) { throw RPCFailure.notFound("task") }
        return task
    }
}

/// `tasks.*`: the collector's work. Who sees what: a clerk their own tasks and the unowned (work
/// nobody has been given is everyone's until a manager gives it); managers and admins all of it.
enum TaskMethods {
    static let handlers: [String: MethodHandler] = [
        "tasks.list": list, "tasks.create": create, "tasks.complete": complete, "tasks.cancel": cancel,
    ]

    /// Whether the caller may see and close a task owned by `ownerID`.
    static func mayWork(on ownerID: Int64?, context: CallContext) -> Bool {
        guard context.session?.role == .clerk else { return true }
        return ownerID == nil || ownerID == context.session?.userID
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let state = try params.optionalChoice("state", TaskState.self) ?? .open
        let owner = try params.optionalInt("owner_id", range: 1...Int.max).map(Int64.init)
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let kind = try params.optionalChoice("kind", TaskKind.self)?.rawValue
        let dueBy = try params.optionalDate("due_by")
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let clerk = context.session?.role == .clerk ? context.session?.userID : nil
        if let clerk, let owner, owner != clerk { throw RPCFailure.forbidden("a clerk sees their own tasks and the unowned") }
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: TaskRecord.columns) FROM \(unescaped: TaskRecord.from)
            WHERE t.state = \(state.rawValue)
              AND (\(after)::bigint = 0 OR (t.due_on, t.id) > (SELECT a.due_on, a.id FROM tasks a WHERE a.id = \(after)))
              AND (\(owner)::bigint IS NULL OR t.owner_id = \(owner))
              AND (\(clerk)::bigint IS NULL OR t.owner_id IS NULL OR t.owner_id = \(clerk))
              AND (\(customerID)::bigint IS NULL OR t.customer_id = \(customerID))
              AND (\(kind)::text IS NULL OR t.kind = \(kind))
              AND (\(dueBy)::date IS NULL OR t.due_on <= \(dueBy))
            ORDER BY t.due_on, t.id LIMIT \(limit)
            """)
        // Soonest due first across pages: `after` is the last task of the previous page, and the next page starts after it
        // in (due_on, id) order (sorting each page of ids by due date put a later page's due tasks after this one's).
        let tasks = rows.decodeEach("task", logger: context.logger) { try TaskRecord(row: $0) }
        return ["tasks": .array(tasks.map(\.json)), "next_after": rows.nextAfter(limit: limit)]
    }

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let dueOn = try params.date("due_on")
        let note = try params.text("note", maxLength: 2000)
        let invoiceIDs = try params.optionalIDs("invoice_ids", maxCount: 100) ?? []
        let owner = try params.optionalInt("owner_id", range: 1...Int.max).map(Int64.init)
        let current = context
        return try await services.transaction(current) { tx in
            let customer = try await CustomerRecord.require(customerID, on: tx)
            try await InteractionMethods.requireInvoices(invoiceIDs, customerID: customerID, on: tx)
            try await CustomerMethods.requireOwner(owner, on: tx)
            let id = try await tx.query("""
                INSERT INTO tasks (customer_id, invoice_ids, kind, due_on, owner_id, note, created_by)
                VALUES (\(customerID), \(PostgresArray(invoiceIDs))::bigint[], \(TaskKind.manual.rawValue), \(dueOn), \(owner ?? customer.ownerID),
                        \(note), \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            let task = try await TaskRecord.load(id, context: nil, on: tx).json
            try await Audit.record(tx, context: current, method: "tasks.create", entity: "task", entityID: String(id), after: task)
            return task
        }
    }

    static func complete(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let outcome = try params.text("outcome", maxLength: 2000)
        var logged: JSONObject?
        if let value = params.object["interaction"], !value.isNull {
            guard let object = value.objectValue else { throw RPCFailure.invalidParams("interaction", "interaction must be interactions.log's params") }
            guard object["customer_id"] == nil else { throw RPCFailure.invalidParams("interaction", "interaction: the customer is the task's") }
            logged = object
        }
        let current = context
        return try await services.transaction(current) { tx in
            let task = try await TaskRecord.load(id, context: current, forUpdate: true, on: tx)
            guard task.state == .open else { throw RPCFailure.conflict("the task is already \(task.state.rawValue)") }
            var interaction: JSONValue = .null, promise: JSONValue = .null
            if var object = logged {
                object["customer_id"] = .id(task.customerID)
                if object["invoice_ids"] == nil, !task.invoiceIDs.isEmpty { object["invoice_ids"] = .array(task.invoiceIDs.map(JSONValue.id)) }
                let reply: JSONValue
                do {
                    reply = try await InteractionMethods.log(services: services, context: current, params: Params(object), joining: tx)
                } catch let failure as RPCFailure where failure.code == .invalidParams {
                    throw RPCFailure.invalidParams("interaction", "interaction: \(failure.message)")
                }
                interaction = reply["interaction"] ?? .null
                promise = reply["promise"] ?? .null
            }
            try await tx.query("""
                UPDATE tasks SET state = 'done', outcome = \(outcome), interaction_id = \(interaction["id"]?.intValue.map(Int64.init)),
                                 closed_by = \(current.session?.userID), closed_at = now()
                WHERE id = \(id)
                """)
            let after = try await TaskRecord.load(id, context: current, on: tx).json
            try await Audit.record(tx, context: current, method: "tasks.complete", entity: "task", entityID: String(id),
                                   before: task.json, after: after)
            return ["task": after, "interaction": interaction, "promise": promise]
        }
    }

    static func cancel(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason", maxLength: 2000)
        let current = context
        return try await services.transaction(current) { tx in
            let task = try await TaskRecord.load(id, context: current, forUpdate: true, on: tx)
            guard task.state == .open else { throw RPCFailure.conflict("the task is already \(task.state.rawValue)") }
            try await tx.query("""
                UPDATE tasks SET state = 'cancelled', outcome = \(reason), closed_by = \(current.session?.userID), closed_at = now() WHERE id = \(id)
                """)
            let after = try await TaskRecord.load(id, context: current, on: tx).json
            try await Audit.record(tx, context: current, method: "tasks.cancel", entity: "task", entityID: String(id),
                                   before: task.json, after: after, details: ["reason": .string(reason)])
            return after
        }
    }
}

/// The rules that make tasks by themselves, each once for what it fired on: `source_key` is unique,
/// so a second run — on this daemon or another, at the same moment or a day later — inserts nothing
/// for it. Each task made is audited (`tasks.made`). The customer's owner gets it.
/// - a promise that fell due unpaid in the last 30 days (`PromiseStatus`, the promises' own rule): `follow_up_promise`, due at once;
/// - a dispute open more than `disputeReviewDays`: `dispute_review`;
/// - a message that failed in the last 30 days: `failed_message`;
/// - a plan that defaulted (an installment missed past its grace days) in the last 30 days: `plan_missed`;
/// - a credit review that has come due: `review_due`, due on the review's date.
enum TaskRules {
    /// How far back a failed message or a defaulted plan still makes a task (a new daemon does not bury a
    /// clerk under years of old failures).
    static let recentDays = 30

    /// Makes what the rules call for as of `asOf` — all of them, or `only` one kind (the outbox makes the
    /// `failed_message` task in the transaction that records the failure). Returns how many were made.
    static func makeDue(asOf: PostgresDate, disputeReviewDays: Int, only: TaskKind? = nil, context: CallContext,
                        on tx: PostgresConnection) async throws -> Int {
        let kind = only?.rawValue
        let broken = only == nil || only == .followUpPromise
            ? try await InteractionMethods.promises(asOf: asOf, dueFrom: PostgresDate(daysSinceEpoch: asOf.daysSinceEpoch - recentDays), on: tx)
                .filter { $0.status == .broken }
            : []
        let rows = try await tx.query("""
            WITH rule AS (
                SELECT p.customer_id, p.invoice_ids, 'follow_up_promise' AS kind, \(asOf)::date AS due_on,
                       'promised ' || p.amount || ' by ' || p.due_on || ', not paid' AS note, 'promise:' || p.id AS source_key
                FROM unnest(\(PostgresArray(broken.map(\.customerID)))::bigint[],
                            \(PostgresArray(broken.map { "{" + $0.invoiceIDs.map { String($0) }.joined(separator: ",") + "}" }))::text[],
                            \(PostgresArray(broken.map(\.amount)))::numeric[], \(PostgresArray(broken.map { $0.dueOn.description }))::date[],
                            \(PostgresArray(broken.map(\.id)))::bigint[]) AS p(customer_id, invoice_ids, amount, due_on, id)
                UNION ALL
                SELECT d.customer_id, ARRAY[d.invoice_id]::text, 'dispute_review', \(asOf)::date,
                       'dispute open since ' || d.opened_on || ': ' || d.reason, 'dispute:' || d.id
                FROM disputes d WHERE d.status = 'open' AND d.opened_on <= \(asOf)::date - \(disputeReviewDays)::int
                  AND (\(kind)::text IS NULL OR \(kind)::text = 'dispute_review')
                UNION ALL
                SELECT m.customer_id, '{}', 'failed_message', \(asOf)::date,
                       'the ' || m.channel || ' to ' || m.recipient || ' failed' || coalesce(': ' || m.last_error, ''), 'message:' || m.id
                FROM messages m WHERE m.state = 'failed' AND m.updated_at >= \(asOf)::date - \(recentDays)::int
                  AND (\(kind)::text IS NULL OR \(kind)::text = 'failed_message')
                UNION ALL
                SELECT pl.customer_id, (SELECT array_agg(pi.invoice_id ORDER BY pi.invoice_id) FROM plan_invoices pi WHERE pi.plan_id = pl.id)::text,
                       'plan_missed', \(asOf)::date, 'installment plan #' || pl.id || ' defaulted' || coalesce(': ' || pl.end_reason, ''),
                       'plan:' || pl.id
                FROM plans pl WHERE pl.status = 'defaulted' AND coalesce(pl.ended_on, \(asOf)::date) >= \(asOf)::date - \(recentDays)::int
                  AND (\(kind)::text IS NULL OR \(kind)::text = 'plan_missed')
                UNION ALL
                SELECT c.id, '{}', 'review_due', c.next_review_on, 'credit review due', 'review:' || c.id || ':' || c.next_review_on
                FROM customers c WHERE c.next_review_on <= \(asOf)::date AND c.status <> 'closed'
                  AND (\(kind)::text IS NULL OR \(kind)::text = 'review_due')
            ), made AS (
                INSERT INTO tasks (customer_id, invoice_ids, kind, due_on, owner_id, note, source_key)
                SELECT r.customer_id, coalesce(r.invoice_ids, '{}')::bigint[], r.kind, r.due_on, c.owner_id, left(r.note, 2000), r.source_key
                FROM rule r JOIN customers c ON c.id = r.customer_id
                ORDER BY r.source_key
                ON CONFLICT (source_key) DO NOTHING
                RETURNING id, customer_id, kind, source_key
            )
            SELECT id, customer_id, kind, source_key FROM made ORDER BY id
            """)
        try await Audit.record(try rows.map { row in
            Audit.Entry(method: "tasks.made", entity: "task", entityID: String(try row.decode(Int64.self, column: "id")),
                        details: ["customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
                                  "kind": .string(try row.decode(String.self, column: "kind")),
                                  "source": .string(try row.decode(String.self, column: "source_key"))])
        }, context: context, on: tx)
        return rows.count
    }

    /// The kinds a rule makes about invoices, which have nothing left to do once those invoices are settled.
    static let settledWithInvoices: [TaskKind] = [.call, .followUpPromise, .planMissed]

    /// Closes the open tasks a rule made about invoices (a dunning call, a broken promise, a missed plan) once
    /// every one of those invoices is settled — paid, credited, written off or void — so nobody calls a customer
    /// who has paid. They are cancelled with the outcome "settled", by nobody (the daemon), and audited as
    /// `tasks.settled`. Tasks a person wrote stay. Returns how many were closed.
    static func closeSettled(context: CallContext, on tx: PostgresConnection) async throws -> Int {
        let rows = try await tx.query("""
            UPDATE tasks t SET state = 'cancelled', outcome = 'settled: the invoices it was about are paid or closed', closed_at = now()
            WHERE t.state = 'open' AND t.source_key IS NOT NULL AND t.invoice_ids <> '{}'
              AND t.kind = ANY (\(PostgresArray(settledWithInvoices.map(\.rawValue)))::text[])
              AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = ANY (t.invoice_ids) AND i.status IN (\(unescaped: InvoiceStatus.owingSQL)))
            RETURNING t.id, t.customer_id, t.kind
            """)
        try await Audit.record(try rows.map { row in
            Audit.Entry(method: "tasks.settled", entity: "task", entityID: String(try row.decode(Int64.self, at: 0)),
                        details: ["customer_id": .id(try row.decode(Int64.self, at: 1)), "kind": .string(try row.decode(String.self, at: 2))])
        }, context: context, on: tx)
        return rows.count
    }

    /// A dunning level whose action is `call`: the customer's open call task from dunning gains these
    /// invoices (a clerk calls a customer once about all of them), else a new `call` task is made for the
    /// customer's owner, due on the run's day (`source_key` `dunning:<run>:<customer>:<level>`; the run's
    /// `dunning_steps` make each invoice reach the level once). Audited as `tasks.made`.
    static func dunningCall(customerID: Int64, level: Int, invoiceIDs: [Int64], note: String, asOf: PostgresDate, runID: Int64,
                            context: CallContext, on tx: PostgresConnection) async throws -> Int64 {
        let ids = PostgresArray(invoiceIDs.map { String($0) })
        let key = "dunning:\(runID):\(customerID):\(level)"
        if let open = try await tx.query("""
            UPDATE tasks SET invoice_ids = ARRAY(SELECT DISTINCT unnest(invoice_ids || \(ids)::bigint[]) ORDER BY 1)
            WHERE id = (SELECT id FROM tasks WHERE customer_id = \(customerID) AND kind = 'call' AND state = 'open'
                        AND source_key LIKE 'dunning:%' ORDER BY id LIMIT 1 FOR UPDATE)
            RETURNING id
            """).first?.decode(Int64.self, at: 0) {
            return open
        }
        let id = try await tx.query("""
            INSERT INTO tasks (customer_id, invoice_ids, kind, due_on, owner_id, note, source_key)
            SELECT c.id, \(ids)::bigint[], 'call', \(asOf), c.owner_id, left(\(note), 2000), \(key)
            FROM customers c WHERE c.id = \(customerID)
            RETURNING id
            """).scalar(Int64.self)
        try await Audit.record([Audit.Entry(method: "tasks.made", entity: "task", entityID: String(id),
                                            details: ["customer_id": .id(customerID), "kind": .string(TaskKind.call.rawValue),
                                                      "source": .string(key)])],
                               context: context, on: tx)
        return id
    }
}
