import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import NIOCore
import Postgres
import Testing

/// What a hostile or careless client could do, each kept out by a test (issue "Hardening").
@Suite("hardening: limits a client cannot pass")
struct HardeningLimitTests {
    @Test("before login rpc.discover is small (only what can be called), a big batch is refused whole, other methods are 401")
    func preLogin() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                let small = try await client.call("rpc.discover")
                let names = small["result"]?["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                #expect(Set(names) == OpenRPCDocument.preLoginMethods)
                #expect(small.encoded().utf8.count < 16_384)
                // The amplification: one short line (under 16 KiB) asking for 300 documents.
                let batch = "[" + (1...300).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"rpc.discover"}"# }.joined(separator: ",") + "]"
                try await client.send(batch)
                let refused = try #require(try await client.receive())
                #expect(refused.errorCode == -32600 && refused["error"]?["message"]?.stringValue?.contains("batch too large") == true)
                #expect(try await client.call("customers.list").errorCode == 401)
            }
        }
    }

    @Test("a reply longer than the limit is not built: -32603 in its place, and a batch stops there, saying which requests did not run")
    func replyBound() async throws {
        var settings = ServerSettings()
        settings.maxReplyBytes = 64 << 10
        let admin = try await Shared.admin.value
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                let full = try await client.call("rpc.discover")   // ~150 KB in full
                #expect(full.errorCode == -32603 && full["error"]?["message"]?.stringValue?.contains("reply too large") == true)
                #expect(full["id"] == 2)   // login was id 1
                let batch = "[" + (1...5).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"\#($0 == 2 ? "rpc.discover" : "server.ping")"}"# }.joined(separator: ",") + "]"
                try await client.send(batch)
                let replies = try #require(try await client.receive()?.arrayValue)
                #expect(replies.count == 5)
                #expect(replies[0]["result"]?["pong"] == true)
                #expect(replies[1].errorCode == -32603)
                #expect(replies[2...].allSatisfy { $0.errorCode == -32603 && $0["error"]?["message"]?.stringValue?.contains("not run") == true })
                let tooMany = "[" + (1...101).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"server.ping"}"# }.joined(separator: ",") + "]"
                try await client.send(tooMany)
                #expect(try await client.receive()?.errorCode == -32600)
            }
        }
    }

    @Test("logout re-arms the login deadline")
    func logoutDeadline() async throws {
        var settings = ServerSettings()
        settings.loginDeadline = .seconds(8)   // generous: a loaded test machine may take seconds to log in
        try await withServer(settings: settings) { port in
            // A user of its own: the shared admin's logins are many and concurrent in a test run.
            let admin = try await makeUser(port: port, role: .clerk)
            let started = ContinuousClock.now
            let after = try await LineClient.with(port: port) { client -> [JSONValue] in
                try await client.login(admin.username, admin.password)
                try await Task.sleep(for: .milliseconds(8500))   // logged in: the deadline does not apply
                #expect(try await client.result("auth.whoami")["user"] != nil)
                _ = try await client.result("auth.logout")
                return try await client.receive(1)   // closed about eight seconds later
            }
            #expect(after.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test("auth.resume pipelined with a 100 KB request in one write: the second line gets the post-login limit")
    func pipelinedResume() async throws {
        let admin = try await Shared.admin.value
        try await withServer { port in
            let token = try await LineClient.with(port: port) { try await $0.login(admin.username, admin.password) }
            let replies = try await LineClient.with(port: port) { client -> [JSONValue] in
                let resume = #"{"jsonrpc":"2.0","id":1,"method":"auth.resume","params":{"token":"\#(token)"}}"#
                let big = #"{"jsonrpc":"2.0","id":2,"method":"customers.list","params":{"query":""# + String(repeating: "x", count: 100_000) + #""}}"#
                try await client.outbound.write(ByteBuffer(string: resume + "\n" + big + "\n"))
                return try await client.receive(2)
            }
            #expect(replies.count == 2)
            #expect(replies.first?["result"] != nil)
            #expect(replies.last?["id"] == 2 && replies.last?.errorCode == -32602)   // the query's own length limit, not "line too long"
            // Without a login first, the same big line is still too long.
            let refused = try await LineClient.with(port: port) { client -> [JSONValue] in
                let ping = #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#
                let big = #"{"jsonrpc":"2.0","id":2,"method":"server.ping","params":{"pad":""# + String(repeating: "x", count: 100_000) + #""}}"#
                try await client.outbound.write(ByteBuffer(string: ping + "\n" + big + "\n"))
                return try await client.receive(3)
            }
            #expect(refused.count == 2 && refused.last?.errorCode == -32600)
        }
    }

    @Test("anonymous sockets are capped per address")
    func perAddressCap() async throws {
        var settings = ServerSettings()
        settings.maxAnonymousPerAddress = 3
        let admin = try await Shared.admin.value
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { a in
                _ = try await a.result("server.ping")
                try await LineClient.with(port: port) { b in
                    _ = try await b.result("server.ping")
                    try await LineClient.with(port: port) { c in
                        _ = try await c.result("server.ping")
                        let fourth = try await LineClient.with(port: port) { try await $0.receive(2) }
                        #expect(fourth.count == 1 && fourth.first?.errorCode == 503)
                        // Once one logs in, it no longer counts: room for another.
                        try await c.login(admin.username, admin.password)
                        #expect(try await LineClient.with(port: port) { try await $0.result("server.ping") }["pong"] == true)
                    }
                }
            }
        }
    }

    @Test("a full server closes its oldest anonymous socket to let a user in")
    func fullServer() async throws {
        var settings = ServerSettings()
        settings.maxConnections = 3
        settings.crowdedLoginDeadline = .seconds(60)   // a full server is crowded; the test may be slow
        let admin = try await Shared.admin.value
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { a in
                _ = try await a.result("server.ping")
                try await LineClient.with(port: port) { b in
                    _ = try await b.result("server.ping")
                    try await LineClient.with(port: port) { c in
                        _ = try await c.result("server.ping")
                        try await LineClient.with(port: port) { user in
                            try await user.login(admin.username, admin.password)
                            #expect(try await user.result("auth.whoami")["user"] != nil)
                        }
                        #expect(try await a.receive(1).isEmpty)   // a, the oldest, was closed
                    }
                }
            }
        }
    }
}

@Suite("hardening: data that could break reads")
struct HardeningDataTests {
    @Test("dates outside 1900–2199 are -32602 naming the field, and lists keep working")
    func dateWindow() async throws {
        try await withCollections("hard_dates") { _, client, _ in
            let c = try await client.customer("Window Ltd")
            let assess = try await client.call("credit.assess", ["customer_id": c, "as_of": "9999-12-31"])
            #expect(assess.errorCode == -32602 && assess["error"]?["data"]?["field"] == "as_of")
            let plan = try await client.call("plans.create", ["customer_id": c, "invoice_ids": [1], "installments": 2, "frequency": "monthly", "first_due_on": "9999-12-01"])
            #expect(plan.errorCode == -32602 && plan["error"]?["data"]?["field"] == "first_due_on")
            for bad in ["0000-01-01", "1899-12-31", "2200-01-01"] {
                let kpis = try await client.call("reports.kpis", ["from": .string(bad), "to": "2026-01-01"])
                #expect(kpis.errorCode == -32602 && kpis["error"]?["data"]?["field"] == "from", "\(bad)")
                let invoice = try await client.call("invoices.create", ["customer_id": c, "number": "W-1", "issue_date": .string(bad), "amount": "1.00"])
                #expect(invoice.errorCode == -32602 && invoice["error"]?["data"]?["field"] == "issue_date", "\(bad)")
            }
            for bad in ["2026-02-30T10:00:00Z", "2026-11-30T10:00:00+99:99", "2026-11-30T25:00:00Z", "10000-01-01T00:00:00Z"] {
                let logged = try await client.call("interactions.log", ["customer_id": c, "kind": "call", "summary": "x", "occurred_at": .string(bad)])
                #expect(logged.errorCode == -32602 && logged["error"]?["data"]?["field"] == "occurred_at", "\(bad)")
                let audit = try await client.call("audit.list", ["since": .string(bad)])
                #expect(audit.errorCode == -32602, "\(bad)")
            }
            #expect(try await client.result("customers.list")["customers"]?.arrayValue?.isEmpty == false)
        }
    }

    @Test("a stored value that does not decode (a year 10000 written behind the server's back) is left out of a list, not -32603 for everyone")
    func totalDecoders() async throws {
        try await withCollections("hard_decode") { _, client, database in
            let good = try await client.customer("Good Ltd")
            let bad = try await client.customer("Broken Ltd")
            _ = try await database.asSystem("UPDATE customers SET next_review_on = '10000-01-01' WHERE id = \(Int64(bad.intValue!))")
            let list = try await client.result("customers.list")
            let ids = list["customers"]?.arrayValue?.compactMap { $0["id"] } ?? []
            #expect(ids.contains(good) && !ids.contains(bad))
        }
    }

    @Test("money past the ledger's 16 integer digits is -32602 naming the field, not -32603")
    func moneyPrecision() async throws {
        try await withCollections("hard_money") { _, client, _ in
            let c = try await client.customer("Big Spender")
            for amount in ["12345678901234567.00", "999999999999999999.99", "10000000000000000"] {
                let reply = try await client.call("invoices.create", ["customer_id": c, "number": .string(Shared.unique("M")), "issue_date": "2026-01-01",
                                                                      "amount": .string(amount)])
                #expect(reply.errorCode == -32602 && reply["error"]?["data"]?["field"] == "amount", "\(amount)")
            }
            let most = try await client.call("credit.terms.set", ["customer_id": c, "credit_limit": "9999999999999999.99", "net_days": 30,
                                                                  "late_interest_rate": "0", "reason": "the largest limit the ledger holds"])
            #expect(most["result"]?["credit_limit"] == "9999999999999999.99")
        }
    }

    @Test("lengths count what is stored: 800 KB of combining marks is refused at once, however few graphemes it makes")
    func combiningMarks() async throws {
        try await withCollections("hard_text") { _, client, _ in
            let c = try await client.customer("Marks Ltd")
            let marks = "a" + String(repeating: "\u{0301}", count: 400_000)   // one grapheme, 800 KB
            let started = ContinuousClock.now
            let reply = try await client.call("customers.contacts.add", ["customer_id": c, "name": "x", "phone": .string(marks)])
            #expect(reply.errorCode == -32602 && reply["error"]?["data"]?["field"] == "phone")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}

@Suite("hardening: authentication")
struct HardeningAuthTests {
    static let boss = (username: "boss", password: "collections admin password")

    @Test("40 wrong passwords at the same moment: at most the limit are checked, the rest and the right one find the lock")
    func lockoutRace() async throws {
        try await withCollections("hard_race", configure: { $0.loginDeadline = .seconds(300) }) { port, _, _ in
            let user = try await makeUser(port: port, role: .clerk, admin: Self.boss)
            let codes = try await withThrowingTaskGroup(of: Int?.self) { group in
                for n in 0..<40 {
                    group.addTask {
                        try await LineClient.with(port: port) { client in
                            try await client.call("auth.login", ["username": .string(user.username), "password": .string("wrong password \(n)")]).errorCode
                        }
                    }
                }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == 401 }.count <= 10, "\(codes)")
            #expect(codes.filter { $0 == 423 }.count >= 30)
            let right = try await LineClient.with(port: port) { client in
                try await client.call("auth.login", ["username": .string(user.username), "password": .string(user.password)])
            }
            #expect(right.errorCode == 423)
        }
    }

    @Test("spraying 10 guesses over each of many names from one address is throttled (429) once the address passes its limit")
    func spraying() async throws {
        try await withCollections("hard_spray", configure: { $0.loginDeadline = .seconds(300) }) { port, _, _ in
            var codes: [Int?] = []
            try await LineClient.with(port: port) { client in
                for name in 0..<8 {
                    for guess in 0..<10 {
                        codes.append(try await client.call("auth.login", ["username": .string("sprayed-\(name)"), "password": .string("guess number \(guess)")]).errorCode)
                    }
                }
            }
            #expect(codes.prefix(50).allSatisfy { $0 == 401 || $0 == 423 })
            #expect(codes.suffix(20).allSatisfy { $0 == 429 }, "\(codes)")
        }
    }

    @Test("auth.change_password is throttled like login: the limit's wrong old passwords lock the name and end the session")
    func changePasswordThrottle() async throws {
        try await withCollections("hard_change") { port, _, _ in
            let user = try await makeUser(port: port, role: .clerk, admin: Self.boss)
            try await LineClient.with(port: port) { client in
                try await client.login(user.username, user.password)
                for attempt in 1...9 {
                    let reply = try await client.call("auth.change_password", ["old_password": .string("not it \(attempt)"), "new_password": "a brand new password"])
                    #expect(reply.errorCode == -32602 && reply["error"]?["data"]?["field"] == "old_password")
                }
                let tenth = try await client.call("auth.change_password", ["old_password": "not it 10", "new_password": "a brand new password"])
                #expect(tenth.errorCode == 423)
                #expect(try await client.call("auth.whoami").errorCode == 401)   // the session ended
            }
            let again = try await LineClient.with(port: port) { try await $0.call("auth.login", ["username": .string(user.username), "password": .string(user.password)]) }
            #expect(again.errorCode == 423)
        }
    }
}

@Suite("hardening: one key, one outcome")
struct HardeningIdempotencyTests {
    @Test("a refusal is stored with its idempotency key: after the limit is raised, a replay is still refused; a new key is decided anew")
    func refusalRemembered() async throws {
        try await withCollections("hard_idem") { _, client, _ in
            let c = try #require(try await client.result("customers.create", ["name": "Tight Ltd"])["id"])
            _ = try await client.result("credit.terms.set", ["customer_id": c, "credit_limit": "100", "net_days": 30, "late_interest_rate": "0", "reason": "x"])
            let params: JSONObject = ["customer_id": c, "number": "IDEM-1", "issue_date": "2026-11-01", "amount": "500.00", "idempotency_key": "k-1"]
            let first = try await client.call("invoices.create", params)
            #expect(first.errorCode == 422 && first["error"]?["data"]?["rule"] == "credit_limit")
            _ = try await client.result("credit.terms.set", ["customer_id": c, "credit_limit": "10000", "net_days": 30, "late_interest_rate": "0", "reason": "raised"])
            let replay = try await client.call("invoices.create", params)
            #expect(replay["error"] == first["error"], "\(replay)")
            var other = params
            other["amount"] = "400.00"
            #expect(try await client.call("invoices.create", other).errorCode == 409)   // the key with other params
            var fresh = params
            fresh["idempotency_key"] = "k-2"
            let created = try await client.call("invoices.create", fresh)
            #expect(created["result"]?["number"] == "IDEM-1")
            #expect(try await client.call("invoices.create", fresh)["result"]?["id"] == created["result"]?["id"])
            #expect(try await client.result("invoices.list", ["customer_id": c])["invoices"]?.arrayValue?.count == 1)
            // A payment refused (allocation to a missing invoice) is remembered the same way.
            let pay: JSONObject = ["customer_id": c, "amount": "10.00", "method": "cash", "received_on": "2026-11-02",
                                   "allocations": [["invoice_id": 999_999, "amount": "10.00"]], "idempotency_key": "p-1"]
            let refused = try await client.call("payments.record", pay)
            #expect(refused["error"] != nil)
            #expect(try await client.call("payments.record", pay)["error"] == refused["error"])
        }
    }
}

@Suite("hardening: what the agency partner sees")
struct HardeningAgencyTests {
    @Test("letters naming an unassigned invoice are refused; interactions show only its invoices; search and filters only on what it is shown")
    func agencyView() async throws {
        try await withCollections("hard_agency") { port, client, _ in
            let f = try await AgencyViewTests.fixture(&client, port: port)
            // A customer whose only invoice is assigned: its letter is the agency's to read.
            let v = try await client.customer("Visible Letter Ltd")
            let v1 = try await client.invoice(v, "700.00", due: "2026-03-01")
            _ = try await client.dunning("2026-03-20")
            let vLetter = try #require(try await client.result("letters.list", ["customer_id": v])["letters"]?.arrayValue?.first?["id"])
            _ = try await client.result("assignments.create", ["agency_id": f.agencyA, "customer_id": v, "invoice_ids": [v1],
                                                               "customer_notified_on": "2026-03-25"])
            let both = try await client.result("interactions.log", ["customer_id": f.assigned, "kind": "call", "summary": "about both",
                                                                    "invoice_ids": [f.assignedInvoice, f.otherInvoiceOfAssigned]])
            _ = try await client.result("customers.update", ["id": f.assigned, "version": 2, "legal_id": "520013954"])
            try await LineClient.with(port: port) { agent in
                _ = try await agent.login(f.agencyUser.username, f.agencyUser.password)
                #expect(try await agent.call("letters.get", ["id": f.letter]).errorCode == 404)
                let letter = try await agent.result("letters.get", ["id": vLetter])
                #expect(letter["text"]?.stringValue?.contains("700.00") == true)
                #expect(Set(try await agent.result("letters.list")["letters"]?.arrayValue?.compactMap { $0["id"] } ?? []) == [vLetter])
                let interactions = try await agent.result("interactions.list", ["customer_id": f.assigned])["interactions"]?.arrayValue ?? []
                let entry = try #require(interactions.first { $0["id"] == both["interaction"]?["id"] })
                #expect(entry["invoice_ids"] == [f.assignedInvoice])
                let hiddenInvoice = f.otherInvoiceOfAssigned
                for shown in interactions {
                    let listed = shown["invoice_ids"]?.arrayValue ?? []
                    #expect(!listed.contains(hiddenInvoice), "\(listed) shows \(hiddenInvoice)")
                }
                // The hidden legal id cannot be searched for; grade cannot be filtered on.
                #expect(try await agent.result("customers.list", ["query": "5200139"])["customers"] == [])
                #expect(try await agent.result("customers.list", ["query": "Assigned"])["customers"]?.arrayValue?.count == 1)
                #expect(try await agent.call("customers.list", ["grade": "E"]).errorCode == -32602)
            }
            // Staff still search legal ids.
            #expect(try await client.result("customers.list", ["query": "5200139"])["customers"]?.arrayValue?.count == 1)
        }
    }
}

@Suite("hardening: credentials")
struct HardeningCredentialTests {
    @Test("users.create refuses confusable usernames and common passwords with -32602 naming the field")
    func confusables() async throws {
        try await withCollections("hard_names") { _, client, _ in
            for name in ["admin\u{202E}txt", "ad\u{200B}min", "\u{0430}dmin"] {
                let reply = try await client.call("users.create", ["username": .string(name), "password": "a long and unusual passphrase", "role": "clerk"])
                #expect(reply.errorCode == -32602 && reply["error"]?["data"]?["field"] == "username", "\(name)")
            }
            for password in ["password1234", "qwertyuiopas", "new-clerk-2026-pass"] {
                let reply = try await client.call("users.create", ["username": "new-clerk", "password": .string(password), "role": "clerk"])
                #expect(reply.errorCode == -32602 && reply["error"]?["data"]?["field"] == "password", "\(password)")
            }
            #expect(try await client.call("users.create", ["username": "new-clerk", "password": "a long and unusual passphrase", "role": "clerk"])["result"] != nil)
        }
    }
}

@Suite("hardening: row-level security on every table")
struct HardeningRLSTests {
    /// Tables left outside row-level security, each with the reason.
    static let outside: [String: String] = [
        "schema_migrations": "the owner's; holds no customer data (the application role reads which versions ran)",
    ]

    /// Tables under row-level security that the owner is not forced through, each with the reason.
    static let notForced: [String: String] = [
        "users": "ashrai_viewer() (SECURITY DEFINER, the owner's) reads it; forced, its policies would call themselves",
        "sessions": "ashrai_session_check (SECURITY DEFINER) finds a session by its token's hash before anyone is known",
    ]

    @Test("every table is under FORCE row-level security with a policy, or named with the reason it is not; nobody set reads none of their rows")
    func everyTable() async throws {
        _ = try await Shared.database.value
        let owner = try await Shared.ownerClient.value
        let tables = try await owner.query("""
            SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                   (SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1
            """).map { row in
                let name = try row.decode(String.self, column: "name")
                let forced = try row.decode(Bool.self, column: "enabled") && (try row.decode(Bool.self, column: "forced") || Self.notForced[name] != nil)
                return (name, forced, try row.decode(Int.self, column: "policies"))
            }
        #expect(Set(Self.outside.keys).isSubset(of: Set(tables.map(\.0))))
        let app = try await Shared.appClient.value
        for (name, forced, policies) in tables {
            if Self.outside[name] != nil { continue }
            #expect(forced && policies >= 1,
                    "\(name) has no FORCE row-level security: add a policy, or name it in `outside` or `notForced` with the reason")
            // With nobody set, the application role sees none of its rows.
            let seen = try await app.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(name)")).scalar(Int.self)
            #expect(seen == 0, "\(name): \(seen) rows visible with nobody set")
            // Nor by claiming to be the daemon's jobs: only a role in ashrai_jobs is `system`.
            let claimed = try await app.withTransaction { tx in
                try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
                return try await tx.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(name)")).scalar(Int.self)
            }
            #expect(claimed == 0, "\(name): \(claimed) rows visible to a plain session claiming 'system'")
        }
        // The jobs' own role is `system`: it writes and reads what the plain session could not.
        let jobs = app.jobsClient()
        let seenByJobs = try await jobs.withTransaction { tx in
            try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
            let id = try await tx.query("INSERT INTO customers (name) VALUES ('jobs check') RETURNING id").scalar(Int64.self)
            return try await tx.query("SELECT count(*) FROM customers WHERE id = \(id)").scalar(Int.self)
        }
        await jobs.shutdown()
        #expect(seenByJobs == 1)
    }

    @Test("password hashes are the daemon's alone, a session is found only by its token's hash, the throttle's rows are the daemon's")
    func credentials() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .clerk)
            let token = try await LineClient.with(port: port) { try await $0.login(user.username, user.password) }
            let app = try await Shared.appClient.value
            // Signed in as staff, the application role reads users — never a hash — and no throttle row.
            let seen = try await app.withTransaction { tx in
                try await tx.query("SELECT set_config('ashrai.user_id', \(String(user.id)), true)")
                return (try await tx.query("SELECT count(*) FROM users WHERE id = \(user.id)").scalar(Int.self),
                        try await tx.query("SELECT count(*) FROM login_failures").scalar(Int.self)
                            + (try await tx.query("SELECT count(*) FROM account_locks").scalar(Int.self)))
            }
            #expect(seen.0 == 1 && seen.1 == 0)
            let denied = try await #require(throws: PostgresError.self) {
                try await app.withTransaction { tx in
                    try await tx.query("SELECT set_config('ashrai.user_id', \(String(user.id)), true)")
                    return try await tx.query("SELECT password_hash FROM users WHERE id = \(user.id)").scalar(String.self)
                }
            }
            #expect(denied.sqlState == "42501")
            // The token's hash finds the session; nothing else does, and nobody lists sessions.
            let found = try await app.query("SELECT username FROM ashrai_session_check(\(Secrets.tokenHash(token)), 3600)")
            #expect(try found.first?.decode(String.self, at: 0) == user.username)
            #expect(try await app.query("SELECT count(*) FROM ashrai_session_check(\(Secrets.tokenHash(token + "x")), 3600)").scalar(Int.self) == 0)
            // The daemon's own role reads the hash (login and password change do).
            let hash = try await app.asSystem("SELECT password_hash FROM users WHERE id = \(user.id)").scalar(String.self)
            #expect(hash.hasPrefix("$argon2id$"))
        }
    }
}
