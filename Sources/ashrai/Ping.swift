import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `ashrai ping`: sends `server.ping` and prints the reply line.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the server (and its database) answers.")

    @Option(name: .long, help: "Server host:port.")
    var server: String = ProcessInfo.processInfo.environment["ASHRAI_SERVER"] ?? "127.0.0.1:7420"

    func run() throws {
        guard let colon = server.lastIndex(of: ":"), let port = UInt16(server[server.index(after: colon)...]) else {
            throw ValidationError("--server must be host:port")
        }
        let host = String(server[..<colon])
        let line = try LineClient.roundTrip(host: host, port: port,
            request: #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#)
        print(line)
    }
}

/// A blocking one-request TCP client; the full client arrives with the protocol issue.
enum LineClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func roundTrip(host: String, port: UInt16, request: String) throws -> String {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "cannot create socket") }
        defer { close(fd) }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
        let bytes = Array((request + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw Failure(description: "write failed") }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !reply.contains(UInt8(ascii: "\n")) {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            reply += buffer[0..<count]
        }
        return String(decoding: reply.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }
}
