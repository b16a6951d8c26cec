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

        /// After posts to these customers: their open invoices read again (only their entries in the index change).
        mutating func refresh(customerIDs: Set<Int64>, on tx: PostgresConnection) async throws {
            guard !customerIDs.isEmpty else { return }
            var open: [Int64: [BankMatching.OpenInvoice]] = [:]
            for invoice in try await BankPosting.openInvoices(currency: currency, customerIDs: Array(customerIDs), on: tx) {
                open[invoice.customerID, default: []].append(invoice)
            }
            for customerID in customerIDs { index.replaceInvoices(ofCustomer: customerID, with: open[customerID] ?? []) }
        }
    }

    /// Open invoices in `currency` (of these customers, or all), as the matcher weighs them.
    static func openInvoices(currency: Currency, customerIDs: [Int64]? = nil, on tx: PostgresConnection) async throws -> [BankMatching.OpenInvoice] {
        let query: PostgresQuery = if let customerIDs {
            """
            SELECT i.id, i.customer_id, i.number, invoice_open_amount(i) AS open, i.due_date
            FROM invoices i WHERE i.customer_id = ANY(\(PostgresArray(customerIDs))::bigint[])
              AND i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.currency = \(currency.code)
            """
        } else {
            """
            SELECT i.id, i.customer_id, i.number, invoice_open_amount(i) AS open, i.due_date
            FROM invoices i WHERE i.status IN (\(unescaped: InvoiceStatus.owingSQL)) AND i.currency = \(currency.code)
            """
        }
        return try await tx.query(query).map { row in   // by position: a book is half a million rows
            BankMatching.OpenInvoice(id: try row.decode(Int64.self, at: 0), customerID: try row.decode(Int64.self, at: 1),
                                     number: try row.decode(String.self, at: 2), open: try row.decode(Decimal.self, at: 3),
                                     dueDay: try row.decode(PostgresDate.self, at: 4).daysSinceEpoch)
        }
    }

    static func book(currency: Currency, on tx: PostgresConnection) async throws -> Book {
        let invoices = try await openInvoices(currency: currency, on: tx)
        // Joins with the tables grouped once, not a subquery per customer: a table the import just
        // filled (customer_bank_accounts) has no statistics yet, and a subquery per customer that
        // scans it made the next import's book take 53 s instead of 3.
        let customers = try await tx.query("""
            SELECT c.id, c.name, c.code, c.legal_id, a.accounts, pl.installments
            FROM customers c
            LEFT JOIN (SELECT customer_id, string_agg(account, chr(31)) AS accounts FROM customer_bank_accounts GROUP BY customer_id) a
                   ON a.customer_id = c.id
            LEFT JOIN (SELECT p.customer_id, string_agg(pi.amount::text, ',') AS installments
                       FROM plans p JOIN plan_installments pi ON pi.plan_id = p.id WHERE p.status = 'active' GROUP BY p.customer_id) pl
                   ON pl.customer_id = c.id
            WHERE c.status <> 'closed'
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

    /// A credit to post as a payment of `customerID`, allocated to `allocations` (or oldest first).
    struct Post: Sendable {
        var line: BankTransactionRecord
        var customerID: Int64
        var allocations: [AllocationLine]?
        var reasons: [String]
    }

    /// The `payments.record` request a post is: what its idempotency key (`bank-line-ID`) stands for.
    static func paymentParams(_ post: Post) -> Params {
        var params: JSONObject = [
            "customer_id": .id(post.customerID), "amount": .money(post.line.amount), "method": .string(PaymentMethod.bankTransfer.rawValue),
            "received_on": .date(post.line.receivedOn), "reference": .string(post.line.paymentReference),
            "idempotency_key": .string(post.line.idempotencyKey),
        ]
        if let allocations = post.allocations {
            params["allocations"] = .array(allocations.map { ["invoice_id": .id($0.invoiceID), "amount": .money($0.amount)] })
        }
        return Params(params)
    }

    /// Bank lines now stand for these payments, with why (a match's reasons, a cheque paid in).
    static func markPosted(_ lines: [(lineID: Int64, paymentID: Int64, reasons: JSONValue)], on tx: PostgresConnection) async throws {
        guard !lines.isEmpty else { return }
        try await tx.query("""
            UPDATE bank_transactions t SET status = 'posted', payment_id = d.payment_id, match_reasons = d.reasons
            FROM unnest(\(PostgresArray(lines.map(\.lineID)))::bigint[], \(PostgresArray(lines.map(\.paymentID)))::bigint[],
                        \(PostgresArray(lines.map { $0.reasons.encoded() }))::jsonb[]) AS d(id, payment_id, reasons)
            WHERE t.id = d.id
            """)
    }

    /// Records credits as payments, through `payments.record`'s core (`PaymentPosting`), in a few
    /// statements however many: each line is posted once (its idempotency key checked, then written
    /// with the reply, under its customer's lock), marked posted with the reasons, its counterparty account linked to the
    /// customer, and audited (the payment as `payments.record`, the line as `bank.auto_post` or
    /// `bank.match`). A line the ledger refuses (already posted, an allocation the invoices no
    /// longer allow) is left as it was, with the reason. Returns each post's payment id, in order.
    static func post(_ posts: [Post], automatic: Bool, services: Services, context: CallContext,
                     on tx: PostgresConnection) async throws -> [Result<Int64, RPCFailure>] {
        let currency = services.settings.currency
        var outcomes = [Result<Int64, RPCFailure>?](repeating: nil, count: posts.count)
        var requests: [(index: Int, request: PaymentPosting.Request)] = []
        for (index, post) in posts.enumerated() {
            let line = post.line
            guard line.amount > 0 else { outcomes[index] = .failure(.conflict("only money in is posted as a payment")); continue }
            guard line.status == .unmatched else { outcomes[index] = .failure(.conflict("the bank line is already \(line.status.rawValue)")); continue }
            guard line.currency == currency.code else {
                outcomes[index] = .failure(.conflict("the line is in \(line.currency), not the business's currency")); continue
            }
            requests.append((index, PaymentPosting.Request(customerID: post.customerID, amount: line.amount, currency: currency, method: .bankTransfer,
                                                           receivedOn: line.receivedOn, reference: line.paymentReference,
                                                           requested: post.allocations, viaAssignment: nil)))
        }
        var planned: [(index: Int, plan: PaymentPosting.Plan)] = []
        for (item, decided) in zip(requests, try await PaymentPosting.plan(requests.map(\.request), on: tx)) {
            switch decided {
            case .success(let plan): planned.append((item.index, plan))
            case .failure(let failure): outcomes[item.index] = .failure(failure)
            }
        }
        let taken = try await Idempotency.taken(method: "payments.record", keys: planned.map { posts[$0.index].line.idempotencyKey }, on: tx)
        planned.removeAll { item in
            guard taken.contains(posts[item.index].line.idempotencyKey) else { return false }
            outcomes[item.index] = .failure(.conflict("the bank line was already posted (idempotency key \(posts[item.index].line.idempotencyKey))"))
            return true
        }
        let recorded = try await PaymentPosting.write(planned.map(\.plan), context: context, on: tx)
        guard !recorded.isEmpty else { return outcomes.map { $0! } }
        let done = zip(planned, recorded).map { (post: posts[$0.index], index: $0.index, recorded: $1) }
        let responses = done.map { $0.recorded.json }
        try await Idempotency.recordDone(method: "payments.record", entries: zip(done, responses).map { item, response in
            (item.post.line.idempotencyKey, Idempotency.requestHash(paymentParams(item.post)), response)
        }, context: context, on: tx)
        let reasons = done.map { JSONValue.array($0.post.reasons.map(JSONValue.string)) }
        try await markPosted(zip(done, reasons).map { ($0.post.line.id, $0.recorded.payment.id, $1) }, on: tx)
        var linked = Set<String>()
        let links = done.filter { item in
            guard let account = item.post.line.counterpartyAccount, !account.isEmpty else { return false }
            return linked.insert("\(item.post.customerID) \(account)").inserted
        }
        if !links.isEmpty {
            try await tx.query("""
                INSERT INTO customer_bank_accounts (customer_id, account, linked_from)
                SELECT * FROM unnest(\(PostgresArray(links.map(\.post.customerID)))::bigint[],
                                     \(PostgresArray(links.map { $0.post.line.counterpartyAccount }))::text[],
                                     \(PostgresArray(links.map(\.post.line.id)))::bigint[])
                ON CONFLICT DO NOTHING
                """)
        }
        let method = automatic ? "bank.auto_post" : "bank.match"
        try await Audit.record(zip(done, zip(responses, reasons)).flatMap { item, json in
            [Audit.Entry(method: "payments.record", entity: "payment", entityID: String(item.recorded.payment.id), after: json.0),
             Audit.Entry(method: method, entity: "bank_transaction", entityID: String(item.post.line.id),
                         details: ["payment_id": .id(item.recorded.payment.id), "customer_id": .id(item.post.customerID), "reasons": json.1])]
        }, context: context, on: tx)
        for item in done { outcomes[item.index] = .success(item.recorded.payment.id) }
        return outcomes.map { $0! }
    }
}

extension BankTransactionRecord {
    /// The day a credit is money: its value date, else its booking date.
    var receivedOn: PostgresDate { valueDate ?? bookingDate }
    /// The reference of the payment it becomes.
    var paymentReference: String { String((bankReference ?? "bank line \(id)").prefix(200)) }
    /// The idempotency key of the payment it becomes.
    var idempotencyKey: String { "bank-line-\(id)" }
}
