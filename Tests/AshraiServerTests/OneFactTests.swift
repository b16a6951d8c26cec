import AshraiCore
import AshraiProtocol
import AshraiServer
import Foundation
import Postgres
import Testing

@Suite("one fact in one place")
struct OneFactTests {
    /// Every CHECK list of values in the schema, and the Swift enumeration that writes the column.
    static let enumerations: [(table: String, column: String, values: [String])] = [
        ("users", "role", Role.allCases.map(\.rawValue)),
        ("customers", "status", CustomerStatus.allCases.map(\.rawValue)),
        ("customers", "preferred_channel", ContactChannel.allCases.map(\.rawValue)),
        ("customers", "language", Language.allCases.map(\.rawValue)),
        ("customers", "grade", Grade.allCases.map(\.rawValue)),
        ("customer_contacts", "preferred_channel", ContactChannel.allCases.map(\.rawValue)),
        ("credit_references", "kind", ReferenceKind.allCases.map(\.rawValue)),
        ("credit_assessments", "grade", Grade.allCases.map(\.rawValue)),
        ("credit_reviews", "grade", Grade.allCases.map(\.rawValue)),
        ("credit_terms", "terms_basis", TermsBasis.allCases.map(\.rawValue)),
        ("invoices", "status", InvoiceStatus.allCases.map(\.rawValue)),
        ("invoices", "terms_basis", TermsBasis.allCases.map(\.rawValue)),
        ("payments", "method", PaymentMethod.allCases.map(\.rawValue)),
        ("payments", "status", PaymentStatus.allCases.map(\.rawValue)),
        ("interactions", "kind", InteractionKind.allCases.map(\.rawValue)),
        ("disputes", "status", DisputeStatus.allCases.map(\.rawValue)),
        ("disputes", "resolution", DisputeResolution.allCases.map(\.rawValue)),
        ("letters", "status", LetterStatus.allCases.map(\.rawValue)),
        ("letters", "action", Dunning.Action.allCases.filter { $0 != .call }.map(\.rawValue)),
        ("letters", "kind", LetterKind.allCases.map(\.rawValue)),
        ("dunning_steps", "action", Dunning.Action.allCases.map(\.rawValue)),
        ("plans", "status", PlanStatus.allCases.map(\.rawValue)),
        ("plans", "frequency", InstallmentPlan.Frequency.allCases.map(\.rawValue)),
        ("assignments", "status", AssignmentStatus.allCases.map(\.rawValue)),
        ("training_courses", "topic", TrainingTopic.allCases.map(\.rawValue)),
        ("training_courses", "required_for_roles", Role.staff.map(\.rawValue)),
        ("messages", "channel", MessageChannel.allCases.map(\.rawValue)),
        ("messages", "state", MessageState.allCases.map(\.rawValue)),
        ("bank_statements", "format", BankStatementFormat.allCases.map(\.rawValue)),
        ("bank_transactions", "status", BankTransactionStatus.allCases.map(\.rawValue)),
        ("cheques", "status", ChequeStatus.allCases.map(\.rawValue)),
        ("tasks", "kind", TaskKind.allCases.map(\.rawValue)),
        ("tasks", "state", TaskState.allCases.map(\.rawValue)),
        ("events", "topic", EventTopic.allCases.map(\.rawValue)),
    ]

    @Test("every CHECK list of values names exactly the Swift enumeration's cases, and every such CHECK is listed here")
    func checksMatchEnums() async throws {
        _ = try await Shared.database.value
        let owner = try await Shared.ownerClient.value
        // CHECK constraints on one column comparing it with a list of literals.
        let rows = try await owner.query("""
            SELECT t.relname AS table_name, a.attname AS column_name, pg_get_constraintdef(c.oid) AS definition
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'c' AND n.nspname = 'public' AND cardinality(c.conkey) = 1
              AND pg_get_constraintdef(c.oid) LIKE '%ARRAY[%'
            ORDER BY 1, 2
            """)
        var found: [String: Set<String>] = [:]
        for row in rows {
            let key = try row.decode(String.self, column: "table_name") + "." + (try row.decode(String.self, column: "column_name"))
            let definition = try row.decode(String.self, column: "definition")
            // CHECK ((status = ANY (ARRAY['open'::text, 'paid'::text])))
            let values = definition.split(separator: "'", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
            found[key, default: []].formUnion(values)
        }
        let expected = Dictionary(Self.enumerations.map { ("\($0.table).\($0.column)", Set($0.values)) }, uniquingKeysWith: { $0.union($1) })
        for (key, values) in expected {
            #expect(found[key] == values, "\(key): the database allows \(found[key].map { $0.sorted() } ?? []), Swift has \(values.sorted())")
        }
        for key in found.keys where expected[key] == nil {
            Issue.record("\(key) has a CHECK list with no Swift enumeration named in OneFactTests.enumerations")
        }
    }

    @Test("the aging statement's SQL buckets days past due exactly as AgingBuckets.index does")
    func agingBucketsAgree() async throws {
        _ = try await Shared.database.value
        let owner = try await Shared.ownerClient.value
        for buckets in [AgingBuckets.standard, AgingBuckets([7, 14])!, AgingBuckets([1])!] {
            let expression = AgingStore.bucketSQL(days: "d", bounds: buckets.bounds.map { String($0) })
            let rows = try await owner.query(PostgresQuery(unsafeSQL: "SELECT d, \(expression) AS bucket FROM generate_series(-5, 200) d"))
            for row in rows {
                let days = try row.decode(Int.self, column: "d")
                #expect(try row.decode(Int.self, column: "bucket") == buckets.index(daysPastDue: days), "\(buckets.bounds) at \(days) days")
            }
        }
    }

    struct RolledBack: Error {}

    @Test("the SQL invoice_open_amount and InvoiceBalance.open agree on the same rows")
    func openAmountAgrees() async throws {
        _ = try await Shared.database.value
        let owner = try await Shared.ownerClient.value
        let cases: [InvoiceBalance] = [
            InvoiceBalance(amount: 1000),
            InvoiceBalance(amount: 1000, paid: Decimal(string: "250.50")!, status: .partiallyPaid),
            InvoiceBalance(amount: 1000, paid: 980, discount: 20, status: .paid),
            InvoiceBalance(amount: 1000, paid: 100, writtenOff: 900, status: .writtenOff),
            InvoiceBalance(amount: 1000, paid: 100, credited: 400, status: .partiallyPaid),
            InvoiceBalance(amount: 1000, status: .void),
        ]
        var fromSQL: [Decimal] = []
        // Real rows in a transaction that is rolled back: the function reads an `invoices` row.
        do {
        try await owner.withTransaction { tx in
            let customer = try await tx.query("INSERT INTO customers (name) VALUES ('open amount fixture') RETURNING id").scalar(Int64.self)
            for (index, balance) in cases.enumerated() {
                let id = try await tx.query("""
                        INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, status, paid_amount,
                                              discount_amount, written_off_amount, credited_amount, terms_version, credit_limit,
                                              net_days, late_interest_rate)
                        VALUES (\(customer), \("OPEN-FIXTURE-\(index)-\(UInt32.random(in: 0...UInt32.max))"), DATE '2026-01-01', DATE '2026-01-31',
                                \(balance.amount), 'ILS', \(balance.status.rawValue), \(balance.paid), \(balance.discount), \(balance.writtenOff),
                                \(balance.credited), 0, 0, 30, 0)
                        RETURNING id
                    """).scalar(Int64.self)
                fromSQL.append(try await tx.query("SELECT invoice_open_amount(i) FROM invoices i WHERE i.id = \(id)").scalar(Decimal.self))
            }
            throw RolledBack()
        }
        } catch is RolledBack {}
        #expect(fromSQL == cases.map(\.open))
    }
}
