import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// The dunning policy in force and the letter assets: read by `dunning.policy.*` and by the run.
enum DunningPolicyStore {
    static func assets(_ services: Services) throws -> CollectionAssets {
        switch services.collectionAssets {
        case .success(let assets): return assets
        case .failure: throw RPCFailure(.internalError, "letters are not configured on this server")
        }
    }

    /// The policy in force: the newest stored version, else the default from Config/ (version 0).
    static func policy(services: Services, on connection: PostgresConnection) async throws -> (version: Int, levels: [Dunning.Level], json: JSONValue) {
        let rows = try await connection.query("""
            SELECT d.version, d.levels, d.reason, u.username AS set_by, d.set_at FROM dunning_policies d LEFT JOIN users u ON u.id = d.set_by
            ORDER BY d.version DESC LIMIT 1
            """)
        if let row = rows.first {
            let levels = try DunningPolicy.levels(from: try row.decode(JSONValue.self, column: "levels"))
            let version = try row.decode(Int.self, column: "version")
            return (version, levels, [
                "version": .int(version), "levels": DunningPolicy.json(levels), "is_default": false,
                "reason": .optional(try row.decode(String?.self, column: "reason")),
                "set_by": .optional(try row.decode(String?.self, column: "set_by")),
                "set_at": .string(rfc3339(try row.decode(Date.self, column: "set_at"))),
            ])
        }
        let levels = try assets(services).defaultPolicy
        return (0, levels, ["version": 0, "levels": DunningPolicy.json(levels), "is_default": true, "reason": .null, "set_by": .null, "set_at": .null])
    }
}
