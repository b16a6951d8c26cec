import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Postgres
import Testing

@Suite("staff training")
struct TrainingTests {
    @Test("compliance per user with expiry at the boundary day; a clerk reads only their own records")
    func compliance() async throws {
        try await withCollections("training") { port, client, _ in
            _ = try await client.result("training.courses.create", ["code": "COLL-1", "title": "Collections conversations", "topic": "collections",
                                                                    "required_for_roles": ["clerk", "manager"], "validity_months": 12])
            _ = try await client.result("training.courses.create", ["code": "SYS-1", "title": "Using Ashrai", "topic": "systems",
                                                                    "required_for_roles": ["clerk"]])
            #expect(try await client.call("training.courses.create", ["code": "coll-1", "title": "dup", "topic": "other"]).errorCode == 409)
            let clerk = try await TrainingTests.user(&client, port: port, role: "clerk")
            let other = try await TrainingTests.user(&client, port: port, role: "clerk")
            _ = try await client.result("training.records.add", ["user_id": .int(clerk.id), "course_code": "COLL-1", "completed_on": "2025-03-31", "score": "92"])
            _ = try await client.result("training.records.add", ["user_id": .int(clerk.id), "course_code": "SYS-1", "completed_on": "2025-01-10"])
            #expect(try await client.call("training.records.add", ["user_id": .int(clerk.id), "course_code": "NOPE", "completed_on": "2025-01-10"]).errorCode == 404)
            func status(_ asOf: String, _ user: Int, _ code: String) async throws -> JSONValue? {
                let report = try await client.result("training.compliance", ["as_of": .string(asOf)])
                let person = report["users"]?.arrayValue?.first { $0["user_id"]?.intValue == user }
                return person?["courses"]?.arrayValue?.first { $0["code"]?.stringValue == code }?["status"]
            }
            #expect(try await status("2026-02-27", clerk.id, "COLL-1") == "current")    // 32 days left
            #expect(try await status("2026-03-01", clerk.id, "COLL-1") == "expiring")   // 30 days left
            #expect(try await status("2026-03-30", clerk.id, "COLL-1") == "expiring")   // the last valid day
            #expect(try await status("2026-03-31", clerk.id, "COLL-1") == "expired")    // a year to the day
            #expect(try await status("2026-03-31", clerk.id, "SYS-1") == "current")     // no expiry
            #expect(try await status("2026-03-31", other.id, "COLL-1") == "missing")
            let report = try await client.result("training.compliance", ["as_of": "2026-03-01"])
            // clerk compliant (expiring still counts), the other clerk not, the boss (admin) has no required courses
            #expect(report["compliance_rate"] == "50")
            try await LineClient.with(port: port) { own in
                _ = try await own.login(clerk.username, clerk.password)
                #expect(try await own.result("training.records.list")["records"]?.arrayValue?.count == 2)
                #expect(try await own.call("training.records.list", ["user_id": .int(other.id)]).errorCode == 403)
                #expect(try await own.call("training.compliance").errorCode == 403)
            }
        }
    }

    @Test("the training gate refuses a method without a current course, naming it, and allows it with one")
    func gate() async throws {
        try await withCollections("training_gate", configure: { $0.training.gates = ["dunning.run": "collections"] }) { port, client, _ in
            #expect(try await client.call("dunning.run", ["dry_run": true])["error"]?["data"]?["reason"] == "training_required")
            let refused = try await client.call("dunning.run", ["dry_run": true])
            #expect(refused.errorCode == 403 && refused["error"]?["data"]?["course"] == "collections")
            _ = try await client.result("training.courses.create", ["code": "COLL-1", "title": "Collections", "topic": "collections", "validity_months": 12])
            let me = try #require(try await client.result("auth.whoami")["user"]?["id"])
            _ = try await client.result("training.records.add", ["user_id": me, "course_code": "COLL-1", "completed_on": "2026-11-01"])
            #expect(try await client.call("dunning.run", ["dry_run": true])["result"] != nil)
            // Other methods are not gated.
            #expect(try await client.call("letters.list")["result"] != nil)
        }
    }

    static func user(_ client: inout LineClient, port: Int, role: String) async throws -> (id: Int, username: String, password: String) {
        let username = Shared.unique(role), initial = "initial password 12345", final = "chosen password 12345"
        let id = try #require(try await client.result("users.create", ["username": .string(username), "password": .string(initial), "role": .string(role)])["id"]?.intValue)
        try await LineClient.with(port: port) { person in
            _ = try await person.login(username, initial)
            _ = try await person.result("auth.change_password", ["old_password": .string(initial), "new_password": .string(final)])
        }
        return (id, username, final)
    }
}
