import Foundation

/// Every rule a request can break (422 `rule_violated`, with `data.rule` set to the raw value):
/// one list, so clients and tests can rely on the names.
public enum BusinessRule: String, Sendable, CaseIterable, Codable {
    // Credit on a new invoice (`InvoiceDecision`).
    case customerOnHold = "customer_on_hold"
    case customerClosed = "customer_closed"
    case currencyMismatch = "currency_mismatch"
    case creditLimit = "credit_limit"
    // Invoices, payments, plans and disputes.
    case invoiceNotOpen = "invoice_not_open"
    case invoiceNotVoidable = "invoice_not_voidable"
    case invoiceNotOverdue = "invoice_not_overdue"
    case paymentReversed = "payment_reversed"
    case nothingUnapplied = "nothing_unapplied"
    // Agencies.
    case agencyHasAssignments = "agency_has_assignments"
    case agencyInactive = "agency_inactive"
    // Users.
    case lastAdmin = "last_admin"
}
