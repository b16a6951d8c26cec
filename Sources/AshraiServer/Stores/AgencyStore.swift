import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A collection agency as stored, with how many of its assignments are still open.
struct AgencyRecord: Decodable, Sendable {
    var id: Int64
    var name: String
    var registrationNo: String?
    var contactName: String?
    var email: String?
    var phone: String?
    var commissionRate: Decimal
    var feeTerms: String?
    var licensed: Bool
    var rating: Int?
    var notes: String?
    var active: Bool
    var version: Int
    var openAssignments: Int
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, registrationNo = "registration_no", contactName = "contact_name", email, phone
        case commissionRate = "commission_rate", feeTerms = "fee_terms", licensed, rating, notes, active, version
        case openAssignments = "open_assignments", createdAt = "created_at"
    }

    var json: JSONValue {
        [
            "id": .id(id), "name": .string(name), "registration_no": .optional(registrationNo), "contact_name": .optional(contactName),
            "email": .optional(email), "phone": .optional(phone), "fee_terms": .optional(feeTerms), "notes": .optional(notes),
            "commission_rate": .decimal(commissionRate), "licensed": .bool(licensed), "rating": rating.map { .int($0) } ?? .null,
            "active": .bool(active), "version": .int(version), "open_assignments": .int(openAssignments),
            "created_at": .string(rfc3339(createdAt)),
        ]
    }
}

/// An assignment of overdue invoices to an agency, with what it covers, collected and earned.
struct AssignmentRecord: Decodable, Sendable {
    var id: Int64
    var agencyID: Int64
    var agencyName: String
    var customerID: Int64
    var customerName: String
    var status: AssignmentStatus
    var customerNotifiedOn: PostgresDate?
    var notificationInteractionID: Int64?
    var commissionRate: Decimal
    var assignedAmount: Decimal
    var openAmount: Decimal
    var collected: Decimal
    var invoiceIDs: String?
    var notes: String?
    var activatedOn: PostgresDate?
    var endedOn: PostgresDate?
    var endReason: String?
    var createdAt: Date
    var noticeLetterID: Int64?

    enum CodingKeys: String, CodingKey {
        case noticeLetterID = "notice_letter_id"
        case id, agencyID = "agency_id", agencyName = "agency_name", customerID = "customer_id", customerName = "customer_name", status
        case customerNotifiedOn = "customer_notified_on", notificationInteractionID = "notification_interaction_id"
        case commissionRate = "commission_rate", assignedAmount = "assigned_amount", openAmount = "open_amount", collected
        case invoiceIDs = "invoice_ids", notes, activatedOn = "activated_on", endedOn = "ended_on", endReason = "end_reason"
        case createdAt = "created_at"
    }

    /// The agency's commission on what was collected (`Commission.due`).
    var commission: Decimal { Commission.due(collected: collected, ratePercent: commissionRate) }

    var json: JSONValue {
        [
            "id": .id(id), "agency_id": .id(agencyID), "agency_name": .string(agencyName), "customer_id": .id(customerID),
            "customer_name": .string(customerName), "status": .string(status.rawValue), "customer_notified_on": .date(customerNotifiedOn),
            "notification_interaction_id": notificationInteractionID.map(JSONValue.id) ?? .null,
            "commission_rate": .decimal(commissionRate), "assigned_amount": .money(assignedAmount), "open_amount": .money(openAmount),
            "collected": .money(collected), "commission": .money(commission), "net": .money(collected - commission),
            "invoice_ids": .array(InteractionMethods.ids(invoiceIDs)), "notes": .optional(notes),
            "activated_on": .date(activatedOn), "ended_on": .date(endedOn), "end_reason": .optional(endReason),
            "created_at": .string(rfc3339(createdAt)), "notice_letter_id": noticeLetterID.map(JSONValue.id) ?? .null,
        ]
    }
}

/// Reading agencies and assignments: their columns in one place.
enum AgencyStore {
    static let agencyColumns = """
        a.id, a.name, a.registration_no, a.contact_name, a.email, a.phone, a.commission_rate, a.fee_terms, a.licensed, a.rating,
        a.notes, a.active, a.version, a.created_at,
        (SELECT count(*) FROM assignments s WHERE s.agency_id = a.id AND s.status IN (\(AssignmentStatus.open.map { "'\($0.rawValue)'" }.joined(separator: ", ")))) AS open_assignments
        """

    static let assignmentColumns = """
        s.id, s.agency_id, g.name AS agency_name, s.customer_id, c.name AS customer_name, s.status, s.customer_notified_on,
        s.notification_interaction_id, s.commission_rate, s.assigned_amount, s.notes, s.activated_on, s.ended_on, s.end_reason,
        s.created_at, s.notice_letter_id,
        (SELECT string_agg(ai.invoice_id::text, ',' ORDER BY ai.invoice_id) FROM assignment_invoices ai WHERE ai.assignment_id = s.id) AS invoice_ids,
        (SELECT coalesce(sum(invoice_open_amount(i)), 0) FROM assignment_invoices ai JOIN invoices i ON i.id = ai.invoice_id
         WHERE ai.assignment_id = s.id AND i.status IN (\(InvoiceStatus.owingSQL))) AS open_amount,
        coalesce((SELECT sum(p.amount) FROM payments p WHERE p.via_assignment_id = s.id AND p.status = 'recorded'), 0) AS collected
        """
    static let assignmentFrom = "assignments s JOIN agencies g ON g.id = s.agency_id JOIN customers c ON c.id = s.customer_id"

    /// One agency (404 when there is none), optionally locked.
    static func agency(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> AgencyRecord {
        guard let row = try await connection.query("""
            SELECT \(unescaped: agencyColumns) FROM agencies a WHERE a.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF a" : "")
            """).first else { throw RPCFailure.notFound("agency") }
        return try row.decode(AgencyRecord.self)
    }

    /// One assignment (404 when there is none), optionally locked.
    static func assignment(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> AssignmentRecord {
        guard let row = try await connection.query("""
            SELECT \(unescaped: assignmentColumns) FROM \(unescaped: assignmentFrom) WHERE s.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF s" : "")
            """).first else { throw RPCFailure.notFound("assignment") }
        return try row.decode(AssignmentRecord.self)
    }
}
