import AshraiProtocol
import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

/// Where a server is and how to reach it.
public struct ServerEndpoint: Sendable, Equatable {
    /// Host name or address.
    public var host: String
    /// Port.
    public var port: Int
    /// Whether to speak TLS.
    public var useTLS: Bool
    /// A PEM file of CA certificates to trust (besides the system's), e.g. a self-signed server's.
    public var caFile: String?

    /// Creates an endpoint.
    public init(host: String, port: Int, useTLS: Bool = false, caFile: String? = nil) {
        self.host = host
        self.port = port
        self.useTLS = useTLS
        self.caFile = caFile
    }

    /// Parses `host:port` (`[::1]:7420` for IPv6).
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}

/// A failure to talk to the server at all (as opposed to an error reply).
public struct ConnectionFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let description: String
}

/// One JSON-RPC connection: requests are sent and answered in order.
public struct RPCConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextID = 1
    /// Notifications the server pushed (after `events.subscribe`) while a reply was awaited, oldest first.
    private var pending: [JSONValue] = []

    /// Connects, runs `body`, closes.
    public static func with<Result>(
        _ endpoint: ServerEndpoint, _ body: (inout RPCConnection) async throws -> Result
    ) async throws -> Result {
        let sslContext: NIOSSLContext?
        if endpoint.useTLS {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let caFile = endpoint.caFile {
                configuration.trustRoots = .file(caFile)
            }
            sslContext = try NIOSSLContext(configuration: configuration)
        } else {
            sslContext = nil
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            let serverName = endpoint.host.first?.isNumber == true || endpoint.host.contains(":") ? nil : endpoint.host
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: 64 << 20))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ConnectionFailure(description: "cannot connect to \(endpoint.host):\(endpoint.port) (\(error))")
        }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RPCConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    /// Sends a request and returns its result, or throws the server's `RPCFailure`.
    public mutating func call(_ method: String, _ params: JSONObject = [:]) async throws -> JSONValue {
        let response = try await send(method, params)
        if let result = response["result"] { return result }
        guard let error = response["error"], let code = error["code"]?.intValue else {
            throw ConnectionFailure(description: "the server sent an invalid reply")
        }
        let failure = RPCFailure(
            RPCErrorCode(rawValue: code) ?? .internalError,
            error["message"]?.stringValue ?? "error",
            data: error["data"]?.objectValue ?? [:])
        throw failure
    }

    /// Sends a request and returns the whole response object.
    public mutating func send(_ method: String, _ params: JSONObject = [:]) async throws -> JSONValue {
        let id = nextID
        nextID += 1
        let request: JSONValue = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params)]
        do {
            try await outbound.write(ByteBuffer(string: request.encoded() + "\n"))
            while true {
                guard let line = try await inbound.next() else {
                    throw ConnectionFailure(description: "the server closed the connection")
                }
                let message = try JSONValue.parse(Array(line.readableBytesView))
                // A notification (a method, no id) may come before the reply: kept for `notification()`.
                if message["id"] == nil, message["method"] != nil {
                    pending.append(message)
                    continue
                }
                return message
            }
        } catch let failure as ConnectionFailure {
            throw failure
        } catch {
            throw ConnectionFailure(description: "connection failed (\(error))")
        }
    }

    /// The next notification the server pushes (`events.subscribe`): its method and params; nil when the server
    /// closed the connection.
    public mutating func notification() async throws -> (method: String, params: JSONValue)? {
        while true {
            if !pending.isEmpty {
                let message = pending.removeFirst()
                return (message["method"]?.stringValue ?? "", message["params"] ?? .null)
            }
            let line: ByteBuffer?
            do { line = try await inbound.next() } catch { throw ConnectionFailure(description: "connection failed (\(error))") }
            guard let line else { return nil }
            let message = try JSONValue.parse(Array(line.readableBytesView))
            if message["id"] == nil, message["method"] != nil { pending.append(message) }
        }
    }
}
