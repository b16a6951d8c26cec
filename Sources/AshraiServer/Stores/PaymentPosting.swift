import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// An allocation line as stored.
struct AllocationRecord: Decodable, Sendable {
    var id: Int64
    var paymentID: Int64
    var invoiceID: Int64
    var amount: Decimal
    var discount: Decimal
    var appliedOn: PostgresDate
    var reversed: Bool

    enum CodingKeys: String, CodingKey {
        case id, paymentID = "payment_id", invoiceID = "invoice_id", amount, discount, appliedOn = "applied_on", reversed
    }

    static let columns = "a.id, a.payment_id, a.invoice_id, a.amount, a.discount, a.applied_on, a.reversed_at IS NOT NULL AS reversed"

    var json: JSONValue {
        ["id": .id(id), "payment_id": .id(paymentID), "invoice_id": .id(invoiceID), "amount": .money(amount),
         "discount": .money(discount), "applied_on": .date(appliedOn), "reversed": .bool(reversed)]
    }
}

/// `payments.record`'s core, for one payment or a thousand in the same few statements: the
/// customers are locked in id order (the ledger's lock order, and two batches never deadlock),
/// their open invoices locked and read once, each payment allocated in memory by `Allocator` in
/// the order given (a second payment of the same customer sees what the first settled), and the
/// payments, allocation lines and invoice totals written by one `INSERT … FROM unnest(…)` or
/// `UPDATE … FROM unnest(…)` each. A refusal (an unknown customer, an allocation the invoices do
/// not allow) is decided before anything is written, so it writes nothing.
///
/// Two steps, so a caller can act between the decision and the write (the bank import claims
/// its idempotency keys there): `plan`, then `write`.
enum PaymentPosting {
    /// A payment to record, as `payments.record`'s params say.
    struct Request: Sendable {
        var customerID: Int64
        var amount: Decimal
        var currency: Currency
        var method: PaymentMethod
        var receivedOn: PostgresDate
        var reference: String?
        /// The allocation asked for, or nil for oldest due first.
        var requested: [AllocationLine]?
        var viaAssignment: Int64?
    }

    /// A request decided: its lines and what stays unapplied.
    struct Plan: Sendable {
        var request: Request
        var lines: [AllocationLine]
        var unapplied: Decimal
    }

    /// A payment written, with its allocation lines, as every payment method returns it.
    struct Recorded: Sendable {
        var payment: PaymentRecord
        var allocations: [AllocationRecord]

        var json: JSONValue { PaymentMethods.result(payment, allocations) }
    }

    /// Locks the requests' customers, reads their open invoices, and decides each request in order.
    static func plan(_ requests: [Request], on tx: PostgresConnection) async throws -> [Result<Plan, RPCFailure>] {
        guard !requests.isEmpty else { return [] }
        let customerIDs = Array(Set(requests.map(\.customerID))).sorted()
        let found = Set(try await tx.query("""
            SELECT id FROM customers WHERE id = ANY(\(PostgresArray(customerIDs))::bigint[]) ORDER BY id FOR UPDATE
            """).map { try $0.decode(Int64.self, at: 0) })
        let viaIDs = requests.compactMap(\.viaAssignment)
        var assignmentCustomer: [Int64: Int64] = [:]
        if !viaIDs.isEmpty {
            for row in try await tx.query("""
                SELECT id, customer_id FROM assignments WHERE id = ANY(\(PostgresArray(viaIDs))::bigint[]) AND status = 'active'
                """) { assignmentCustomer[try row.decode(Int64.self, column: "id")] = try row.decode(Int64.self, column: "customer_id") }
        }
        var invoices = try await openInvoices(customerIDs: customerIDs.filter(found.contains), on: tx)
        return requests.map { request -> Result<Plan, RPCFailure> in
            guard found.contains(request.customerID) else { return .failure(.notFound("customer")) }
            if let via = request.viaAssignment, assignmentCustomer[via] != request.customerID {
                return .failure(.invalidParams("via_assignment_id", "via_assignment_id must be an active assignment of this customer"))
            }
            let owner = Owner(customerID: request.customerID, currency: request.currency.code)
            let allocation: (lines: [AllocationLine], unapplied: Decimal)
            do throws(AllocationError) {
                allocation = try Allocator.allocate(request.amount, to: invoices[owner] ?? [], onDay: request.receivedOn.daysSinceEpoch,
                                                    requested: request.requested)
            } catch {
                return .failure(PaymentMethods.failure(error))
            }
            // What this payment settles, the next one of the same customer does not see as open.
            for line in allocation.lines {
                guard let position = invoices[owner]?.firstIndex(where: { $0.id == line.invoiceID }) else { continue }
                invoices[owner]![position].settled += line.amount + line.discount
            }
            return .success(Plan(request: request, lines: allocation.lines, unapplied: allocation.unapplied))
        }
    }

    /// Writes decided payments (in one transaction with `plan`, whose locks they need): the
    /// payments, their allocation lines and the invoices' new totals. Returns them in order.
    static func write(_ plans: [Plan], context: CallContext, on tx: PostgresConnection) async throws -> [Recorded] {
        guard !plans.isEmpty else { return [] }
        let paymentIDs = try await nextIDs(table: "payments", count: plans.count, on: tx)
        let createdAt = try await tx.query("SELECT now()").scalar(Date.self)
        let userID = context.session?.userID
        func column(_ value: (Plan) -> String?) -> PostgresArray { PostgresArray(plans.map(value)) }
        try await tx.query("""
            INSERT INTO payments (id, customer_id, amount, currency, method, received_on, reference, unapplied, created_by, via_assignment_id)
            OVERRIDING SYSTEM VALUE
            SELECT p.id, p.customer_id, p.amount, p.currency, p.method, p.received_on, p.reference, p.unapplied, \(userID), p.via
            FROM unnest(\(PostgresArray(paymentIDs))::bigint[], \(column { String($0.request.customerID) })::bigint[],
                        \(column { PostgresNumeric.text(of: $0.request.amount) })::numeric[], \(column { $0.request.currency.code })::text[],
                        \(column { $0.request.method.rawValue })::text[], \(column { $0.request.receivedOn.description })::date[],
                        \(column { $0.request.reference })::text[], \(column { PostgresNumeric.text(of: $0.unapplied) })::numeric[],
                        \(column { $0.request.viaAssignment.map { String($0) } })::bigint[])
                 AS p(id, customer_id, amount, currency, method, received_on, reference, unapplied, via)
            """)
        let lines = zip(plans, paymentIDs).flatMap { plan, paymentID in
            plan.lines.map { (paymentID: paymentID, line: $0, appliedOn: plan.request.receivedOn) }
        }
        let allocations = try await insertAllocations(lines, context: context, on: tx)
        try await settle(lines.map(\.line), on: tx)
        var byPayment: [Int64: [AllocationRecord]] = [:]
        for allocation in allocations { byPayment[allocation.paymentID, default: []].append(allocation) }
        return zip(plans, paymentIDs).map { plan, id in
            let request = plan.request
            return Recorded(payment: PaymentRecord(id: id, customerID: request.customerID, amount: request.amount, currencyCode: request.currency.code,
                                                   method: request.method, receivedOn: request.receivedOn, reference: request.reference,
                                                   unapplied: plan.unapplied, status: .recorded, viaAssignmentID: request.viaAssignment,
                                                   reverseReason: nil, createdAt: createdAt),
                            allocations: byPayment[id] ?? [])
        }
    }

    /// Allocation lines of existing or new payments, written at once; they are returned as stored.
    static func insertAllocations(_ lines: [(paymentID: Int64, line: AllocationLine, appliedOn: PostgresDate)], context: CallContext,
                                  on tx: PostgresConnection) async throws -> [AllocationRecord] {
        guard !lines.isEmpty else { return [] }
        let ids = try await nextIDs(table: "allocations", count: lines.count, on: tx)
        func column(_ value: ((paymentID: Int64, line: AllocationLine, appliedOn: PostgresDate)) -> String) -> PostgresArray {
            PostgresArray(lines.map(value))
        }
        try await tx.query("""
            INSERT INTO allocations (id, payment_id, invoice_id, amount, discount, applied_on, created_by)
            OVERRIDING SYSTEM VALUE
            SELECT a.id, a.payment_id, a.invoice_id, a.amount, a.discount, a.applied_on, \(context.session?.userID)
            FROM unnest(\(PostgresArray(ids))::bigint[], \(column { String($0.paymentID) })::bigint[], \(column { String($0.line.invoiceID) })::bigint[],
                        \(column { PostgresNumeric.text(of: $0.line.amount) })::numeric[], \(column { PostgresNumeric.text(of: $0.line.discount) })::numeric[],
                        \(column { $0.appliedOn.description })::date[])
                 AS a(id, payment_id, invoice_id, amount, discount, applied_on)
            """)
        return zip(ids, lines).map { id, item in
            AllocationRecord(id: id, paymentID: item.paymentID, invoiceID: item.line.invoiceID, amount: item.line.amount,
                             discount: item.line.discount, appliedOn: item.appliedOn, reversed: false)
        }
    }

    /// Moves cash and discount onto (or, negative, off) invoices and recomputes their status; an
    /// invoice named twice moves by the sum.
    static func settle(_ lines: [AllocationLine], on tx: PostgresConnection) async throws {
        var total: [Int64: (cash: Decimal, discount: Decimal)] = [:]
        for line in lines {
            let sum = total[line.invoiceID] ?? (0, 0)
            total[line.invoiceID] = (sum.cash + line.amount, sum.discount + line.discount)
        }
        guard !total.isEmpty else { return }
        let ids = total.keys.sorted()
        try await tx.query("""
            UPDATE invoices i SET paid_amount = i.paid_amount + d.cash, discount_amount = i.discount_amount + d.discount,
                status = invoice_settlement_status(i.amount, i.paid_amount + d.cash, i.discount_amount + d.discount,
                                                   i.written_off_amount, i.credited_amount)
            FROM unnest(\(PostgresArray(ids))::bigint[], \(PostgresArray(ids.map { total[$0]!.cash }))::numeric[],
                        \(PostgresArray(ids.map { total[$0]!.discount }))::numeric[]) AS d(id, cash, discount)
            WHERE i.id = d.id
            """)
    }

    /// A customer's invoices in one currency.
    struct Owner: Hashable {
        var customerID: Int64
        var currency: String
    }

    /// Loads and locks the open invoices of `customerIDs` (whose rows the caller has locked), by customer and currency.
    static func openInvoices(customerIDs: [Int64], on tx: PostgresConnection) async throws -> [Owner: [OpenInvoice]] {
        guard !customerIDs.isEmpty else { return [:] }
        var invoices: [Owner: [OpenInvoice]] = [:]
        for row in try await tx.query("""
            SELECT id, customer_id, currency, issue_date, due_date, amount, paid_amount + discount_amount AS settled,
                   written_off_amount + credited_amount AS written_off_amount, early_discount_rate, early_discount_days
            FROM invoices
            WHERE customer_id = ANY(\(PostgresArray(customerIDs))::bigint[]) AND status IN (\(unescaped: InvoiceStatus.owingSQL))
            ORDER BY id FOR UPDATE
            """) {
            let owner = Owner(customerID: try row.decode(Int64.self, column: "customer_id"), currency: try row.decode(String.self, column: "currency"))
            invoices[owner, default: []].append(OpenInvoice(
                id: try row.decode(Int64.self, column: "id"),
                issueDay: try row.decode(PostgresDate.self, column: "issue_date").daysSinceEpoch,
                dueDay: try row.decode(PostgresDate.self, column: "due_date").daysSinceEpoch,
                amount: try row.decode(Decimal.self, column: "amount"),
                settled: try row.decode(Decimal.self, column: "settled"),
                writtenOff: try row.decode(Decimal.self, column: "written_off_amount"),
                discountRate: try row.decode(Decimal?.self, column: "early_discount_rate"),
                discountDays: try row.decode(Int?.self, column: "early_discount_days")))
        }
        return invoices
    }

    /// `count` ids drawn from `table`'s identity sequence (granted in 0019_bulk_payments.sql).
    static func nextIDs(table: String, count: Int, on tx: PostgresConnection) async throws -> [Int64] {
        try await tx.query("""
            SELECT nextval(pg_get_serial_sequence(\(table), 'id')) FROM generate_series(1, \(count))
            """).map { try $0.decode(Int64.self, at: 0) }
    }
}

extension PostgresArray {
    /// Ids (or other integers) as an array parameter.
    init(_ values: [Int64]) { self.init(values.map { String($0) }) }

    /// Amounts as a `numeric[]` parameter.
    init(_ values: [Decimal]) { self.init(values.map { PostgresNumeric.text(of: $0) }) }
}
