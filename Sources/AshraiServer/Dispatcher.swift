import AshraiProtocol
import Foundation
import Logging
import Postgres

/// Turns one request line into one response line.
///
/// The foundation answers `server.ping` (which also proves the database answers) and replies
/// `-32601` to every other method; the protocol issue grows this into the full router.
public struct Dispatcher: Sendable {
    let database: PostgresClient
    let version: String

    /// Creates a dispatcher over a connection pool.
    public init(database: PostgresClient, version: String) {
        self.database = database
        self.version = version
    }

    /// The reply to a line, or nil for a notification.
    public func handle(line: [UInt8], logger: Logger) async -> [UInt8]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]) else {
            return Self.errorResponse(id: nil, code: .parseError, message: "parse error")
        }
        guard let request = object as? [String: Any], request["jsonrpc"] as? String == "2.0",
              let method = request["method"] as? String else {
            return Self.errorResponse(id: nil, code: .invalidRequest, message: "invalid request")
        }
        guard request.keys.contains("id") else { return nil }
        let id = request["id"]
        switch method {
        case "server.ping":
            do {
                let now = try await database.query("SELECT now()").scalar(Date.self)
                return Self.resultResponse(id: id, result: ["pong": true, "database_time": ISO8601DateFormatter().string(from: now)])
            } catch {
                logger.warning("database unavailable", metadata: ["error": "\(error)"])
                return Self.errorResponse(id: id, code: .unavailable, message: "database unavailable", data: ["retryable": true])
            }
        case "server.info":
            return Self.resultResponse(id: id, result: ["name": "ashraid", "version": version])
        default:
            return Self.errorResponse(id: id, code: .methodNotFound, message: "method not found")
        }
    }

    static func resultResponse(id: Any?, result: [String: Any]) -> [UInt8] {
        encode(["jsonrpc": "2.0", "id": id ?? NSNull(), "result": result])
    }

    /// An error response line (without the newline).
    static func errorResponse(id: Any?, code: RPCErrorCode, message: String, data: [String: Any] = [:]) -> [UInt8] {
        var data = data
        if let reason = code.reason { data["reason"] = reason }
        var error: [String: Any] = ["code": code.rawValue, "message": message]
        if !data.isEmpty { error["data"] = data }
        return encode(["jsonrpc": "2.0", "id": id ?? NSNull(), "error": error])
    }

    private static func encode(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}
