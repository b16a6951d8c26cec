import AshraiCore
import AshraiProtocol
@testable import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("upgrades")
struct UpgradeTests {
    @Test("a business dunning on the shipped default keeps its levels when the default gains a call level; one that never dunned gets the new default")
    func defaultPolicyKept() async throws {
        // The schema as it was before call levels (migrations up to 0021).
        let all = URL(fileURLWithPath: TestDatabase.migrationsDirectory)
        let before = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("sql"))
        try FileManager.default.createDirectory(at: before, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: all.path) where name.hasSuffix(".sql") && name < "0022" {
            try FileManager.default.copyItem(at: all.appendingPathComponent(name), to: before.appendingPathComponent(name))
        }
        for dunned in [true, false] {
            let database = try await TestDatabase.create(dunned ? "upgrade_dunned" : "upgrade_fresh")
            _ = try await DatabaseSetup.migrate(migrationURL: database.ownerURL, applicationURL: database.applicationURL,
                                                migrationsDirectory: before.path, logger: makeTestLogger())
            let owner = PostgresClient(configuration: database.ownerConfiguration, maxConnections: 1, logger: makeTestLogger())
            if dunned {
                try await owner.withTransaction { tx in
                    let customer = try await tx.query("INSERT INTO customers (code, name) VALUES ('U1', 'Upgraded Ltd') RETURNING id").scalar(Int64.self)
                    try await tx.query("""
                        INSERT INTO credit_terms (customer_id, version, credit_limit, net_days, late_interest_rate, currency, reason)
                        VALUES (\(customer), 1, 10000, 30, 0, 'ILS', 'test')
                        """)
                    let invoice = try await tx.query("""
                        INSERT INTO invoices (customer_id, number, issue_date, due_date, amount, currency, terms_version, credit_limit, net_days, late_interest_rate)
                        VALUES (\(customer), 'U-1', '2026-01-01', '2026-01-31', 100, 'ILS', 1, 10000, 30, 0) RETURNING id
                        """).scalar(Int64.self)
                    let run = try await tx.query("INSERT INTO dunning_runs (as_of, policy_version) VALUES ('2026-02-03', 0) RETURNING id").scalar(Int64.self)
                    try await tx.query("""
                        INSERT INTO dunning_steps (invoice_id, level, run_id, action, as_of) VALUES (\(invoice), 1, \(run), 'reminder', '2026-02-03')
                        """)
                }
            }
            _ = try await DatabaseSetup.migrate(migrationURL: database.ownerURL, applicationURL: database.applicationURL,
                                                migrationsDirectory: all.path, logger: makeTestLogger())
            let stored = try await owner.query("SELECT version, levels FROM dunning_policies ORDER BY version")
            if dunned {
                #expect(stored.count == 1)
                let levels = try DunningPolicy.levels(from: try #require(stored.first).decode(JSONValue.self, column: "levels"))
                #expect(levels.map(\.action) == [.reminder, .letter, .final_notice, .hold, .refer_to_agency])
                #expect(levels.map(\.daysOverdue) == [3, 15, 30, 45, 60] && levels[2].fee == 25)
            } else {
                #expect(stored.count == 0)   // the shipped default (with its call) applies
            }
            await owner.shutdown()
        }
    }
}
