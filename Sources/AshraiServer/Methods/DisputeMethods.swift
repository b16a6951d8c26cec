import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `disputes.*`: an invoice the customer contests. While a dispute is open the invoice gets
/// no dunning; a resolution in the customer's favour issues a credit note.
enum DisputeMethods {
    static let handlers: [String: MethodHandler] = ["disputes.open": open, "disputes.resolve": resolve, "disputes.list": list]


    static let columns = """
        d.id, d.invoice_id, d.customer_id, d.reason, d.amount, d.status, d.opened_on, o.username AS opened_by, d.resolution,
        d.resolution_note, d.credit_amount, d.resolved_on, r.username AS resolved_by
        """
    static let from = "disputes d LEFT JOIN users o ON o.id = d.opened_by LEFT JOIN users r ON r.id = d.resolved_by"

    /// A dispute as stored, with who opened and resolved it.
    struct Record: Decodable, Sendable {
        var id: Int64
        var invoiceID: Int64
        var customerID: Int64
        var reason: String
        var amount: Decimal?
        var status: DisputeStatus
        var openedOn: PostgresDate
        var openedBy: String?
        var resolution: DisputeResolution?
        var resolutionNote: String?
        var creditAmount: Decimal?
        var resolvedOn: PostgresDate?
        var resolvedBy: String?

        enum CodingKeys: String, CodingKey {
            case id, invoiceID = "invoice_id", customerID = "customer_id", reason, amount, status, openedOn = "opened_on"
            case openedBy = "opened_by", resolution, resolutionNote = "resolution_note", creditAmount = "credit_amount"
            case resolvedOn = "resolved_on", resolvedBy = "resolved_by"
        }

        var json: JSONValue {
            [
                "id": .id(id), "invoice_id": .id(invoiceID), "customer_id": .id(customerID), "reason": .string(reason),
                "amount": amount.map { .money($0) } ?? .null, "status": .string(status.rawValue), "opened_on": .date(openedOn),
                "opened_by": .optional(openedBy), "resolution": .optional(resolution?.rawValue), "resolution_note": .optional(resolutionNote),
                "credit_amount": creditAmount.map { .money($0) } ?? .null, "resolved_on": .date(resolvedOn),
                "resolved_by": .optional(resolvedBy),
            ]
        }
    }

    static func disputeJSON(_ row: PostgresRow) throws -> JSONValue { try row.decode(Record.self).json }

    /// One dispute (404 when there is none), optionally locked.
    static func load(_ id: Int64, forUpdate: Bool = false, on tx: PostgresConnection) async throws -> Record {
        guard let row = try await tx.query("""
            SELECT \(unescaped: columns) FROM \(unescaped: from) WHERE d.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF d" : "")
            """).first else {
            throw RPCFailure.notFound("dispute")
        }
        return try row.decode(Record.self)
    }

    static func open(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let invoiceID = Int64(try params.id("invoice_id"))
        let reason = try params.text("reason")
        let amount = try params.optionalMoney("amount", currency: services.settings.currency)
        if let amount, amount <= 0 { throw RPCFailure.invalidParams("amount", "amount must be positive") }
        let current = context
        return try await services.transaction(current) { tx in
            let invoice = try await InvoiceStore.load(invoiceID, forUpdate: true, on: tx)
            guard invoice.status.isOwing else {
                throw RPCFailure.ruleViolated(.invoiceNotOpen, "only an open invoice can be disputed")
            }
            let open = invoice.openAmount
            if let amount, amount > open {
                throw RPCFailure.invalidParams("amount", "amount exceeds the open amount \(Money(open).text)")
            }
            let customerID = invoice.customerID
            let existing = try await tx.query("SELECT id FROM disputes WHERE invoice_id = \(invoiceID) AND status = 'open'")
            guard existing.isEmpty else { throw RPCFailure.conflict("the invoice already has an open dispute") }
            let id = try await tx.query("""
                INSERT INTO disputes (invoice_id, customer_id, reason, amount, opened_on, opened_by)
                VALUES (\(invoiceID), \(customerID), \(reason), \(amount), \(services.today()), \(current.session?.userID)) RETURNING id
                """).scalar(Int64.self)
            let dispute = try await load(id, on: tx).json
            try await Audit.record(tx, context: current, method: "disputes.open", entity: "invoice", entityID: String(invoiceID), after: dispute)
            return dispute
        }
    }

    /// A refused credit as the client sees it: -32602 naming `credit_amount`.
    static func refusal(_ refusal: DisputeResolution.Refusal) -> RPCFailure {
        switch refusal {
        case .partialNeedsCredit: RPCFailure.invalidParams("credit_amount", "a partial resolution needs a positive credit_amount")
        case .businessRightCreditsNothing: RPCFailure.invalidParams("credit_amount", "business_right credits nothing")
        case .notPositive: RPCFailure.invalidParams("credit_amount", "credit_amount must be positive")
        case .exceedsOpen(let open): RPCFailure.invalidParams("credit_amount", "credit_amount exceeds the open amount \(Money(open).text)")
        }
    }

    static func resolve(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let resolution = try params.choice("resolution", DisputeResolution.self)
        let requested = try params.optionalMoney("credit_amount", currency: services.settings.currency)
        let note = try params.optionalString("note", maxLength: 2000)
        if let problem = resolution.problem(requested: requested) { throw refusal(problem) }
        let current = context
        return try await services.transaction(current) { tx in
            let dispute = try await load(id, forUpdate: true, on: tx)
            guard dispute.status == .open else { throw RPCFailure.conflict("the dispute is already resolved") }
            let (invoiceID, customerID, disputed) = (dispute.invoiceID, dispute.customerID, dispute.amount)
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let before = try await InvoiceStore.load(invoiceID, forUpdate: true, on: tx)
            let open = before.status.isOwing ? before.openAmount : 0
            let credit = try resolution.credit(requested: requested, disputed: disputed, open: open).mapError(refusal).get()
            var creditNote: JSONValue = .null
            if credit > 0 {
                let noteID = try await tx.query("""
                    INSERT INTO credit_notes (invoice_id, customer_id, dispute_id, amount, reason, issued_on, created_by)
                    VALUES (\(invoiceID), \(customerID), \(id), \(credit), \("dispute #\(id) resolved: \(resolution.rawValue)"), \(services.today()),
                            \(current.session?.userID))
                    RETURNING id
                    """).scalar(Int64.self)
                try await tx.query("""
                    UPDATE invoices SET credited_amount = credited_amount + \(credit),
                        status = invoice_settlement_status(amount, paid_amount, discount_amount, written_off_amount, credited_amount + \(credit))
                    WHERE id = \(invoiceID)
                    """)
                let noteRow = try await tx.query("""
                    SELECT id, invoice_id, customer_id, dispute_id, amount, reason, issued_on FROM credit_notes WHERE id = \(noteID)
                    """).one()
                creditNote = [
                    "id": .id(noteID), "invoice_id": .id(invoiceID), "customer_id": .id(customerID), "dispute_id": .id(id),
                    "amount": .money(try noteRow.decode(Decimal.self, column: "amount")),
                    "reason": .string(try noteRow.decode(String.self, column: "reason")),
                    "issued_on": .date(try noteRow.decode(PostgresDate.self, column: "issued_on")),
                ]
            }
            try await tx.query("""
                UPDATE disputes SET status = 'resolved', resolution = \(resolution.rawValue), resolution_note = \(note),
                    credit_amount = \(credit), resolved_on = \(services.today()), resolved_by = \(current.session?.userID), resolved_at = now()
                WHERE id = \(id)
                """)
            let resolved = try await load(id, on: tx).json
            let after = try await InvoiceStore.load(invoiceID, on: tx).json
            try await Audit.record(tx, context: current, method: "disputes.resolve", entity: "invoice", entityID: String(invoiceID),
                                   before: before.json, after: after, details: ["dispute": resolved, "credit_note": creditNote])
            return ["dispute": resolved, "credit_note": creditNote, "invoice": after]
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let status = try params.optionalString("status", maxLength: 16)
        if let status, !["open", "resolved"].contains(status) { throw RPCFailure.invalidParams("status", "status must be open or resolved") }
        let customerID = try params.optionalInt("customer_id", range: 1...Int.max).map(Int64.init)
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: columns) FROM \(unescaped: from)
            WHERE (\(status)::text IS NULL OR d.status = \(status)) AND (\(customerID)::bigint IS NULL OR d.customer_id = \(customerID))
            ORDER BY d.id DESC LIMIT 1000
            """)
        return ["disputes": .array(try rows.map(disputeJSON))]
    }
}
