import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("authentication and sessions")
struct AuthTests {
    @Test("login returns a token, expiry and the user; whoami works; the token resumes on a new connection")
    func loginAndResume() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .clerk)
            let token = try await LineClient.with(port: port) { client in
                let result = try await client.result("auth.login", ["username": .string(user.username), "password": .string(user.password)])
                #expect(result["user"]?["role"] == "clerk")
                #expect(result["expires_at"]?.stringValue.flatMap(parseRFC3339) != nil)
                #expect(try await client.result("auth.whoami")["user"]?["username"]?.stringValue == user.username)
                return try #require(result["token"]?.stringValue)
            }
            #expect(token.count >= 22)   // ≥ 128 bits in base64url
            try await LineClient.with(port: port) { client in
                let reply = try await client.call("auth.whoami")
                #expect(reply.errorCode == 401)
                _ = try await client.result("auth.resume", ["token": .string(token)])
                #expect(try await client.result("auth.whoami")["user"]?["id"]?.intValue == user.id)
            }
        }
    }

    @Test("unknown user, wrong password and disabled user get one identical 401")
    func genericFailure() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .clerk)
            let disabled = try await makeUser(port: port, role: .clerk)
            let admin = try await Shared.admin.value
            try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                _ = try await client.result("users.disable", ["id": .int(disabled.id)])
            }
            try await LineClient.with(port: port) { client in
                let unknown = try await client.call("auth.login", ["username": .string("nobody-\(UInt32.random(in: 0...UInt32.max))"), "password": "some long password"])
                let wrong = try await client.call("auth.login", ["username": .string(user.username), "password": "not the password!"])
                let off = try await client.call("auth.login", ["username": .string(disabled.username), "password": .string(disabled.password)])
                #expect(unknown.errorCode == 401)
                #expect(unknown["error"] == wrong["error"])
                #expect(wrong["error"] == off["error"])
            }
        }
    }

    @Test("after 10 failures the name is locked (423) — whether or not the user exists — and the right password no longer helps")
    func lockout() async throws {
        // 22 attempts on one connection that never logs in: on a loaded machine they may take
        // longer than the default login deadline, which is not what this test is about.
        var settings = ServerSettings()
        settings.loginDeadline = .seconds(300)
        try await withServer(settings: settings) { port in
            let user = try await makeUser(port: port, role: .clerk)
            let ghost = "ghost-\(UInt32.random(in: 0...UInt32.max))"
            try await LineClient.with(port: port) { client in
                for name in [user.username, ghost] {
                    for attempt in 1...10 {
                        let reply = try await client.call("auth.login", ["username": .string(name), "password": .string("wrong password \(attempt)")])
                        #expect(reply.errorCode == 401, "attempt \(attempt)")
                    }
                    let locked = try await client.call("auth.login", ["username": .string(name), "password": "wrong password again"])
                    #expect(locked.errorCode == 423)
                    #expect(locked.errorReason == "locked")
                }
                let right = try await client.call("auth.login", ["username": .string(user.username), "password": .string(user.password)])
                #expect(right.errorCode == 423)
            }
            // The lock and the failures are in the audit trail.
            let owner = try await Shared.ownerClient.value
            let audited = try await owner.query("""
                SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND context->>'username_key' = \(Username.key(user.username))
                """).scalar(Int.self)
            #expect(audited >= 11)
        }
    }

    @Test("logout revokes the token at once; a revoked or expired token cannot resume")
    func logoutAndExpiry() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .manager)
            let token = try await LineClient.with(port: port) { client in
                let token = try await client.login(user.username, user.password)
                #expect(try await client.result("auth.logout")["ok"] == true)
                #expect(try await client.call("auth.whoami").errorCode == 401)
                return token
            }
            try await LineClient.with(port: port) { client in
                let reply = try await client.call("auth.resume", ["token": .string(token)])
                #expect(reply.errorCode == 401)
            }
            // Absolute expiry and idle expiry, by moving the clock of the row.
            let owner = try await Shared.ownerClient.value
            for column in ["expires_at", "last_seen_at"] {
                let fresh = try await LineClient.with(port: port) { try await $0.login(user.username, user.password) }
                try await owner.query("""
                    UPDATE sessions SET \(unescaped: column) = now() - interval '1 day' WHERE token_hash = \(Secrets.tokenHash(fresh))
                    """)
                try await LineClient.with(port: port) { client in
                    let reply = try await client.call("auth.resume", ["token": .string(fresh)])
                    #expect(reply.errorCode == 401, "\(column)")
                }
            }
        }
    }

    @Test("a session ends for a connection already logged in when the user is disabled")
    func disableEndsLiveSession() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .clerk)
            let admin = try await Shared.admin.value
            try await LineClient.with(port: port) { client in
                try await client.login(user.username, user.password)
                _ = try await client.result("auth.whoami")
                try await LineClient.with(port: port) { adminClient in
                    try await adminClient.login(admin.username, admin.password)
                    _ = try await adminClient.result("users.disable", ["id": .int(user.id)])
                }
                #expect(try await client.call("auth.whoami").errorCode == 401)
            }
        }
    }

    @Test("a token issued by one server works on a second server running over the same database")
    func secondInstance() async throws {
        try await withServer { first in
            try await withServer { second in
                #expect(first != second)
                let user = try await makeUser(port: first, role: .clerk)
                let token = try await LineClient.with(port: first) { try await $0.login(user.username, user.password) }
                try await LineClient.with(port: second) { client in
                    _ = try await client.result("auth.resume", ["token": .string(token)])
                    let me = try await client.result("auth.whoami")
                    #expect(me["user"]?["username"]?.stringValue == user.username)
                }
                // A logout on the second ends the session on the first too.
                try await LineClient.with(port: second) { client in
                    _ = try await client.result("auth.resume", ["token": .string(token)])
                    _ = try await client.result("auth.logout")
                }
                try await LineClient.with(port: first) { client in
                    let reply = try await client.call("auth.resume", ["token": .string(token)])
                    #expect(reply.errorCode == 401)
                }
            }
        }
    }

    @Test("neither tokens nor passwords are stored or audited in plain text")
    func nothingPlain() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .clerk)
            let token = try await LineClient.with(port: port) { try await $0.login(user.username, user.password) }
            let owner = try await Shared.ownerClient.value
            let hash = try await owner.query("SELECT password_hash FROM users WHERE id = \(user.id)").scalar(String.self)
            #expect(hash.hasPrefix("$argon2id$"))
            #expect(!hash.contains(user.password))
            let stored = try await owner.query("""
                SELECT count(*) FROM sessions WHERE token_hash = \(Array(token.utf8)) OR encode(token_hash, 'escape') LIKE \("%" + token + "%")
                """).scalar(Int.self)
            #expect(stored == 0)
            #expect(try await owner.query("SELECT count(*) FROM sessions WHERE token_hash = \(Secrets.tokenHash(token))").scalar(Int.self) == 1)
            let leaked = try await owner.query("""
                SELECT count(*) FROM audit_log WHERE concat(before::text, after::text, context::text) LIKE \("%" + user.password + "%")
                   OR concat(before::text, after::text, context::text) LIKE \("%" + token + "%")
                """).scalar(Int.self)
            #expect(leaked == 0)
        }
    }

    @Test("a user whose password was set by an admin must change it before anything else")
    func mustChangePassword() async throws {
        try await withServer { port in
            let admin = try await Shared.admin.value
            let username = Shared.unique("fresh")
            try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                _ = try await client.result("users.create", ["username": .string(username), "password": "temporary password 1", "role": "manager"])
            }
            try await LineClient.with(port: port) { client in
                let login = try await client.result("auth.login", ["username": .string(username), "password": "temporary password 1"])
                #expect(login["user"]?["must_change_password"] == true)
                let blocked = try await client.call("audit.list")
                #expect(blocked.errorCode == 403 && blocked.errorReason == "password_change_required")
                let short = try await client.call("auth.change_password", ["old_password": "temporary password 1", "new_password": "short"])
                #expect(short["error"]?["data"]?["field"] == "new_password")
                let wrongOld = try await client.call("auth.change_password", ["old_password": "not it at all", "new_password": "a brand new password"])
                #expect(wrongOld["error"]?["data"]?["field"] == "old_password")
                _ = try await client.result("auth.change_password", ["old_password": "temporary password 1", "new_password": "a brand new password"])
                _ = try await client.result("audit.list", ["limit": 1])
            }
        }
    }

    @Test("changing the password ends the user's other sessions")
    func changePasswordEndsOthers() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .clerk)
            let other = try await LineClient.with(port: port) { try await $0.login(user.username, user.password) }
            try await LineClient.with(port: port) { client in
                try await client.login(user.username, user.password)
                let result = try await client.result("auth.change_password", ["old_password": .string(user.password), "new_password": "yet another long password"])
                #expect(result["other_sessions_ended"]?.intValue ?? 0 >= 1)
                _ = try await client.result("auth.whoami")   // this session survives
            }
            try await LineClient.with(port: port) { client in
                let reply = try await client.call("auth.resume", ["token": .string(other)])
                #expect(reply.errorCode == 401)
            }
        }
    }
}

