import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A user as the API shows it: never the password hash.
struct UserRecord: Decodable, Sendable {
    var id: Int64
    var username: String
    var displayName: String
    var role: Role
    var agencyID: Int64?
    var isDisabled: Bool
    var mustChangePassword: Bool
    var createdAt: Date

    /// The columns `init(row:)` reads, for `SELECT … FROM users u`.
    static let columns = """
        u.id AS user_id, u.username, u.display_name, u.role, u.agency_id, u.must_change_password,
        u.disabled_at IS NOT NULL AS disabled, u.created_at
        """

    enum CodingKeys: String, CodingKey {
        case id = "user_id", username, displayName = "display_name", role, agencyID = "agency_id", isDisabled = "disabled"
        case mustChangePassword = "must_change_password", createdAt = "created_at"
    }

    init(row: PostgresRow) throws { self = try row.decode(UserRecord.self) }

    var json: JSONValue {
        [
            "id": .number(String(id)), "username": .string(username), "display_name": .string(displayName),
            "role": .string(role.rawValue), "agency_id": agencyID.map { .number(String($0)) } ?? .null,
            "disabled": .bool(isDisabled), "must_change_password": .bool(mustChangePassword),
            "created_at": .string(rfc3339(createdAt)),
        ]
    }

    /// Loads one user, optionally locking the row for the rest of the transaction.
    static func load(id: Int64, forUpdate: Bool = false, on tx: PostgresConnection) async throws -> UserRecord? {
        try first(of: try await tx.query(query(id: id, forUpdate: forUpdate)))
    }

    /// The statement that reads one user (`load`, or `Services.read(_:query:)` on its own).
    static func query(id: Int64, forUpdate: Bool = false) -> PostgresQuery {
        "SELECT \(unescaped: columns) FROM users u WHERE u.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")"
    }

    static func first(of rows: PostgresRows) throws -> UserRecord? { try rows.first.map(UserRecord.init(row:)) }
}
