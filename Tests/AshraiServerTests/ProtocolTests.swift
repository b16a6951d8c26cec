import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Testing

@Suite("JSON-RPC over TCP")
struct ProtocolTests {
    @Test("server.ping answers pong with the database's time; server.info names the protocol version")
    func ping() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                let pong = try await client.result("server.ping")
                #expect(pong["pong"] == true)
                #expect(pong["database_time"]?.stringValue.flatMap(parseRFC3339) != nil)
                let info = try await client.result("server.info")
                #expect(info["protocol_version"]?.stringValue == OpenRPCDocument.protocolVersion)
            }
        }
    }

    @Test("parse error, invalid request and unknown method get their codes; the connection stays open")
    func protocolErrors() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                try await client.send("{not json")
                let parse = try #require(try await client.receive())
                #expect(parse.errorCode == -32700 && parse["id"] == .null)

                try await client.send(#"{"jsonrpc":"2.0","id":5}"#)
                #expect(try await client.receive()?.errorCode == -32600)
                try await client.send(#"{"jsonrpc":"1.0","id":6,"method":"server.ping"}"#)
                #expect(try await client.receive()?.errorCode == -32600)
                try await client.send(#"{"jsonrpc":"2.0","id":{"x":1},"method":"server.ping"}"#)
                let badID = try #require(try await client.receive())
                #expect(badID.errorCode == -32600 && badID["id"] == .null)
                try await client.send("42")
                #expect(try await client.receive()?.errorCode == -32600)

                let unknown = try await client.call("customers.teleport")
                #expect(unknown.errorCode == -32601)
                #expect(try await client.result("server.info")["name"] == "ashraid")
            }
        }
    }

    @Test("invalid UTF-8 is a parse error and the connection stays open")
    func invalidUTF8() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                var bytes = Array(#"{"jsonrpc":"2.0","id":1,"method":"server.ping","params":{"x":""#.utf8)
                bytes += [0xC3, 0x28]  // an invalid two-byte sequence
                bytes += Array(#""}}"#.utf8)
                try await client.send(bytes: bytes)
                #expect(try await client.receive()?.errorCode == -32700)
                #expect(try await client.result("server.ping")["pong"] == true)
            }
        }
    }

    @Test("invalid params name the field in data.field")
    func invalidParams() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                let missing = try await client.call("auth.login", ["username": "dana"])
                #expect(missing.errorCode == -32602)
                #expect(missing["error"]?["data"]?["field"] == "password")
                let unknown = try await client.call("auth.login", ["username": "dana", "password": "x", "otp": "1"])
                #expect(unknown["error"]?["data"]?["field"] == "otp")
                let wrongType = try await client.call("auth.login", ["username": 17, "password": "whatever it is"])
                #expect(wrongType["error"]?["data"]?["field"] == "username")
                try await client.send(#"{"jsonrpc":"2.0","id":9,"method":"auth.login","params":["dana","pw"]}"#)
                #expect(try await client.receive()?["error"]?["data"]?["field"] == "params")
            }
        }
    }

    @Test("ids are echoed exactly: strings, integers, decimals, exponents, null")
    func idEcho() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                for id in [#""abc-ד""#, "7", "1.50", "1e3", "-0", "12345678901234567890123", "null"] {
                    try await client.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"server.info"}"#)
                    let reply = try #require(try await client.receive())
                    #expect(reply["id"]?.encoded() == id)
                }
            }
        }
    }

    @Test("a batch mixed with notifications gets one array with only the requests' replies, in order")
    func batches() async throws {
        try await withServer { port in
            try await LineClient.with(port: port) { client in
                try await client.send("""
                    [{"jsonrpc":"2.0","id":1,"method":"server.info"},
                     {"jsonrpc":"2.0","method":"server.ping"},
                     {"jsonrpc":"2.0","id":"two","method":"nope"},
                     {"jsonrpc":"2.0","method":"nope"},
                     17,
                     {"jsonrpc":"2.0","id":3,"method":"server.ping"}]
                    """.replacingOccurrences(of: "\n", with: ""))
                let replies = try #require(try await client.receive()?.arrayValue)
                #expect(replies.count == 4)
                #expect(replies[0]["id"] == 1 && replies[0]["result"] != nil)
                #expect(replies[1]["id"] == "two" && replies[1].errorCode == -32601)
                #expect(replies[2]["id"] == .null && replies[2].errorCode == -32600)
                #expect(replies[3]["id"] == 3 && replies[3]["result"]?["pong"] == true)

                try await client.send("[]")
                #expect(try await client.receive()?.errorCode == -32600)
                // A batch of notifications only gets no reply at all: the next reply is the ping's.
                try await client.send(#"[{"jsonrpc":"2.0","method":"server.ping"}]"#)
                try await client.send(#"{"jsonrpc":"2.0","method":"server.ping"}"#)
                #expect(try await client.result("server.info")["name"] == "ashraid")
            }
        }
    }

    @Test("1000 pipelined requests on one connection are answered in order")
    func pipelining() async throws {
        var settings = ServerSettings()
        settings.loginDeadline = .seconds(120)   // not what this tests: a loaded machine may take a while for 1000 replies
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { client in
                var text = ""
                for n in 0..<1000 {
                    text += #"{"jsonrpc":"2.0","id":\#(n),"method":"\#(n % 2 == 0 ? "server.info" : "server.ping")"}"# + "\n"
                }
                try await client.outbound.write(.init(string: text))
                for n in 0..<1000 {
                    let reply = try #require(try await client.receive())
                    #expect(reply["id"]?.intValue == n)
                    if reply["id"]?.intValue != n { break }
                }
            }
        }
    }

    @Test("an over-long line before login (16 KiB) gets -32600 with id null and the connection closes")
    func overlongBeforeLogin() async throws {
        try await withServer { port in
            let replies = try await LineClient.with(port: port) { client in
                try await client.send(#"{"jsonrpc":"2.0","id":1,"method":"server.info","params":{"pad":""# + String(repeating: "x", count: 17_000) + #""}}"#)
                return try await client.receive(5)
            }
            #expect(replies.count == 1)
            #expect(replies.first?.errorCode == -32600 && replies.first?["id"] == .null)
            // Other connections are unaffected.
            try await LineClient.with(port: port) { client in
                let pong = try await client.result("server.ping")
                #expect(pong["pong"] == true)
            }
        }
    }

    @Test("after login the line limit is the larger one, and it is still enforced")
    func overlongAfterLogin() async throws {
        var settings = ServerSettings()
        settings.maxLineBytes = 64 << 10
        let admin = try await Shared.admin.value
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { client in
                try await client.login(admin.username, admin.password)
                let padded = #"{"jsonrpc":"2.0","id":2,"method":"auth.whoami","params":{"pad":""# + String(repeating: "x", count: 30_000) + #""}}"#
                try await client.send(padded)
                #expect(try await client.receive()?["error"]?["data"]?["field"] == "pad")   // framed and parsed
                try await client.send(String(repeating: "y", count: 70_000))
                let replies = try await client.receive(3)
                #expect(replies.count == 1 && replies.first?.errorCode == -32600)
            }
        }
    }

    @Test("connections beyond max_connections, all logged in, get an error line and are closed")
    func maxConnections() async throws {
        var settings = ServerSettings()
        settings.maxConnections = 2
        let admin = try await Shared.admin.value
        try await withServer(settings: settings) { port in
            try await LineClient.with(port: port) { first in
                try await first.login(admin.username, admin.password)
                try await LineClient.with(port: port) { second in
                    try await second.login(admin.username, admin.password)
                    let refused = try await LineClient.with(port: port) { third in try await third.receive(3) }
                    #expect(refused.count == 1)
                    #expect(refused.first?.errorCode == 503)
                    #expect(refused.first?["error"]?["data"]?["retryable"] == true)
                }
            }
        }
    }

    @Test("an unauthenticated connection is closed at the login deadline")
    func loginDeadline() async throws {
        var settings = ServerSettings()
        settings.loginDeadline = .seconds(1)
        try await withServer(settings: settings) { port in
            let started = ContinuousClock.now
            let lines = try await LineClient.with(port: port) { client in
                _ = try await client.result("server.ping")
                return try await client.receive(1)   // nil/empty once the server closes
            }
            #expect(lines.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }
}
