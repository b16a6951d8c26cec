import AshraiCore
import AshraiProtocol
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// `delivery.sms.*` and `delivery.whatsapp.*`: an HTTP gateway that takes a JSON POST. The URL, the
/// header that carries the credential, the body (a JSON template whose `{{to}}`, `{{text}}`,
/// `{{sender}}` and `{{reference}}` are filled in as JSON string content) and where in the reply
/// the gateway's message id is (`id`, or a dotted path like `data.message_id`).
public struct GatewaySettings: Sendable, Equatable {
    public var url: String
    /// The header that carries the credential, e.g. `Authorization` (with `Bearer …` in the token) or `X-API-Key`.
    public var authHeader = "Authorization"
    /// From the environment or a file, never from the YAML.
    public var token: String?
    public var body = #"{"to": "{{to}}", "text": "{{text}}", "from": "{{sender}}", "reference": "{{reference}}"}"#
    public var idField = "id"
    public var sender = ""
    public var caFile: String?
    public var timeoutSeconds: Int64 = 20

    public init(url: String) { self.url = url }

    /// The placeholders a body template may use.
    static let placeholders = ["to", "text", "sender", "reference"]

    /// The JSON body for one message: each placeholder replaced by its value, escaped as JSON
    /// string content. Nil when the result is not JSON (checked at start-up with sample values).
    public func requestBody(to: String, text: String, reference: String) -> String? {
        var result = body
        for (name, value) in [("to", to), ("text", text), ("sender", sender), ("reference", reference)] {
            let encoded = JSONValue.string(value).encoded()
            result = result.replacingOccurrences(of: "{{\(name)}}", with: String(encoded.dropFirst().dropLast()))
        }
        return (try? JSONValue.parse(result)) == nil ? nil : result
    }

    /// The gateway's id in its reply (`idField`, dotted for nesting); a number is taken as its text.
    public func providerID(in reply: JSONValue) -> String? {
        var value: JSONValue? = reply
        for key in idField.split(separator: ".") { value = value?.objectValue?[String(key)] }
        switch value {
        case .string(let text)?: return String(text.prefix(200))
        case .number(let text)?: return text
        default: return nil
        }
    }
}

/// Hands SMS and WhatsApp messages to their gateways over AsyncHTTPClient (HTTP/1.1 or 2, TLS by
/// NIOSSL). The process-wide `HTTPClient.shared` (system trust roots), which never needs shutting
/// down; a gateway with its own CA file gets a client of its own for each send.
struct HTTPGateway: Sendable {
    func client(caFile: String?) -> (HTTPClient, owned: Bool) {
        guard let caFile else { return (HTTPClient.shared, false) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caFile)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(30)))
        configuration.tlsConfiguration = tls
        return (HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration), true)
    }

    /// What the gateway did with one message, and the exact body posted.
    func send(to: String, text: String, reference: String, settings: GatewaySettings) async -> (outcome: DeliveryOutcome, body: [UInt8]) {
        guard let body = settings.requestBody(to: to, text: text, reference: reference) else {
            return (.permanent("the gateway's body template does not make JSON with this message", badAddress: false), [])
        }
        let bytes = Array(body.utf8)
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: reference)
        if let token = settings.token { request.headers.add(name: settings.authHeader, value: token) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let (client, owned) = client(caFile: settings.caFile)
        defer { if owned { Task { try? await client.shutdown() } } }
        do {
            let response = try await client.execute(request, timeout: .seconds(settings.timeoutSeconds))
            let reply = try await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            let parsed = try? JSONValue.parse(Array(reply.readableBytesView))
            let detail = (200..<300).contains(status) ? nil : String(decoding: reply.readableBytesView.prefix(200), as: UTF8.self)
            return (DeliveryOutcome.http(status: status, error: detail.flatMap { $0.isEmpty ? nil : $0 },
                                         providerID: parsed.flatMap(settings.providerID(in:))), bytes)
        } catch {
            return (DeliveryOutcome.http(status: nil, error: "the gateway did not answer: \(error)", providerID: nil), bytes)
        }
    }
}
