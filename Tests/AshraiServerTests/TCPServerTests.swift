import AshraiServer
import AshraiTestSupport
import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import Testing

/// A real TCP client speaking one JSON value per line.
struct LineClient {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Connects, runs `body`, and closes.
    static func with(port: Int, _ body: (inout LineClient) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var client = LineClient(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await body(&client)
        }
    }

    /// Sends raw text and a newline.
    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text + "\n"))
    }

    /// Reads up to `limit` lines, fewer if the server closes the connection.
    mutating func readLines(_ limit: Int) async throws -> [[String: Any]] {
        var lines: [[String: Any]] = []
        while lines.count < limit, let buffer = try await inbound.next() {
            let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
            lines.append(object ?? [:])
        }
        return lines
    }
}

/// Starts an `RPCServer` on a free port for one test, then shuts it down gracefully.
func withRunningServer(_ body: (Int) async throws -> Void) async throws {
    let database = try await Shared.appClient.value
    let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
    let server = RPCServer(
        options: .init(host: "127.0.0.1", port: 0, maxLineBytes: 4096),
        dispatcher: Dispatcher(database: database, version: "test"),
        logger: makeTestLogger(),
        onRunning: { address in portContinuation.yield(address.port ?? 0) })
    let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: makeTestLogger())
    let running = Task { try await group.run() }
    var ports = portStream.makeAsyncIterator()
    let port = try #require(await ports.next())
    do {
        try await body(port)
    } catch {
        await group.triggerGracefulShutdown()
        throw error
    }
    await group.triggerGracefulShutdown()
    try await running.value
}

@Suite("TCP server")
struct TCPServerTests {
    @Test("server.ping over real TCP answers pong with the database's time")
    func ping() async throws {
        try await withRunningServer { port in
            try await LineClient.with(port: port) { client in
                try await client.send(#"{"jsonrpc":"2.0","id":"a-1","method":"server.ping"}"#)
                let reply = try await client.readLines(1)[0]
                #expect(reply["id"] as? String == "a-1")
                let result = try #require(reply["result"] as? [String: Any])
                #expect(result["pong"] as? Bool == true)
                #expect(result["database_time"] is String)
            }
        }
    }

    @Test("unknown methods get -32601, bad JSON -32700, and the connection stays open; CRLF is accepted")
    func errorsKeepConnection() async throws {
        try await withRunningServer { port in
            var replies: [[String: Any]] = []
            try await LineClient.with(port: port) { client in
                try await client.send(#"{"jsonrpc":"2.0","id":7,"method":"nope.nothing"}"#)
                try await client.send("{not json")
                try await client.send(#"{"jsonrpc":"2.0","id":8,"method":"server.info"}"# + "\r")
                replies = try await client.readLines(3)
            }
            try #require(replies.count == 3)
            #expect((replies[0]["error"] as? [String: Any])?["code"] as? Int == -32601)
            #expect(replies[0]["id"] as? Int == 7)
            #expect((replies[1]["error"] as? [String: Any])?["code"] as? Int == -32700)
            #expect(replies[1]["id"] is NSNull)
            #expect((replies[2]["result"] as? [String: Any])?["name"] as? String == "ashraid")
        }
    }

    @Test("a line over the limit gets -32600 with id null and the connection is closed")
    func overlongLine() async throws {
        try await withRunningServer { port in
            var replies: [[String: Any]] = []
            try await LineClient.with(port: port) { client in
                try await client.send(String(repeating: "x", count: 10_000))
                replies = try await client.readLines(5)   // returns when the server closes
            }
            #expect(replies.count == 1)
            #expect((replies.first?["error"] as? [String: Any])?["code"] as? Int == -32600)
            #expect(replies.first?["id"] is NSNull)
            // Other connections are unaffected.
            try await LineClient.with(port: port) { other in
                try await other.send(#"{"jsonrpc":"2.0","id":1,"method":"server.info"}"#)
                #expect(try await other.readLines(1).count == 1)
            }
        }
    }
}
