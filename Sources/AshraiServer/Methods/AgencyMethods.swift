import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `agencies.*`: collection agencies the business works with, on terms agreed in advance.
enum AgencyMethods {
    static let handlers: [String: MethodHandler] = [
        "agencies.create": create, "agencies.update": update, "agencies.get": get, "agencies.list": list,
        "agencies.deactivate": deactivate, "agencies.statement": statement,
    ]

    static let editable = ["name", "registration_no", "contact_name", "email", "phone", "fee_terms", "notes"]
    /// The fields of create/update; on update only those given.
    struct Fields {
        var text: [String: String?] = [:]
        var commissionRate: Decimal?
        var licensed: Bool?
        var rating: Int??

        init(_ params: Params, creating: Bool) throws {
            for name in editable where params.object[name] != nil {
                let value = try params.optionalString(name, maxLength: name == "notes" || name == "fee_terms" ? 2000 : 200)?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                text[name] = value.flatMap { $0.isEmpty ? nil : $0 }
            }
            if creating || params.object["name"] != nil {
                guard let name = text["name"] ?? nil, !name.isEmpty else { throw RPCFailure.invalidParams("name", "name is required") }
            }
            if let email = text["email"] ?? nil, !(email.contains("@") && email.contains(".")) {
                throw RPCFailure.invalidParams("email", "email is not an e-mail address")
            }
            commissionRate = try params.optionalPercent("commission_rate")
            if creating, commissionRate == nil { throw RPCFailure.invalidParams("commission_rate", "commission_rate (percent) is required") }
            licensed = try params.optionalBool("licensed")
            if params.object["rating"] != nil { rating = .some(try params.optionalInt("rating", range: 1...5)) }
        }
    }

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let fields = try Fields(params, creating: true)
        let current = context
        return try await services.transaction(current) { tx in
            let id = try await tx.query("""
                INSERT INTO agencies (name, registration_no, contact_name, email, phone, commission_rate, fee_terms, licensed, rating, notes)
                VALUES (\(fields.text["name"] ?? nil), \(fields.text["registration_no"] ?? nil), \(fields.text["contact_name"] ?? nil),
                        \(fields.text["email"] ?? nil), \(fields.text["phone"] ?? nil), \(fields.commissionRate), \(fields.text["fee_terms"] ?? nil),
                        \(fields.licensed ?? false), \(fields.rating ?? nil), \(fields.text["notes"] ?? nil))
                RETURNING id
                """).scalar(Int64.self)
            let agency = try await AgencyStore.agency(id, on: tx).json
            try await Audit.record(tx, context: current, method: "agencies.create", entity: "agency", entityID: String(id), after: agency)
            return agency
        }
    }

    static func update(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let expected = try params.optionalInt("version", range: 1...Int.max)
        let fields = try Fields(params, creating: false)
        let current = context
        return try await services.transaction(current) { tx in
            let before = try await AgencyStore.agency(id, forUpdate: true, on: tx)
            if let expected, before.version != expected {
                throw RPCFailure.conflict("the agency was changed by someone else", data: ["version": .int(before.version)])
            }
            let has = { (name: String) in fields.text.keys.contains(name) }
            try await tx.query("""
                UPDATE agencies SET
                    name = CASE WHEN \(has("name")) THEN \(fields.text["name"] ?? nil) ELSE name END,
                    registration_no = CASE WHEN \(has("registration_no")) THEN \(fields.text["registration_no"] ?? nil) ELSE registration_no END,
                    contact_name = CASE WHEN \(has("contact_name")) THEN \(fields.text["contact_name"] ?? nil) ELSE contact_name END,
                    email = CASE WHEN \(has("email")) THEN \(fields.text["email"] ?? nil) ELSE email END,
                    phone = CASE WHEN \(has("phone")) THEN \(fields.text["phone"] ?? nil) ELSE phone END,
                    fee_terms = CASE WHEN \(has("fee_terms")) THEN \(fields.text["fee_terms"] ?? nil) ELSE fee_terms END,
                    notes = CASE WHEN \(has("notes")) THEN \(fields.text["notes"] ?? nil) ELSE notes END,
                    commission_rate = coalesce(\(fields.commissionRate)::numeric, commission_rate),
                    licensed = coalesce(\(fields.licensed)::boolean, licensed),
                    rating = CASE WHEN \(fields.rating != nil) THEN \(fields.rating ?? nil)::int ELSE rating END,
                    updated_at = now(), version = version + 1
                WHERE id = \(id)
                """)
            let after = try await AgencyStore.agency(id, on: tx).json
            try await Audit.record(tx, context: current, method: "agencies.update", entity: "agency", entityID: String(id), before: before.json, after: after)
            return after
        }
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        if let agency = AgencyScope.agency(context), agency != id { throw RPCFailure.notFound("agency") }
        return try await services.read(context) { try await AgencyStore.agency(id, on: $0).json }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let active = try params.optionalBool("active")
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: AgencyStore.agencyColumns) FROM agencies a WHERE (\(active)::boolean IS NULL OR a.active = \(active)) ORDER BY a.name, a.id
            """)
        return ["agencies": .array(rows.decodeEach("agency", logger: context.logger) { try $0.decode(AgencyRecord.self).json })]
    }

    static func deactivate(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let current = context
        return try await services.transaction(current) { tx in
            let before = try await AgencyStore.agency(id, forUpdate: true, on: tx)
            guard before.active else { throw RPCFailure.conflict("the agency is already inactive") }
            guard before.openAssignments == 0 else {
                throw RPCFailure.ruleViolated(.agencyHasAssignments, "recall or settle the agency's open assignments first")
            }
            try await tx.query("UPDATE agencies SET active = false, updated_at = now(), version = version + 1 WHERE id = \(id)")
            let after = try await AgencyStore.agency(id, on: tx).json
            try await Audit.record(tx, context: current, method: "agencies.deactivate", entity: "agency", entityID: String(id), before: before.json, after: after)
            return after
        }
    }

    /// Per assignment of the agency: assigned, collected in the period (payments via the
    /// assignment, not reversed), commission (at the rate snapshotted on the assignment,
    /// half-even to the cent once per assignment), net to the business; with totals and the
    /// recovery rate.
    static func statement(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let agencyID = Int64(try params.id("agency_id"))
        let from = try params.optionalDate("from")
        let to = try params.optionalDate("to")
        if let from, let to, from > to { throw RPCFailure.invalidParams("from", "from must not be after to") }
        return try await services.read(context) { connection in
            let agency = try await AgencyStore.agency(agencyID, on: connection)
            let rows = try await connection.query("""
                SELECT s.id, s.customer_id, c.name AS customer_name, s.status, s.commission_rate, s.assigned_amount, s.created_at::date AS assigned_on,
                       coalesce((SELECT sum(p.amount) FROM payments p
                                 WHERE p.via_assignment_id = s.id AND p.status = 'recorded'
                                   AND (\(from)::date IS NULL OR p.received_on >= \(from)) AND (\(to)::date IS NULL OR p.received_on <= \(to))), 0) AS collected
                FROM assignments s JOIN customers c ON c.id = s.customer_id
                WHERE s.agency_id = \(agencyID) AND s.status <> 'pending'
                ORDER BY s.id
                """)
            var assigned: Decimal = 0, collected: Decimal = 0, commission: Decimal = 0
            var lines: [JSONValue] = []
            for row in rows {
                let rate = try row.decode(Decimal.self, column: "commission_rate")
                let lineAssigned = try row.decode(Decimal.self, column: "assigned_amount")
                let lineCollected = try row.decode(Decimal.self, column: "collected")
                let lineCommission = Commission.due(collected: lineCollected, ratePercent: rate)
                assigned += lineAssigned
                collected += lineCollected
                commission += lineCommission
                lines.append([
                    "assignment_id": .id(try row.decode(Int64.self, column: "id")),
                    "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
                    "customer_name": .string(try row.decode(String.self, column: "customer_name")),
                    "status": .string(try row.decode(String.self, column: "status")),
                    "assigned_on": .date(try row.decode(PostgresDate.self, column: "assigned_on")),
                    "commission_rate": .decimal(rate), "assigned": .money(lineAssigned), "collected": .money(lineCollected),
                    "commission": .money(lineCommission), "net": .money(lineCollected - lineCommission),
                ])
            }
            return [
                "agency": agency.json, "from": .date(from), "to": .date(to), "assignments": .array(lines),
                "assigned": .money(assigned), "collected": .money(collected), "commission": .money(commission),
                "net": .money(collected - commission),
                "recovery_rate": Commission.recoveryRate(collected: collected, assigned: assigned).map { .decimal($0) } ?? .null,
            ]
        }
    }
}

/// `assignments.*`: overdue invoices handed to an agency. The customer must have been told
/// (`customer_notified_on`); until then the assignment is pending.
enum AssignmentMethods {
    static let handlers: [String: MethodHandler] = [
        "assignments.create": create, "assignments.notify": notify, "assignments.recall": recall, "assignments.settle": settle,
        "assignments.list": list, "assignments.get": get,
    ]

    /// The notification: the day the customer was told, and optionally the logged contact.
    static func notification(_ params: Params, customerID: Int64, today: PostgresDate, on tx: PostgresConnection) async throws -> (PostgresDate, Int64?)? {
        let notifiedOn = try params.optionalDate("customer_notified_on")
        let interactionID = try params.optionalInt("notification_interaction_id", range: 1...Int.max).map(Int64.init)
        if let interactionID {
            let owner = try await tx.query("SELECT customer_id FROM interactions WHERE id = \(interactionID)").first?.decode(Int64.self, at: 0)
            guard owner == customerID else {
                throw RPCFailure.invalidParams("notification_interaction_id", "notification_interaction_id must be an interaction with this customer")
            }
        }
        guard let notifiedOn else {
            if interactionID != nil { throw RPCFailure.invalidParams("customer_notified_on", "customer_notified_on is the day the customer was told") }
            return nil
        }
        guard notifiedOn <= today else { throw RPCFailure.invalidParams("customer_notified_on", "customer_notified_on cannot be in the future") }
        return (notifiedOn, interactionID)
    }

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let agencyID = Int64(try params.id("agency_id"))
        let customerID = Int64(try params.id("customer_id"))
        guard let invoiceIDs = try params.optionalIDs("invoice_ids", maxCount: 500), !invoiceIDs.isEmpty else {
            throw RPCFailure.invalidParams("invoice_ids", "invoice_ids lists the invoices handed over")
        }
        let notes = try params.optionalString("notes", maxLength: 2000)
        let sendNotice = try params.optionalBool("send_notice")
        if sendNotice == true, params.has("customer_notified_on") {
            throw RPCFailure.invalidParams("send_notice", "customer_notified_on records a notice given outside Ashrai; with it, send_notice cannot be true")
        }
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let agency = try await AgencyStore.agency(agencyID, on: tx)
            guard agency.active else { throw RPCFailure.ruleViolated(.agencyInactive, "the agency is not active") }
            let notified = try await notification(params, customerID: customerID, today: services.today(), on: tx)
            let rows = try await tx.query("""
                SELECT i.id, i.customer_id, i.status, i.due_date < \(services.today()) AS overdue, invoice_open_amount(i) AS open,
                       EXISTS (SELECT 1 FROM assignment_invoices ai WHERE ai.invoice_id = i.id AND NOT ai.released) AS assigned
                FROM invoices i WHERE i.id = ANY(\(PostgresArray(invoiceIDs.map { String($0) }))::bigint[]) ORDER BY i.id FOR UPDATE OF i
                """)
            guard rows.count == invoiceIDs.count, try rows.allSatisfy({ try $0.decode(Int64.self, column: "customer_id") == customerID }) else {
                throw RPCFailure.invalidParams("invoice_ids", "every invoice must be one of this customer's")
            }
            var lines: [(Int64, Decimal)] = []
            for row in rows {
                let id = try row.decode(Int64.self, column: "id")
                guard ["open", "partially_paid"].contains(try row.decode(String.self, column: "status")),
                      try row.decode(Bool.self, column: "overdue") else {
                    throw RPCFailure.ruleViolated(.invoiceNotOverdue, "invoice \(id) is not open and overdue")
                }
                guard try !row.decode(Bool.self, column: "assigned") else {
                    throw RPCFailure.conflict("invoice \(id) is already in an open assignment", data: ["field": "invoice_ids"])
                }
                lines.append((id, try row.decode(Decimal.self, column: "open")))
            }
            let total = lines.reduce(Decimal(0)) { $0 + $1.1 }
            let status = notified == nil ? "pending" : "active"
            let id = try await tx.query("""
                INSERT INTO assignments (agency_id, customer_id, status, customer_notified_on, notification_interaction_id, commission_rate,
                                         assigned_amount, notes, created_by, activated_on)
                SELECT \(agencyID), \(customerID), \(status), \(notified?.0), \(notified?.1), commission_rate, \(total), \(notes),
                       \(current.session?.userID), CASE WHEN \(status) = 'active' THEN \(services.today()) END
                FROM agencies WHERE id = \(agencyID)
                RETURNING id
                """).scalar(Int64.self)
            try await tx.query("""
                INSERT INTO assignment_invoices (assignment_id, invoice_id, assigned_amount)
                SELECT \(id), * FROM unnest(\(PostgresArray(lines.map { String($0.0) }))::bigint[],
                                            \(PostgresArray(lines.map { PostgresNumeric.text(of: $0.1) }))::numeric[])
                """)
            if notified == nil, sendNotice != false {
                _ = try await CustomerLetters.referralNotice(assignmentID: id, customerID: customerID, agency: agency, invoiceIDs: lines.map(\.0),
                                                             services: services, context: current, on: tx)
            }
            let assignment = try await AgencyStore.assignment(id, on: tx).json
            try await Audit.record(tx, context: current, method: "assignments.create", entity: "assignment", entityID: String(id), after: assignment)
            return assignment
        }
    }

    static func notify(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let current = context
        return try await services.transaction(current) { tx in
            let before = try await AgencyStore.assignment(id, forUpdate: true, on: tx)
            guard before.status == .pending else { throw RPCFailure.conflict("only a pending assignment waits for the notification") }
            guard let notified = try await notification(params, customerID: before.customerID, today: services.today(), on: tx) else {
                throw RPCFailure.invalidParams("customer_notified_on", "customer_notified_on is required")
            }
            try await tx.query("""
                UPDATE assignments SET status = 'active', customer_notified_on = \(notified.0), notification_interaction_id = \(notified.1),
                    activated_on = \(services.today()) WHERE id = \(id)
                """)
            let after = try await AgencyStore.assignment(id, on: tx).json
            try await Audit.record(tx, context: current, method: "assignments.notify", entity: "assignment", entityID: String(id), before: before.json, after: after)
            return after
        }
    }

    /// Ends an assignment (recalled or settled): its invoices are released at once.
    static func end(services: Services, context: CallContext, id: Int64, status: String, reason: String, method: String) async throws -> JSONValue {
        try await services.transaction(context) { tx in
            let before = try await AgencyStore.assignment(id, forUpdate: true, on: tx)
            guard AssignmentStatus.open.contains(before.status) else {
                throw RPCFailure.conflict("the assignment is already \(before.status.rawValue)")
            }
            try await tx.query("""
                UPDATE assignments SET status = \(status), ended_on = \(services.today()), end_reason = \(reason) WHERE id = \(id)
                """)
            try await tx.query("UPDATE assignment_invoices SET released = true WHERE assignment_id = \(id)")
            let after = try await AgencyStore.assignment(id, on: tx).json
            try await Audit.record(tx, context: context, method: method, entity: "assignment", entityID: String(id), before: before.json, after: after)
            return after
        }
    }

    static func recall(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason")
        return try await end(services: services, context: context, id: id, status: "recalled", reason: reason, method: "assignments.recall")
    }

    static func settle(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.optionalString("reason", maxLength: 2000) ?? "settled"
        return try await end(services: services, context: context, id: id, status: "settled", reason: reason, method: "assignments.settle")
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let agencyID = try params.optionalInt("agency_id", range: 1...Int.max).map(Int64.init)
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let status = try params.optionalChoice("status", AssignmentStatus.self)?.rawValue
        let agency = AgencyScope.agency(context)
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: AgencyStore.assignmentColumns) FROM \(unescaped: AgencyStore.assignmentFrom)
            WHERE (\(agencyID)::bigint IS NULL OR s.agency_id = \(agencyID)) AND (\(customerID)::bigint IS NULL OR s.customer_id = \(customerID))
              AND (\(agency)::bigint IS NULL OR (s.agency_id = \(agency) AND s.status = 'active'))
              AND (\(status)::text IS NULL OR s.status = \(status))
            ORDER BY s.id DESC LIMIT 1000
            """)
        return ["assignments": .array(rows.decodeEach("assignment", logger: context.logger) { try $0.decode(AssignmentRecord.self).json })]
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let agency = AgencyScope.agency(context)
        return try await services.read(context) { connection in
            let assignment = try await AgencyStore.assignment(id, on: connection)
            if let agency, assignment.agencyID != agency || assignment.status != .active {
                throw RPCFailure.notFound("assignment")
            }
            return assignment.json
        }
    }
}
