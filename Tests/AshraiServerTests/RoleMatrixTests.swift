import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("roles")
struct RoleMatrixTests {
    /// Every method × every role against the catalog. The role check runs before params are
    /// validated, so a probe with an unknown param answers 403 when the role may not call the
    /// method and -32602 when it may — without side effects either way.
    @Test("every method × every role answers as the matrix says")
    func matrix() async throws {
        try await withServer { port in
            for role in Role.allCases {
                let user = try await makeUser(port: port, role: role)
                try await LineClient.with(port: port) { client in
                    try await client.login(user.username, user.password)
                    for spec in MethodCatalog.all {
                        let reply = try await client.call(spec.name, ["__probe": 1])
                        if spec.allows(role) {
                            #expect(reply.errorCode == -32602, "\(role.rawValue) → \(spec.name): \(reply.encoded())")
                            #expect(reply["error"]?["data"]?["field"] == "__probe")
                        } else {
                            #expect(reply.errorCode == 403, "\(role.rawValue) → \(spec.name): \(reply.encoded())")
                            #expect(reply.errorReason == "forbidden")
                        }
                    }
                }
            }
        }
    }

    @Test("without a session every method but the public ones answers 401")
    func anonymous() async throws {
        // One anonymous connection asks every method: give it more than the default 10 s to stay unauthenticated
        // (on a loaded machine the probe of ~150 methods took 27 s, and the login deadline closed the connection).
        var settings = ServerSettings()
        settings.loginDeadline = .seconds(300)
        settings.crowdedLoginDeadline = .seconds(300)
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { client in
                for spec in MethodCatalog.all {
                    let reply = try await client.call(spec.name, ["__probe": 1])
                    if spec.needsSession {
                        #expect(reply.errorCode == 401, "\(spec.name)")
                        #expect(reply.errorReason == "unauthenticated")
                    } else {
                        #expect(reply.errorCode == -32602, "\(spec.name)")
                    }
                }
            }
        }
        #expect(Set(MethodCatalog.all.filter { !$0.needsSession }.map(\.name))
                == ["server.ping", "server.info", "rpc.discover", "auth.login", "auth.resume"])
    }

    @Test("a role change applies to a live session at its next request")
    func roleChangeIsImmediate() async throws {
        try await withServer { port in
            let user = try await makeUser(port: port, role: .manager)
            let admin = try await Shared.admin.value
            try await LineClient.with(port: port) { client in
                try await client.login(user.username, user.password)
                _ = try await client.result("audit.list", ["limit": 1])
                try await LineClient.with(port: port) { adminClient in
                    try await adminClient.login(admin.username, admin.password)
                    _ = try await adminClient.result("users.set_role", ["id": .int(user.id), "role": "clerk"])
                }
                #expect(try await client.call("audit.list", ["limit": 1]).errorCode == 403)
            }
        }
    }

    @Test("the last active admin can be neither demoted nor disabled, even when two admins race")
    func lastAdmin() async throws {
        // Its own database: this test needs to know every admin there is.
        let database = try await TestDatabase.create("last_admin")
        _ = try await DatabaseSetup.migrate(
            migrationURL: database.ownerURL, applicationURL: database.applicationURL,
            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        let pool = PostgresClient(configuration: database.applicationConfiguration, maxConnections: 4, logger: makeTestLogger())
        let x = (username: "admin-x", password: "password of admin x")
        let y = (username: "admin-y", password: "password of admin y")
        for admin in [x, y] {
            _ = try await AdminBootstrap.createOrReset(username: admin.username, password: admin.password, mustChangePassword: false,
                                                       onlyIfNone: false, database: pool, secrets: Shared.secrets)
        }
        try await withServer(database: pool) { port in
            func id(of admin: (username: String, password: String)) async throws -> Int {
                try await LineClient.with(port: port) { client in
                    try await client.login(admin.username, admin.password)
                    return try #require(try await client.result("auth.whoami")["user"]?["id"]?.intValue)
                }
            }
            let (xID, yID) = (try await id(of: x), try await id(of: y))
            // Each disables the other at the same moment: one wins; the other is refused
            // (last_admin) or finds its own session ended (401). Never zero admins.
            async let first = LineClient.with(port: port) { client in
                try await client.login(x.username, x.password)
                return try await client.call("users.disable", ["id": .int(yID)])
            }
            async let second = LineClient.with(port: port) { client in
                try await client.login(y.username, y.password)
                return try await client.call("users.disable", ["id": .int(xID)])
            }
            let results = try await [first, second]
            #expect(results.filter { $0["result"] != nil }.count == 1)
            #expect(results.filter { $0["error"]?["data"]?["rule"] == "last_admin" || $0.errorCode == 401 }.count == 1,
                    "\(results.map { $0.encoded() })")
            let admins = try await pool.asSystem("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL").scalar(Int.self)
            #expect(admins == 1)
            // The one left cannot demote or disable itself.
            let survivor = results[0]["result"] != nil ? x : y
            let survivorID = survivor == x ? xID : yID
            try await LineClient.with(port: port) { client in
                try await client.login(survivor.username, survivor.password)
                let demote = try await client.call("users.set_role", ["id": .int(survivorID), "role": "manager"])
                #expect(demote.errorCode == 422 && demote["error"]?["data"]?["rule"] == "last_admin")
                let disable = try await client.call("users.disable", ["id": .int(survivorID)])
                #expect(disable["error"]?["data"]?["rule"] == "last_admin")
            }
        }
        await pool.shutdown()
    }

    @Test("the README prints the role matrix from the catalog")
    func readmeMatrix() throws {
        let readme = try String(contentsOfFile: TestDatabase.repositoryRootPath + "/README.md", encoding: .utf8)
        #expect(readme.contains(MethodCatalog.roleMatrixMarkdown), "regenerate the README's role table from MethodCatalog.roleMatrixMarkdown")
    }
}
