import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import NIOCore
import ServiceLifecycle
import Testing

@Suite("connection limits")
struct LimitsTests {
    @Test("failures from one address beyond the limit are throttled with 429")
    func addressThrottle() async throws {
        let pool = try await freshDatabase("throttle")
        var settings = ServerSettings()
        settings.throttle.maxFailuresPerAddress = 3
        // Four failed logins on one connection that never logs in: in a full run each waits behind the other suites'
        // password hashes, and the default 10 s login deadline closed the connection between them (39 s runs seen).
        settings.loginDeadline = .seconds(300)
        try await withServer(settings: settings, database: pool) { port in
            try await LineClient.with(port: port) { client in
                for n in 1...3 {
                    let reply = try await client.call("auth.login", ["username": .string("user\(n)"), "password": "wrong password!!"])
                    #expect(reply.errorCode == 401)
                }
                let throttled = try await client.call("auth.login", ["username": "someone-else", "password": "wrong password!!"])
                #expect(throttled.errorCode == 429)
                #expect(throttled.errorReason == "rate_limited")
            }
        }
        await pool.shutdown()
    }

    @Test("a connection that sends nothing for the idle timeout is closed")
    func idleTimeout() async throws {
        var settings = ServerSettings()
        settings.idleTimeout = .seconds(1)
        settings.loginDeadline = .seconds(60)
        try await withServer(settings: settings) { port in
            let started = ContinuousClock.now
            let lines = try await LineClient.with(port: port) { client in
                _ = try await client.result("server.ping")
                return try await client.receive(1)
            }
            #expect(lines.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test("a client that stops reading is disconnected once its pending output passes the bound")
    func slowReader() async throws {
        var settings = ServerSettings()
        settings.maxPendingOutputBytes = 64 << 10
        settings.writeTimeout = .seconds(1)
        let admin = try await Shared.admin.value
        try await withServer(settings: settings) { port in
            let received = try await LineClient.with(port: port) { client -> Int in
                // ~2000 × 150 KiB of replies (the full document, after login): far more than socket buffers and the bound.
                try await client.login(admin.username, admin.password)
                var text = ""
                for n in 0..<2000 { text += #"{"jsonrpc":"2.0","id":\#(n),"method":"rpc.discover"}"# + "\n" }
                try await client.outbound.write(ByteBuffer(string: text))
                try await Task.sleep(for: .seconds(4))   // not reading
                var count = 0
                while (try? await client.receive()) != nil { count += 1 }
                return count
            }
            #expect(received < 2000)
            // The server is fine for everyone else.
            try await LineClient.with(port: port) { client in
                let pong = try await client.result("server.ping")
                #expect(pong["pong"] == true)
            }
        }
    }
}

@Suite("graceful shutdown")
struct ShutdownTests {
    /// A server whose shutdown the test triggers itself.
    static func start(_ settings: ServerSettings = ServerSettings()) async throws -> (port: Int, group: ServiceGroup, running: Task<Void, any Error>) {
        let database = try await Shared.appClient.value
        let services = Services(database: database, secrets: Shared.secrets, settings: settings, version: "test",
                                jobsDatabase: try await Shared.jobsClient.value)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = RPCServer(options: .init(host: "127.0.0.1", port: 0), services: services, logger: makeTestLogger(),
                               onRunning: { continuation.yield($0.port ?? 0) })
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: makeTestLogger())
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        return (try #require(await iterator.next()), group, running)
    }

    @Test("on shutdown each connection finishes the request in flight, then closes, and the server returns")
    func graceful() async throws {
        let (port, group, running) = try await Self.start()
        let replies = try await LineClient.with(port: port) { client -> [JSONValue] in
            _ = try await client.result("server.ping")
            // Ten requests in flight, then shutdown.
            var text = ""
            for n in 1...10 { text += #"{"jsonrpc":"2.0","id":\#(n),"method":"server.ping"}"# + "\n" }
            try await client.outbound.write(ByteBuffer(string: text))
            // Once the first reply is here the server has read the whole write: all ten are in flight.
            let first = try #require(try await client.receive())
            await group.triggerGracefulShutdown()
            return [first] + (try await client.receive(100))   // ends when the server closes
        }
        // The request being processed at shutdown is answered; pipelined ones not yet started
        // may be dropped (the client sees the connection close and may retry them).
        #expect(replies.count >= 1 && replies.count <= 10)
        #expect(replies.allSatisfy { $0["result"]?["pong"] == true })
        #expect(replies.map { $0["id"]?.intValue ?? 0 } == Array(1...replies.count))
        let started = ContinuousClock.now
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("a long request in flight at shutdown (a batch of 2000 pings) is answered in full")
    func longRequestFinishes() async throws {
        var settings = ServerSettings()
        settings.preLoginMaxLineBytes = 1 << 20   // the batch line is ~100 KB
        settings.preLoginMaxBatch = 2000
        settings.loginDeadline = .seconds(300)   // 2000 pings before login may outlast 10 s on a loaded machine
        let (port, group, running) = try await Self.start(settings)
        let reply = try await LineClient.with(port: port) { client -> JSONValue? in
            let batch = (1...2000).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"server.ping"}"# }.joined(separator: ",")
            try await client.send("[" + batch + "]")
            try await Task.sleep(for: .milliseconds(400))
            await group.triggerGracefulShutdown()
            return try await client.receive()
        }
        #expect(reply?.arrayValue?.count == 2000)
        try await running.value
    }
}
