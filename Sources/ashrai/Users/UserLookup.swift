import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser

/// A user named by id, or by username (looked up in users.list).
func resolveUserID(_ text: String, on connection: inout RPCConnection) async throws -> Int {
    if let id = Int(text), id > 0 { return id }
    let users = try await connection.call("users.list", ["include_disabled": true])["users"]?.arrayValue ?? []
    guard let match = users.first(where: { $0["username"]?.stringValue?.lowercased() == text.lowercased() }),
          let id = match["id"]?.intValue else {
        throw RPCFailure.notFound("user")
    }
    return id
}

/// Runs a users.* method that takes just the user's id and shows the user it returns.
func runUserMethod(_ method: String, _ user: String, options: ClientOptions) async throws {
    try await options.run { connection in
        let id = try await resolveUserID(user, on: &connection)
        options.show(try await connection.call(method, ["id": .int(id)])) { userTable([$0]) }
    }
}
