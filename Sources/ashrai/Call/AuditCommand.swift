import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai audit`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the audit trail, newest first.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Entity type, e.g. user.") var entity: String?
    @Option(help: "Entity id.") var entityId: String?
    @Option(help: "Acting user id.") var userId: Int?
    @Option(help: "Only entries since this RFC 3339 instant.") var since: String?
    @Option(help: "How many entries (1–500).") var limit: Int = 50

    func run() async throws {
        var params: JSONObject = ["limit": .int(limit)]
        if let entity { params["entity"] = .string(entity) }
        if let entityId { params["entity_id"] = .string(entityId) }
        if let userId { params["user_id"] = .int(userId) }
        if let since { params["since"] = .string(since) }
        try await options.run { connection in
            let result = try await connection.call("audit.list", params)
            options.show(result) { result in
                Table(headers: ["ID", "AT", "USER", "METHOD", "ENTITY", "ENTITY ID"],
                      rows: (result["entries"]?.arrayValue ?? []).map { entry in
                          ["id", "at", "username", "method", "entity", "entity_id"].map { entry[$0]?.cell ?? "-" }
                      }).render()
            }
        }
    }
}
