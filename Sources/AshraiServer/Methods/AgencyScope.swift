import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// What an agency partner may see, as the server enforces it (PostgreSQL's row-level
/// security enforces the same independently): the customers, invoices, interactions and
/// letters its **active** assignments cover, its own assignments and agency record. Rows it
/// cannot see are "not found", never "forbidden".
enum AgencyScope {
    /// The agency a request is limited to; nil for staff.
    static func agency(_ context: CallContext) -> Int64? {
        guard context.session?.role == .agency else { return nil }
        return context.session?.agencyID ?? -1
    }

    /// Throws not-found unless an agency may see the customer.
    static func requireCustomer(_ customerID: Int64, agency: Int64?, on connection: PostgresConnection) async throws {
        guard let agency else { return }
        let visible = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = \(customerID) AND i.id IN (SELECT agency_invoice_ids(\(agency))))
            """).scalar(Bool.self)
        guard visible else { throw RPCFailure.notFound("customer") }
    }

    /// Throws not-found unless an agency may see the invoice.
    static func requireInvoice(_ invoiceID: Int64, agency: Int64?, on connection: PostgresConnection) async throws {
        guard let agency else { return }
        let visible = try await connection.query("""
            SELECT \(invoiceID) IN (SELECT agency_invoice_ids(\(agency)))
            """).scalar(Bool.self)
        guard visible else { throw RPCFailure.notFound("invoice") }
    }

    /// A customer as an agency sees it: contact data, not internal risk notes or scores.
    static func customerView(_ json: JSONValue, agency: Int64?) -> JSONValue {
        guard agency != nil, case .object(var object) = json else { return json }
        for hidden in ["notes", "grade", "score", "next_review_on", "closed_reason", "legal_id", "owner_id"] { object[hidden] = .null }
        return .object(object)
    }

    /// An interaction as an agency sees it: only the invoice ids it may see.
    static func interactionView(_ json: JSONValue, visibleInvoices: Set<Int64>) -> JSONValue {
        guard case .object(var object) = json, let ids = object["invoice_ids"]?.arrayValue else { return json }
        object["invoice_ids"] = .array(ids.filter { $0.intValue.map { visibleInvoices.contains(Int64($0)) } ?? false })
        return .object(object)
    }

    /// The fields an agency's customer search may match: what it is shown (name, code, e-mail),
    /// never a hidden one (the legal id was rebuilt digit by digit through search).
    static let searchableCustomerFields = "lower(c.name || ' ' || coalesce(c.code, '') || ' ' || coalesce(c.email, ''))"

    /// An invoice as an agency sees it: amounts and dates, not the credit terms behind it.
    static func invoiceView(_ json: JSONValue, agency: Int64?) -> JSONValue {
        guard agency != nil, case .object(var object) = json else { return json }
        object["terms"] = nil
        object["override_reason"] = .null
        return .object(object)
    }
}
