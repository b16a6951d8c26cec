import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// An invoice as stored: a row of `invoices` decoded once, with money as `Decimal`. Handlers
/// pass this, never its JSON; `json` is the reply's shape.
struct InvoiceRecord: Decodable, Sendable {
    var id: Int64
    var customerID: Int64
    var number: String
    var issueDate: PostgresDate
    var dueDate: PostgresDate
    var amount: Decimal
    var currencyCode: String
    var description: String?
    var status: InvoiceStatus
    var paidAmount: Decimal
    var discountAmount: Decimal
    var writtenOffAmount: Decimal
    var creditedAmount: Decimal
    var termsVersion: Int
    var creditLimit: Decimal
    var netDays: Int
    var termsBasis: TermsBasis
    var lateInterestRate: Decimal
    var earlyDiscountRate: Decimal?
    var earlyDiscountDays: Int?
    var overrideReason: String?
    var opening: Bool
    var createdAt: Date
    var voidReason: String?

    enum CodingKeys: String, CodingKey {
        case id, customerID = "customer_id", number, issueDate = "issue_date", dueDate = "due_date", amount
        case currencyCode = "currency", description, status, paidAmount = "paid_amount", discountAmount = "discount_amount"
        case writtenOffAmount = "written_off_amount", creditedAmount = "credited_amount", termsVersion = "terms_version"
        case creditLimit = "credit_limit", netDays = "net_days", termsBasis = "terms_basis", lateInterestRate = "late_interest_rate"
        case earlyDiscountRate = "early_discount_rate", earlyDiscountDays = "early_discount_days", overrideReason = "override_reason"
        case opening, createdAt = "created_at", voidReason = "void_reason"
    }

    var currency: Currency { Currency(code: currencyCode) ?? .ils }

    /// The amounts, and what is open (the one rule, `InvoiceBalance.open`).
    var balance: InvoiceBalance {
        InvoiceBalance(amount: amount, paid: paidAmount, discount: discountAmount, writtenOff: writtenOffAmount,
                       credited: creditedAmount, status: status)
    }

    var openAmount: Decimal { balance.open }

    var json: JSONValue {
        [
            "id": .id(id), "customer_id": .id(customerID), "number": .string(number),
            "issue_date": .date(issueDate), "due_date": .date(dueDate),
            "amount": .money(amount, currency), "currency": .string(currency.code),
            "description": .optional(description),
            "status": .string(status.rawValue), "paid_amount": .money(paidAmount, currency),
            "discount_amount": .money(discountAmount, currency), "written_off_amount": .money(writtenOffAmount, currency),
            "credited_amount": .money(creditedAmount, currency), "open_amount": .money(openAmount, currency),
            "terms": [
                "version": .int(termsVersion),
                "credit_limit": .money(creditLimit, currency),
                "net_days": .int(netDays),
                "terms_basis": .string(termsBasis.rawValue),
                "late_interest_rate": .decimal(lateInterestRate),
                "early_discount_rate": earlyDiscountRate.map { .decimal($0) } ?? .null,
                "early_discount_days": earlyDiscountDays.map { .int($0) } ?? .null,
            ],
            "override_reason": .optional(overrideReason),
            "opening": .bool(opening),
            "created_at": .string(rfc3339(createdAt)),
            "void_reason": .optional(voidReason),
        ]
    }
}

/// Reading invoices: the one place their columns are listed; other families call it.
enum InvoiceStore {
    /// The columns `InvoiceRecord` reads, for `SELECT … FROM invoices i`.
    static let columns = """
        i.id, i.customer_id, i.number, i.issue_date, i.due_date, i.amount, i.currency, i.description, i.status,
        i.paid_amount, i.discount_amount, i.written_off_amount, i.credited_amount, i.terms_version, i.credit_limit, i.net_days,
        i.terms_basis, i.late_interest_rate, i.opening, i.early_discount_rate, i.early_discount_days, i.override_reason,
        i.created_at, i.void_reason
        """

    /// A customer's exposure — what the credit limit is measured against: the open amounts of its
    /// owing invoices — as a scalar sub-select over `customer` (an SQL expression naming the
    /// customer's id). One definition for the single check and the import's batch.
    static func exposureSQL(customer: String) -> String {
        """
        (SELECT coalesce(sum(invoice_open_amount(i)), 0) FROM invoices i
         WHERE i.customer_id = \(customer) AND i.status IN (\(InvoiceStatus.owingSQL)))
        """
    }

    /// One invoice (404 when there is none, or row-level security hides it), optionally locked.
    static func load(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> InvoiceRecord {
        let rows = try await connection.query(
            "SELECT \(unescaped: columns) FROM invoices i WHERE i.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")")
        guard let row = rows.first else { throw RPCFailure.notFound("invoice") }
        return try row.decode(InvoiceRecord.self)
    }
}
