import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A payment as stored.
struct PaymentRecord: Decodable, Sendable {
    var id: Int64
    var customerID: Int64
    var amount: Decimal
    var currencyCode: String
    var method: PaymentMethod
    var receivedOn: PostgresDate
    var reference: String?
    var unapplied: Decimal
    var status: PaymentStatus
    var viaAssignmentID: Int64?
    var reverseReason: String?
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, customerID = "customer_id", amount, currencyCode = "currency", method, receivedOn = "received_on", reference
        case unapplied, status, viaAssignmentID = "via_assignment_id", reverseReason = "reverse_reason", createdAt = "created_at"
    }

    var currency: Currency { Currency(code: currencyCode) ?? .ils }

    var json: JSONValue {
        [
            "id": .id(id), "customer_id": .id(customerID), "amount": .money(amount, currency), "currency": .string(currency.code),
            "method": .string(method.rawValue), "received_on": .date(receivedOn), "reference": .optional(reference),
            "unapplied": .money(unapplied, currency), "status": .string(status.rawValue), "reverse_reason": .optional(reverseReason),
            "via_assignment_id": viaAssignmentID.map(JSONValue.id) ?? .null, "created_at": .string(rfc3339(createdAt)),
        ]
    }
}

/// Reading payments: their columns in one place.
enum PaymentStore {
    static let columns = """
        p.id, p.customer_id, p.amount, p.currency, p.method, p.received_on, p.reference, p.unapplied, p.status, p.via_assignment_id,
        p.reverse_reason, p.created_at
        """

    /// One payment (404 when there is none), optionally locked.
    static func load(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> PaymentRecord {
        guard let row = try await connection.query(
            "SELECT \(unescaped: columns) FROM payments p WHERE p.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")").first
        else { throw RPCFailure.notFound("payment") }
        return try row.decode(PaymentRecord.self)
    }
}
