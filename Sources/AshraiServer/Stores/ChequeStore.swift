import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A cheque as stored (`cheques`), with the invoices it is meant for.
struct ChequeRecord: Decodable, Sendable {
    var id: Int64
    var customerID: Int64
    var number: String
    var bank: String
    var branch: String
    var account: String
    var amount: Decimal
    var currencyCode: String
    var receivedOn: PostgresDate
    var valueDate: PostgresDate
    var reference: String?
    var status: ChequeStatus
    var paymentID: Int64?
    var appliedOn: PostgresDate?
    var bankTransactionID: Int64?
    var bounceReason: String?
    var bouncedOn: PostgresDate?
    var createdAt: Date
    /// `invoice_id:amount` pairs, comma-separated (decoded by `invoices`).
    var meantFor: String?

    enum CodingKeys: String, CodingKey {
        case id, customerID = "customer_id", number, bank = "bank_code", branch, account, amount, currencyCode = "currency"
        case receivedOn = "received_on", valueDate = "value_date", reference, status, paymentID = "payment_id", appliedOn = "applied_on"
        case bankTransactionID = "bank_transaction_id", bounceReason = "bounce_reason", bouncedOn = "bounced_on", createdAt = "created_at"
        case meantFor = "meant_for"
    }

    var currency: Currency { Currency(code: currencyCode) ?? .ils }

    /// The invoices the cheque is meant for, with how much of it each.
    var invoices: [AllocationLine] {
        (meantFor ?? "").split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let id = Int64(parts[0]), let amount = Decimal(string: String(parts[1])) else { return nil }
            return AllocationLine(invoiceID: id, amount: amount)
        }
    }

    var json: JSONValue {
        [
            "id": .id(id), "customer_id": .id(customerID), "number": .string(number), "bank": .string(bank), "branch": .string(branch),
            "account": .string(account), "amount": .money(amount, currency), "currency": .string(currency.code),
            "received_on": .date(receivedOn), "value_date": .date(valueDate), "reference": .optional(reference),
            "status": .string(status.rawValue), "payment_id": paymentID.map(JSONValue.id) ?? .null, "applied_on": .date(appliedOn),
            "bank_transaction_id": bankTransactionID.map(JSONValue.id) ?? .null, "bounce_reason": .optional(bounceReason),
            "bounced_on": .date(bouncedOn), "created_at": .string(rfc3339(createdAt)),
            "invoices": .array(invoices.map { ["invoice_id": .id($0.invoiceID), "amount": .money($0.amount, currency)] }),
        ]
    }
}

/// Post-dated cheques: held, applied on their value date (or when the statement shows them
/// cleared) through `payments.record`'s own code, bounced. Every write locks the customer first,
/// then the cheque — the ledger's lock order.
enum ChequeStore {
    static let columns = """
        q.id, q.customer_id, q.number, q.bank_code, q.branch, q.account, q.amount, q.currency, q.received_on, q.value_date,
        q.reference, q.status, q.payment_id, q.applied_on, q.bank_transaction_id, q.bounce_reason, q.bounced_on, q.created_at,
        (SELECT string_agg(ci.invoice_id::text || ':' || ci.amount::text, ',' ORDER BY ci.invoice_id)
         FROM cheque_invoices ci WHERE ci.cheque_id = q.id) AS meant_for
        """

    /// One cheque (404 when there is none), optionally locked.
    static func load(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> ChequeRecord {
        guard let row = try await connection.query("""
            SELECT \(unescaped: columns) FROM cheques q WHERE q.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF q" : "")
            """).first else { throw RPCFailure.notFound("cheque") }
        return try row.decode(ChequeRecord.self)
    }

    /// The cheque locked for a write, in the ledger's lock order: its customer first, then the cheque.
    static func lock(_ id: Int64, on tx: PostgresConnection) async throws -> ChequeRecord {
        let customerID = try await load(id, on: tx).customerID
        _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
        return try await load(id, forUpdate: true, on: tx)
    }

    /// SQL that is true when a post-dated cheque meant for the invoice `invoice` (an SQL expression) is in hand:
    /// such an invoice is not dunned, and a letter about it is not sent.
    static func inHandSQL(invoice: String) -> String {
        "EXISTS (SELECT 1 FROM cheque_invoices ci JOIN cheques q ON q.id = ci.cheque_id WHERE ci.invoice_id = \(invoice) AND q.status = 'in_hand')"
    }

    /// The `cheque` param of `payments.record`, checked; nil when absent.
    static func details(_ params: Params, method: String) throws(RPCFailure) -> ChequeDetails? {
        guard let value = params.object["cheque"], !value.isNull else { return nil }
        guard method == PaymentMethod.cheque.rawValue else { throw RPCFailure.invalidParams("cheque", "cheque details go with method cheque") }
        guard case .object(let object) = value else {
            throw RPCFailure.invalidParams("cheque", "cheque must be an object {number, bank, branch, account, value_date}")
        }
        let cheque = Params(object)
        func field(_ name: String) throws(RPCFailure) -> String {
            do { return ChequeDetails.normalizedAccount(try cheque.string(name, maxLength: 40)) } catch {
                throw RPCFailure.invalidParams("cheque.\(name)", "cheque.\(name) is required (\(error.message))")
            }
        }
        let valueDate: PostgresDate
        do { valueDate = try cheque.date("value_date") } catch {
            throw RPCFailure.invalidParams("cheque.value_date", "cheque.value_date: \(error.message)")
        }
        let details = ChequeDetails(number: try field("number"), bank: try field("bank"), branch: try field("branch"),
                                    account: try field("account"), valueDay: valueDate.daysSinceEpoch)
        if let problem = details.problem { throw RPCFailure.invalidParams(problem.field, problem.message) }
        return details
    }

    /// Writes the cheque row (held: `payment_id` nil; else applied with its payment) and the invoices it is meant for.
    static func insert(_ details: ChequeDetails, customerID: Int64, amount: Decimal, currency: Currency, receivedOn: PostgresDate,
                       reference: String?, meantFor: [AllocationLine], paymentID: Int64?, context: CallContext,
                       on tx: PostgresConnection) async throws -> Int64 {
        let valueDate = PostgresDate(daysSinceEpoch: details.valueDay)
        // The same cheque twice is a typing mistake or a copy: refused (and an idempotency key remembers the refusal).
        if try await tx.query("""
            SELECT 1 FROM cheques WHERE bank_code = \(details.bank) AND branch = \(details.branch) AND account = \(details.account)
              AND number = \(details.number) AND status <> 'cancelled'
            """).first != nil {
            throw RPCFailure.conflict("cheque \(details.number) of bank \(details.bank), branch \(details.branch), account \(details.account) is already recorded",
                                      data: ["field": "cheque"])
        }
        let status: ChequeStatus = paymentID == nil ? .inHand : .applied
        let id = try await tx.query("""
            INSERT INTO cheques (customer_id, number, bank_code, branch, account, amount, currency, received_on, value_date, reference,
                                 status, payment_id, applied_on, created_by)
            VALUES (\(customerID), \(details.number), \(details.bank), \(details.branch), \(details.account), \(amount), \(currency.code),
                    \(receivedOn), \(valueDate), \(reference), \(status.rawValue), \(paymentID), \(paymentID == nil ? nil : receivedOn),
                    \(context.session?.userID))
            RETURNING id
            """).scalar(Int64.self)
        for line in meantFor where line.amount > 0 {
            try await tx.query("INSERT INTO cheque_invoices (cheque_id, invoice_id, amount) VALUES (\(id), \(line.invoiceID), \(line.amount))")
        }
        return id
    }

    /// Applies a held cheque: it becomes a payment (received on its value date, or the day the bank
    /// credited it when that came first), allocated to the invoices it was meant for as far as they
    /// are still open (else oldest first). Nil when it is no longer in hand (another daemon, or a
    /// statement, applied it first). `bankLineID`: the statement line that shows it cleared.
    @discardableResult
    static func apply(_ id: Int64, clearedOn: PostgresDate? = nil, bankLineID: Int64? = nil, services: Services, context: CallContext,
                      on tx: PostgresConnection) async throws -> Int64? {
        let cheque = try await lock(id, on: tx)
        let customerID = cheque.customerID
        guard cheque.status == .inHand else { return nil }
        let open = try await PaymentMethods.openInvoices(customerID: customerID, currency: cheque.currency, on: tx)
        let openAmounts = Dictionary(uniqueKeysWithValues: open.map { ($0.id, $0.amount - $0.settled - $0.writtenOff) })
        let lines = Cheques.linesAtApplication(planned: cheque.invoices, openAmounts: openAmounts)
        let receivedOn = clearedOn.map { min($0.daysSinceEpoch, cheque.valueDate.daysSinceEpoch) }.map(PostgresDate.init(daysSinceEpoch:))
            ?? cheque.valueDate
        var params: JSONObject = [
            "customer_id": .id(customerID), "amount": .money(cheque.amount, cheque.currency), "currency": .string(cheque.currency.code),
            "method": .string(PaymentMethod.cheque.rawValue), "received_on": .date(receivedOn),
            "reference": .string(cheque.reference ?? "cheque \(cheque.number) (bank \(cheque.bank), branch \(cheque.branch), account \(cheque.account))"),
            "idempotency_key": .string("cheque-\(id)"),
        ]
        if !lines.isEmpty {
            params["allocations"] = .array(lines.map { ["invoice_id": .id($0.invoiceID), "amount": .money($0.amount, cheque.currency)] })
        }
        let payment = try await PaymentMethods.record(services: services, context: context, params: Params(params), joining: tx)
        guard let paymentID = payment["payment"]?["id"]?.intValue.map(Int64.init) else { throw RPCFailure(.internalError, "the payment was not recorded") }
        try await tx.query("""
            UPDATE cheques SET status = 'applied', payment_id = \(paymentID), applied_on = \(services.today()),
                bank_transaction_id = coalesce(\(bankLineID), bank_transaction_id)
            WHERE id = \(id)
            """)
        try await Audit.record(tx, context: context, method: "cheques.apply", entity: "cheque", entityID: String(id),
                               details: ["payment_id": .id(paymentID), "customer_id": .id(customerID),
                                         "bank_transaction_id": bankLineID.map(JSONValue.id) ?? .null])
        return paymentID
    }

    /// Applies every held cheque whose value date is `asOf` or before (oldest first); the customers paid.
    /// Safe on several daemons: each cheque is decided under its customer's lock and applied once.
    static func applyDue(asOf: PostgresDate, services: Services, context: CallContext, on tx: PostgresConnection) async throws -> Set<Int64> {
        let due = try await tx.query("""
            SELECT id, customer_id FROM cheques WHERE status = 'in_hand' AND value_date <= \(asOf) ORDER BY value_date, id LIMIT 10000
            """).map { (try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)) }
        var paid: Set<Int64> = []
        for (id, customerID) in due where try await apply(id, services: services, context: context, on: tx) != nil {
            paid.insert(customerID)
        }
        return paid
    }

    /// The new credits of a statement that are held cheques being paid in: a held cheque is applied
    /// (with the line), one already applied on its value date gets the line as its confirmation. The
    /// lines so posted (by id) and the customers paid.
    static func clearFromStatement(_ lines: [BankTransactionRecord], services: Services, context: CallContext,
                                   on tx: PostgresConnection) async throws -> (lines: Set<Int64>, customers: Set<Int64>) {
        let credits = lines.filter { $0.amount > 0 && $0.currency == services.settings.currency.code }
        guard !credits.isEmpty else { return ([], []) }
        // Held cheques, and applied ones no statement has confirmed yet (applied on their value date in the last 90 days).
        var held = try await tx.query("""
            SELECT q.id, q.number, q.amount, q.value_date, q.status, q.payment_id, q.customer_id FROM cheques q
            WHERE (q.status = 'in_hand' OR (q.status = 'applied' AND q.bank_transaction_id IS NULL AND q.value_date >= \(services.today())::date - 90))
              AND q.currency = \(services.settings.currency.code)
            """).map { row in
            (held: Cheques.Held(id: try row.decode(Int64.self, column: "id"), number: try row.decode(String.self, column: "number"),
                                amount: try row.decode(Decimal.self, column: "amount"),
                                valueDay: try row.decode(PostgresDate.self, column: "value_date").daysSinceEpoch),
             paymentID: try row.decode(Int64?.self, column: "payment_id"), customerID: try row.decode(Int64.self, column: "customer_id"))
        }
        var posted: Set<Int64> = []
        var customers: Set<Int64> = []
        for line in credits {
            let text = [line.remittance, line.bankReference, line.counterpartyName].compactMap { $0 }.joined(separator: " ")
            guard let match = Cheques.cleared(amount: line.amount, text: text, bookingDay: line.bookingDate.daysSinceEpoch,
                                              held: held.map(\.held)),
                  let index = held.firstIndex(where: { $0.held.id == match.id }) else { continue }
            let entry = held.remove(at: index)
            let paymentID: Int64
            if let existing = entry.paymentID {
                paymentID = existing
                try await tx.query("UPDATE cheques SET bank_transaction_id = \(line.id) WHERE id = \(match.id)")
            } else {
                guard let applied = try await apply(match.id, clearedOn: line.valueDate ?? line.bookingDate, bankLineID: line.id,
                                                    services: services, context: context, on: tx) else { continue }
                paymentID = applied
            }
            let why: JSONValue = .array([.string("cheque \(match.number) of \(Money(match.amount, services.settings.currency).text) paid in")])
            try await BankPosting.markPosted([(line.id, paymentID, why)], on: tx)
            try await Audit.record(tx, context: context, method: "bank.cheque_cleared", entity: "bank_transaction", entityID: String(line.id),
                                   details: ["payment_id": .id(paymentID), "cheque_id": .id(match.id), "customer_id": .id(entry.customerID)])
            posted.insert(line.id)
            customers.insert(entry.customerID)
        }
        return (posted, customers)
    }
}

/// A payment the bank brought back — a bounced cheque (שיק חוזר), a returned transfer, a
/// charge-back — or a held cheque that bounced: one path for `bank.reverse` and `cheques.bounce`.
/// The payment is reversed through `payments.reverse`'s code and marked returned (the payment-history
/// score counts it), its cheque is bounced, the customer's log says so, and the bank's fee is
/// charged as an invoice of its own when `bank.returnFee` (or the caller's `fee`) says so.
enum PaymentReturns {
    struct Outcome {
        var paymentID: Int64?
        var feeInvoiceID: Int64?
        var interactionID: Int64
    }

    static func record(customerID: Int64, paymentID: Int64?, chequeID: Int64?, reason: String, fee: Decimal?, services: Services,
                       context: CallContext, on tx: PostgresConnection) async throws -> Outcome {
        let today = services.today()
        let currency = services.settings.currency
        var what: String
        if let paymentID {
            let payment = try await PaymentStore.load(paymentID, on: tx)
            _ = try await PaymentMethods.reverse(services: services, context: context,
                                                 params: Params(["id": .id(paymentID), "reason": .string(String(reason.prefix(2000)))]), joining: tx)
            try await tx.query("UPDATE payments SET returned_on = \(today) WHERE id = \(paymentID)")
            what = "Payment #\(paymentID) of \(Money(payment.amount, payment.currency).text) was returned by the bank (\(reason)); it is reversed and its invoices are open again"
        } else {
            what = "A cheque in hand bounced (\(reason))"
        }
        if let chequeID {
            try await tx.query("""
                UPDATE cheques SET status = 'bounced', bounce_reason = \(String(reason.prefix(2000))), bounced_on = \(today) WHERE id = \(chequeID)
                """)
            let cheque = try await ChequeStore.load(chequeID, on: tx)
            what += "; cheque \(cheque.number) (bank \(cheque.bank), branch \(cheque.branch)) — שיק חוזר"
        }
        var feeInvoiceID: Int64?
        if let fee = fee ?? services.settings.bankReturnFee, fee > 0 {
            let number = paymentID.map { "FEE-P\($0)" } ?? "FEE-C\(chequeID ?? 0)"
            if try await tx.query("SELECT 1 FROM invoices WHERE number_key = \(number.lowercased())").first == nil {
                let terms = try await CreditMethods.termsInForce(customerID: customerID, services: services, on: tx)
                let id = try await InvoiceMethods.insertRow(
                    customerID: customerID, number: number, issueDate: today, dueDate: today, amount: fee, currency: currency,
                    description: "Bank fee for a returned payment\(paymentID.map { " (#\($0))" } ?? "") — עמלת החזר",
                    terms: terms, overrideReason: nil, context: context, on: tx)
                try await Audit.record(tx, context: context, method: "payments.return_fee", entity: "invoice", entityID: String(id),
                                       after: try await InvoiceStore.load(id, on: tx).json)
                feeInvoiceID = id
                what += "; the bank's fee of \(Money(fee, currency).text) is charged as invoice \(number)"
            }
        }
        let interactionID = try await InteractionMethods.insert(
            customerID: customerID, kind: .note, channelDetail: "bank", occurredAt: nil, summary: String(what.prefix(2000)),
            outcome: "payment_returned", reason: nil, invoiceIDs: [], correctsID: nil, letterID: nil, context: context, on: tx)
        return Outcome(paymentID: paymentID, feeInvoiceID: feeInvoiceID, interactionID: interactionID)
    }
}
