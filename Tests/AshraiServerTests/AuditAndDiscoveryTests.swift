import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("audit trail and discovery")
struct AuditAndDiscoveryTests {
    @Test("a write and its audit row commit together; a refused write leaves no audit row")
    func auditWithWrite() async throws {
        try await withServer { port in
            let admin = try await Shared.admin.value
            let username = Shared.unique("audited")
            try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                let user = try await client.result("users.create", ["username": .string(username), "password": "a long enough pw", "role": "clerk"])
                let id = try #require(user["id"]?.intValue)
                let entries = try await client.result("audit.list", ["entity": "user", "entity_id": .string(String(id))])["entries"]?.arrayValue ?? []
                #expect(entries.count == 1)
                #expect(entries.first?["method"] == "users.create")
                #expect(entries.first?["after"]?["username"]?.stringValue == username)
                #expect(entries.first?["username"]?.stringValue == admin.username)

                let duplicate = try await client.call("users.create", ["username": .string(username.uppercased()), "password": "a long enough pw", "role": "clerk"])
                #expect(duplicate.errorCode == 409)
            }
            let owner = try await Shared.ownerClient.value
            let rows = try await owner.query("""
                SELECT count(*) FROM audit_log WHERE action = 'users.create' AND lower(after->>'username') = lower(\(username))
                """).scalar(Int.self)
            #expect(rows == 1)
        }
    }

    struct Boom: Error {}

    @Test("when the transaction fails after the audit row was written, neither survives")
    func auditRollsBack() async throws {
        let database = try await Shared.appClient.value
        let services = Services(database: database, secrets: Shared.secrets, settings: ServerSettings(), version: "test",
                                jobsDatabase: try await Shared.jobsClient.value)
        let context = CallContext(connectionID: 99, clientAddress: nil, logger: makeTestLogger()).asDaemon
        let marker = Shared.unique("rollback")
        await #expect(throws: Boom.self) {
            try await services.transaction(context) { tx in
                try await Audit.record(tx, context: context, method: "test.write", entity: "test", entityID: marker)
                throw Boom()
            }
        }
        #expect(try await database.asSystem("SELECT count(*) FROM audit_log WHERE entity_id = \(marker)").scalar(Int.self) == 0)
        try await services.transaction(context) { tx in
            try await Audit.record(tx, context: context, method: "test.write", entity: "test", entityID: marker)
        }
        #expect(try await database.asSystem("SELECT count(*) FROM audit_log WHERE entity_id = \(marker)").scalar(Int.self) == 1)
    }

    @Test("audit.list pages newest first with next_before_id")
    func auditPaging() async throws {
        try await withServer { port in
            let admin = try await Shared.admin.value
            try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                let first = try await client.result("audit.list", ["limit": 2])
                let ids = first["entries"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
                #expect(ids.count == 2 && ids[0] > ids[1])
                let next = try #require(first["next_before_id"]?.intValue)
                let second = try await client.result("audit.list", ["limit": 2, "before_id": .int(next)])
                #expect((second["entries"]?.arrayValue?.first?["id"]?.intValue ?? 0) < next)
                #expect(try await client.call("audit.list", ["limit": 0])["error"]?["data"]?["field"] == "limit")
                #expect(try await client.call("audit.list", ["since": "yesterday"])["error"]?["data"]?["field"] == "since")
            }
        }
    }

    @Test("rpc.discover equals the checked-in docs/openrpc.json")
    func openRPCMatchesDocs() async throws {
        try await withServer { port in
            let admin = try await Shared.admin.value
            let served = try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                return try await client.result("rpc.discover")
            }
            let path = TestDatabase.repositoryRootPath + "/docs/openrpc.json"
            let checkedIn = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            // Compared method by method so a failure names what differs instead of printing both documents.
            let servedMethods = served["methods"]?.arrayValue ?? [], checkedInMethods = checkedIn["methods"]?.arrayValue ?? []
            let differing = Set(servedMethods.map { $0["name"]?.stringValue ?? "?" } + checkedInMethods.map { $0["name"]?.stringValue ?? "?" })
                .filter { name in servedMethods.first { $0["name"]?.stringValue == name } != checkedInMethods.first { $0["name"]?.stringValue == name } }
                .sorted()
            #expect(differing.isEmpty, "differs for \(differing.joined(separator: ", ")): run `make openrpc` and commit docs/openrpc.json")
            #expect(served == checkedIn ? true : false, "run `make openrpc` and commit docs/openrpc.json")
            let names = served["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names == MethodCatalog.all.map(\.name))
        }
    }
}
