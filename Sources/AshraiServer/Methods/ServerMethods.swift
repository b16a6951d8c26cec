import AshraiProtocol
import Foundation
import Postgres

/// `server.ping`, `server.info`, `rpc.discover`.
enum ServerMethods {
    static let handlers: [String: MethodHandler] = [
        "server.ping": { services, _, _ in
            let now = try await services.database.query("SELECT now()").scalar(Date.self)
            return ["pong": true, "database_time": .string(rfc3339(now))]
        },
        "server.info": { services, _, _ in
            [
                "name": "ashraid", "version": .string(services.version),
                "protocol_version": .string(OpenRPCDocument.protocolVersion), "time": .string(rfc3339(services.now())),
                "today": .string(services.today().description), "time_zone": .string(services.settings.timeZone.identifier),
            ]
        },
        // Over the wire the Dispatcher answers rpc.discover itself from `Dispatcher.discovery`
        // (encoded once; the small document before login). This stays for the catalog's
        // every-method-has-a-handler check and for callers of the handler table.
        "rpc.discover": { services, _, _ in
            OpenRPCDocument.make()
        },
    ]
}
