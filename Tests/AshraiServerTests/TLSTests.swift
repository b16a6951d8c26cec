import AshraiClient
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Testing

@Suite("TLS")
struct TLSTests {
    /// A self-signed certificate for 127.0.0.1 made with openssl.
    static func makeCertificate() throws -> (certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(Shared.unique("tls")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                             "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl failed")
        return (directory + "/cert.pem", directory + "/key.pem")
    }

    @Test("with a certificate the port speaks TLS 1.2+, and a plaintext client gets nothing")
    func tls() async throws {
        let (certificate, key) = try Self.makeCertificate()
        try await withServer(tls: (certificate, key)) { port in
            let endpoint = ServerEndpoint(host: "127.0.0.1", port: port, useTLS: true, caFile: certificate)
            let pong = try await RPCConnection.with(endpoint) { connection in try await connection.call("server.ping") }
            #expect(pong["pong"] == true)
            // Without trusting the certificate the handshake fails.
            await #expect(throws: (any Error).self) {
                try await RPCConnection.with(ServerEndpoint(host: "127.0.0.1", port: port, useTLS: true)) { connection in
                    try await connection.call("server.ping")
                }
            }
            // Plain JSON on the TLS port is not answered as JSON-RPC.
            let plain = try await LineClient.with(port: port) { client -> [JSONValue] in
                try await client.send(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#)
                return (try? await client.receive(1)) ?? []
            }
            #expect(plain.isEmpty)
        }
    }
}
