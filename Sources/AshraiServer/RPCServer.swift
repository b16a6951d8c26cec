import AshraiProtocol
import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import Postgres
import ServiceLifecycle
import Synchronization

/// The TCP server: one JSON value per line, one task per connection.
///
/// Modelled on swift-nio's `NIOTCPEchoServer`: `ServerBootstrap.bind` with `NIOAsyncChannel`,
/// a discarding task group, and each connection's errors caught in its own task. Framing is a
/// `LineBasedFrameDecoder` whose buffer is bounded, so a line without end cannot grow memory.
///
/// This is the foundation's transport; the JSON-RPC dispatcher (`Dispatcher`) answers what it
/// knows and `-32601` for the rest.
public final class RPCServer: Service, Sendable {
    /// Settings for the listener.
    public struct Options: Sendable {
        /// Host to bind.
        public var host: String
        /// Port to bind (0 for any free port).
        public var port: Int
        /// Longest accepted line in bytes.
        public var maxLineBytes: Int

        /// Creates options.
        public init(host: String, port: Int, maxLineBytes: Int = 1 << 20) {
            self.host = host
            self.port = port
            self.maxLineBytes = maxLineBytes
        }
    }

    private let options: Options
    private let dispatcher: Dispatcher
    private let logger: Logger
    private let onRunning: @Sendable (SocketAddress) -> Void
    private let nextConnectionID = Atomic<Int>(1)

    /// Creates a server; `onRunning` receives the bound address (tests read the port from it).
    public init(
        options: Options, dispatcher: Dispatcher, logger: Logger,
        onRunning: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.options = options
        self.dispatcher = dispatcher
        self.logger = logger
        self.onRunning = onRunning
    }

    /// Accepts connections until graceful shutdown, then stops accepting and lets the
    /// connections in flight finish.
    public func run() async throws {
        let maxLineBytes = options.maxLineBytes
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: options.host, port: options.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: maxLineBytes + 2))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init())
                }
            }
        if let address = serverChannel.channel.localAddress {
            logger.info("listening", metadata: ["address": "\(address)"])
            onRunning(address)
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
                        group.addTask { await self.handle(connection, id: id) }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.channel.close(promise: nil)
        }
        logger.info("server stopped")
    }

    private func handle(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, id: Int) async {
        var logger = self.logger
        logger[metadataKey: "connection.id"] = "\(id)"
        logger.debug("connection opened")
        do {
            try await channel.executeThenClose { inbound, outbound in
                func send(_ reply: [UInt8]) async throws {
                    var buffer = channel.channel.allocator.buffer(capacity: reply.count + 1)
                    buffer.writeBytes(reply)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                    try await outbound.write(buffer)
                }
                do {
                    for try await var line in inbound {
                        var bytes = line.readBytes(length: line.readableBytes) ?? []
                        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                        guard !bytes.isEmpty else { continue }
                        if let reply = await dispatcher.handle(line: bytes, logger: logger) {
                            try await send(reply)
                        }
                    }
                } catch is ByteToMessageDecoderError.PayloadTooLargeError {
                    // Answer, then close: the rest of the line cannot be framed.
                    logger.notice("line too long; closing connection")
                    try await send(Dispatcher.errorResponse(id: nil, code: .invalidRequest, message: "line too long"))
                }
            }
        } catch {
            logger.debug("connection ended with error", metadata: ["error": "\(error)"])
        }
        logger.debug("connection closed")
    }
}
