import AshraiCore
import AshraiProtocol
import Foundation
import Testing

@Suite("portfolios: who owns a customer")
struct OwnerTests {
    static let boss = (username: "boss", password: "collections admin password")

    @Test("a manager gives customers to an owner one by one and in bulk, each change audited; a clerk cannot; only an active user of the business owns; the list filters by owner; an import sets the owner by username")
    func owners() async throws {
        try await withCollections("owners") { port, client, database in
            let clerk = try await makeUser(port: port, role: .clerk, admin: Self.boss)
            let other = try await makeUser(port: port, role: .clerk, admin: Self.boss)
            let agent = try await makeUser(port: port, role: .agency, admin: Self.boss)
            let (alpha, beta, gamma) = (try await client.customer("Alpha Owned"), try await client.customer("Beta Owned"), try await client.customer("Gamma Owned"))
            let version = try #require(try await client.result("customers.get", ["id": alpha])["version"])
            let updated = try await client.result("customers.update", ["id": alpha, "version": version, "owner_id": .int(clerk.id)])
            #expect(updated["owner_id"] == .int(clerk.id))
            // Nobody but an active user of the business: not an agency login, not a disabled user, not an unknown id.
            _ = try await client.result("users.disable", ["id": .int(other.id)])
            for bad in [agent.id, other.id, 999_999] {
                let refused = try await client.call("customers.assign_owner", ["customer_ids": [beta], "owner_id": .int(bad)])
                #expect(refused["error"]?["code"] == -32602 && refused["error"]?["data"]?["field"] == "owner_id", "\(refused.encoded())")
            }
            _ = try await client.result("users.enable", ["id": .int(other.id)])
            // A customer that does not exist: named, and nothing moves.
            let missing = try await client.call("customers.assign_owner", ["customer_ids": [alpha, beta, 999_999], "owner_id": .int(other.id)])
            #expect(missing["error"]?["data"]?["field"] == "customer_ids" && (missing["error"]?["message"]?.stringValue ?? "").contains("999999"))
            #expect(try await client.result("customers.get", ["id": alpha])["owner_id"] == .int(clerk.id))
            // In bulk: three customers to the other clerk; the second time nothing changes.
            let moved = try await client.result("customers.assign_owner", ["customer_ids": [alpha, beta, gamma], "owner_id": .int(other.id)])
            #expect(moved["customers"] == 3 && moved["changed"] == 3)
            #expect(try await client.result("customers.assign_owner", ["customer_ids": [alpha, beta, gamma], "owner_id": .int(other.id)])["changed"] == 0)
            let audited = try await database.asSystem("""
                SELECT string_agg(entity_id || ':' || coalesce(before->>'owner_id', '-') || '>' || (after->>'owner_id'), ',' ORDER BY entity_id::bigint)
                FROM audit_log WHERE action = 'customers.assign_owner'
                """).scalar(String.self)
            let ids = [alpha, beta, gamma].compactMap(\.intValue)
            #expect(audited == "\(ids[0]):\(clerk.id)>\(other.id),\(ids[1]):->\(other.id),\(ids[2]):->\(other.id)")
            // The portfolio, and the unowned.
            let portfolio = try await client.result("customers.list", ["owner_id": .int(other.id)])["customers"]?.arrayValue ?? []
            #expect(portfolio.compactMap { $0["id"] } == [alpha, beta, gamma])
            _ = try await client.result("customers.assign_owner", ["customer_ids": [gamma], "owner_id": .null])
            let unowned = try await client.result("customers.list", ["unowned": true, "limit": 500])["customers"]?.arrayValue ?? []
            #expect(unowned.contains { $0["id"] == gamma } && !unowned.contains { $0["id"] == alpha })
            // A clerk edits contact data but does not hand out portfolios.
            try await LineClient.with(port: port) { clerkClient in
                try await clerkClient.login(clerk.username, clerk.password)
                let current = try #require(try await clerkClient.result("customers.get", ["id": beta])["version"])
                let take = try await clerkClient.call("customers.update", ["id": beta, "version": current, "owner_id": .int(clerk.id)])
                #expect(take["error"]?["code"] == 403)
                #expect(try await clerkClient.call("customers.assign_owner", ["customer_ids": [beta], "owner_id": .int(clerk.id)])["error"]?["code"] == 403)
                #expect(try await clerkClient.result("customers.update", ["id": beta, "version": current, "phone": "03-5550000"])["owner_id"] == .int(other.id))
            }
            // An import names the owner by username.
            let tag = Shared.unique("imported")
            let imported = try await client.result("customers.import", ["rows": [
                ["name": .string("\(tag) one"), "owner": .string(clerk.username.uppercased())],
                ["name": .string("\(tag) two"), "owner": "nobody-by-this-name"],
            ]])
            let results = imported["results"]?.arrayValue ?? []
            #expect(results.map { $0["ok"] } == [true, false])
            #expect(results.last?["error"]?["data"]?["field"] == "owner")
            let found = try await client.result("customers.list", ["query": .string(tag)])["customers"]?.arrayValue ?? []
            #expect(found.map { $0["owner_id"] } == [.int(clerk.id)])
        }
    }

    @Test("ashrai customers assign-owner gives customers to an owner or to nobody; ashrai customers list --owner shows the portfolio")
    func cli() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLI.binary.path), "build the ashrai product first")
        try await withCollections("owners_cli") { port, client, _ in
            let clerk = try await makeUser(port: port, role: .clerk, admin: Self.boss)
            let ids = [try await client.customer("Portfolio One"), try await client.customer("Portfolio Two")].compactMap(\.intValue).map(String.init)
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("cli")).path
            let cli = CLI(port: port, configHome: home)
            #expect(try await cli.run(["login", "--username", "boss", "--password-stdin"], stdin: "collections admin password\n").status == 0)
            let given = try await cli.run(["customers", "assign-owner"] + ids + ["--owner", String(clerk.id)])
            #expect(given.status == 0 && given.stdout.contains("2 of 2 customers given to user \(clerk.id)"), "\(given.stdout) \(given.stderr)")
            let listed = try await cli.run(["customers", "list", "--owner", String(clerk.id)])
            #expect(listed.status == 0 && listed.stdout.contains("Portfolio One") && listed.stdout.contains("Portfolio Two"), "\(listed.stdout)")
            let both = try await cli.run(["customers", "assign-owner", ids[0], "--owner", String(clerk.id), "--nobody"])
            #expect(both.status != 0 && both.stderr.contains("--nobody"))
            let freed = try await cli.run(["customers", "assign-owner", ids[0], "--nobody"])
            #expect(freed.status == 0 && freed.stdout.contains("given to nobody"), "\(freed.stdout) \(freed.stderr)")
            let unowned = try await cli.run(["customers", "list", "--unowned"])
            #expect(unowned.stdout.contains("Portfolio One") && !unowned.stdout.contains("Portfolio Two"), "\(unowned.stdout)")
        }
    }
}
