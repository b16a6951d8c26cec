import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// Turning bank credits into payments: what the matcher is given (`BankMatching`, AshraiCore), and
/// the post itself — through `payments.record`'s own code, with an idempotency key derived from the
/// bank line, so a line is never posted twice.
enum BankPosting {
    /// The customers and open invoices the matcher weighs, read once per import or worklist page.
    struct Book {
        let currency: Currency
        private(set) var index: BankMatching.Index

        func candidates(for line: BankTransactionRecord) -> [BankMatching.Candidate] {
            BankMatching.candidates(amount: line.amount, remittance: line.remittance, counterpartyName: line.counterpartyName,
                                    counterpartyAccount: line.counterpartyAccount, index: index)
        }

        /// After a post to the customer: its open invoices read again (only its entries in the index change).
        mutating func refresh(customerID: Int64, on tx: PostgresConnection) async throws {
            index.replaceInvoices(ofCustomer: customerID, with: try await BankPosting.openInvoices(currency: currency, customerID: customerID, on: tx))
        }
    }

    /// Open invoices in `currency` (of one customer, or all), as the matcher weighs them.
    static func openInvoices(currency: Currency, customerID: Int64? = nil, on tx: PostgresConnection) async throws -> [BankMatching.OpenInvoice] {
        try await tx.query("""
            SELECT i.id, i.customer_id, i.number, invoice_open_amount(i) AS open, i.due_date
            FROM invoices i WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.currency = \(currency.code)
              AND (\(customerID)::bigint IS NULL OR i.customer_id = \(customerID))
            """).map { row in
            BankMatching.OpenInvoice(id: try row.decode(Int64.self, column: "id"), customerID: try row.decode(Int64.self, column: "customer_id"),
                                     number: try row.decode(String.self, column: "number"), open: try row.decode(Decimal.self, column: "open"),
                                     dueDay: try row.decode(PostgresDate.self, column: "due_date").daysSinceEpoch)
        }
    }

    static func book(currency: Currency, on tx: PostgresConnection) async throws -> Book {
        let invoices = try await openInvoices(currency: currency, on: tx)
        let customers = try await tx.query("""
            SELECT c.id, c.name, c.code, c.legal_id,
                   (SELECT string_agg(a.account, chr(31)) FROM customer_bank_accounts a WHERE a.customer_id = c.id) AS accounts,
                   (SELECT string_agg(pi.amount::text, ',') FROM plans p JOIN plan_installments pi ON pi.plan_id = p.id
                    WHERE p.customer_id = c.id AND p.status = 'active') AS installments
            FROM customers c WHERE c.status <> 'closed'
            """).map { row in
            BankMatching.Customer(
                id: try row.decode(Int64.self, column: "id"), name: try row.decode(String.self, column: "name"),
                code: try row.decode(String?.self, column: "code"), legalID: try row.decode(String?.self, column: "legal_id"),
                accounts: (try row.decode(String?.self, column: "accounts") ?? "").split(separator: "\u{1F}").map(String.init),
                installmentsDue: (try row.decode(String?.self, column: "installments") ?? "").split(separator: ",").compactMap { Decimal(string: String($0)) })
        }
        return Book(currency: currency, index: BankMatching.Index(customers: customers, invoices: invoices))
    }

    static func suggestionJSON(_ candidate: BankMatching.Candidate) -> JSONValue {
        ["action": "post", "customer_id": .id(candidate.customerID), "invoice_ids": .array(candidate.invoiceIDs.map(JSONValue.id)),
         "payment_id": .null, "confidence": .int(candidate.confidence), "reasons": .array(candidate.reasons.map(JSONValue.string))]
    }

    static func suggestionJSON(_ candidate: BankMatching.ReturnCandidate) -> JSONValue {
        ["action": "reverse", "customer_id": .id(candidate.customerID), "invoice_ids": [], "payment_id": .id(candidate.paymentID),
         "confidence": .int(candidate.confidence), "reasons": .array(candidate.reasons.map(JSONValue.string))]
    }

    /// Payments recorded in the 120 days before `asOf`, with the payer account of the bank line that posted them.
    static func recentPayments(asOf: PostgresDate, on tx: PostgresConnection) async throws -> [BankMatching.RecentPayment] {
        try await tx.query("""
            SELECT p.id, p.customer_id, p.amount, p.received_on, p.reference,
                   (SELECT t.counterparty_account FROM bank_transactions t WHERE t.payment_id = p.id AND t.status = 'posted' LIMIT 1) AS account
            FROM payments p WHERE p.status = 'recorded' AND p.received_on >= \(asOf)::date - 120 AND p.received_on <= \(asOf)::date
            """).map { row in
            BankMatching.RecentPayment(id: try row.decode(Int64.self, column: "id"), customerID: try row.decode(Int64.self, column: "customer_id"),
                                       amount: try row.decode(Decimal.self, column: "amount"),
                                       receivedDay: try row.decode(PostgresDate.self, column: "received_on").daysSinceEpoch,
                                       reference: try row.decode(String?.self, column: "reference"),
                                       counterpartyAccount: try row.decode(String?.self, column: "account"))
        }
    }

    /// Records the credit `line` as a payment of `customerID` (allocated to `allocations`, or oldest
    /// first), marks the line posted, links its counterparty account to the customer, and audits why.
    static func post(_ line: BankTransactionRecord, customerID: Int64, allocations: JSONValue?, reasons: [String], automatic: Bool,
                     services: Services, context: CallContext, on tx: PostgresConnection) async throws -> Int64 {
        guard line.amount > 0 else { throw RPCFailure.conflict("only money in is posted as a payment") }
        guard line.status == .unmatched else { throw RPCFailure.conflict("the bank line is already \(line.status.rawValue)") }
        var params: JSONObject = [
            "customer_id": .id(customerID), "amount": .money(line.amount), "method": .string(PaymentMethod.bankTransfer.rawValue),
            "received_on": .date(line.valueDate ?? line.bookingDate),
            "reference": .string(String((line.bankReference ?? "bank line \(line.id)").prefix(200))),
            "idempotency_key": .string("bank-line-\(line.id)"),
        ]
        if let allocations { params["allocations"] = allocations }
        let payment = try await PaymentMethods.record(services: services, context: context, params: Params(params), joining: tx)
        guard let paymentID = payment["payment"]?["id"]?.intValue.map(Int64.init) else { throw RPCFailure(.internalError, "the payment was not recorded") }
        let why: JSONValue = .array(reasons.map(JSONValue.string))
        try await tx.query("""
            UPDATE bank_transactions SET status = 'posted', payment_id = \(paymentID), match_reasons = \(why) WHERE id = \(line.id)
            """)
        if let account = line.counterpartyAccount, !account.isEmpty {
            try await tx.query("""
                INSERT INTO customer_bank_accounts (customer_id, account, linked_from) VALUES (\(customerID), \(account), \(line.id))
                ON CONFLICT DO NOTHING
                """)
        }
        try await Audit.record(tx, context: context, method: automatic ? "bank.auto_post" : "bank.match", entity: "bank_transaction",
                               entityID: String(line.id), details: ["payment_id": .id(paymentID), "customer_id": .id(customerID), "reasons": why])
        return paymentID
    }
}
