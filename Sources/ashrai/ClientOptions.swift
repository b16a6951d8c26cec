import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Options every command shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Server host:port (default: ASHRAI_SERVER, the config file, 127.0.0.1:7420).")
    var server: String?

    @Flag(name: .long, help: "Use TLS.")
    var tls = false

    @Option(name: .long, help: "PEM file of CA certificates to trust for TLS.")
    var caFile: String?

    @Flag(name: .long, help: "Print the raw JSON result instead of a table.")
    var json = false

    func validate() throws {
        if let server, ServerEndpoint.parse(server) == nil { throw ValidationError("--server must be host:port") }
    }
}

/// The client's files under `$XDG_CONFIG_HOME/ashrai` (default `~/.config/ashrai`).
enum ClientFiles {
    static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        return base.appendingPathComponent("ashrai")
    }

    /// `key = value` lines of the config file.
    static func config() -> [String: String] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("config"), encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    /// The saved session: the server it belongs to and its token.
    static func loadSession() -> (server: String, token: String)? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("session")),
              let value = try? JSONValue.parse(Array(data)),
              let server = value["server"]?.stringValue, let token = value["token"]?.stringValue else { return nil }
        return (server, token)
    }

    /// Saves the session with mode 0600 (created that way, never world-readable for a moment).
    static func saveSession(server: String, token: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = directory.appendingPathComponent("session").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot write \(path)") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array((JSONValue.object(["server": .string(server), "token": .string(token)]).encoded() + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw ValidationError("cannot write \(path)") }
    }

    static func deleteSession() {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("session"))
    }
}

extension ClientOptions {
    /// The endpoint from flag, environment, config file, default — in that order.
    var endpoint: ServerEndpoint {
        let config = ClientFiles.config()
        let text = server ?? ProcessInfo.processInfo.environment["ASHRAI_SERVER"] ?? config["server"] ?? "127.0.0.1:7420"
        let (host, port) = ServerEndpoint.parse(text) ?? ("127.0.0.1", 7420)
        let useTLS = tls || ["1", "true", "yes"].contains(config["tls"]?.lowercased() ?? "")
        return ServerEndpoint(host: host, port: port, useTLS: useTLS, caFile: caFile ?? config["ca_file"])
    }

    var serverKey: String { "\(endpoint.host):\(endpoint.port)" }

    /// Connects, resumes the saved session for this server if any, runs `body`, and turns
    /// failures into a message on stderr and the exit code of their class.
    func run(resume: Bool = true, _ body: (inout RPCConnection) async throws -> Void) async throws {
        do {
            try await RPCConnection.with(endpoint) { connection in
                if resume, let saved = ClientFiles.loadSession(), saved.server == serverKey {
                    do {
                        _ = try await connection.call("auth.resume", ["token": .string(saved.token)])
                    } catch let failure as RPCFailure where failure.code == .unauthenticated {
                        ClientFiles.deleteSession()
                    }
                }
                try await body(&connection)
            }
        } catch let failure as RPCFailure {
            var message = "ashrai: \(failure.message)"
            if let field = failure.data["field"]?.stringValue { message += " (param \(field))" }
            if let rule = failure.data["rule"]?.stringValue { message += " (rule \(rule))" }
            if failure.code == .unauthenticated { message += " — run `ashrai login`" }
            if failure.data["reason"] == "password_change_required" { message += " — run `ashrai whoami --change-password`" }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            throw ExitCode(Self.exitCode(for: failure.code))
        } catch let failure as ConnectionFailure {
            FileHandle.standardError.write(Data("ashrai: \(failure.description)\n".utf8))
            throw ExitCode(3)
        }
    }

    /// One exit code per error class (documented in `ashrai --help`).
    static func exitCode(for code: RPCErrorCode) -> Int32 {
        switch code {
        case .unauthenticated: return 4
        case .forbidden: return 5
        case .notFound: return 6
        case .conflict: return 7
        case .ruleViolated: return 8
        case .locked, .rateLimited: return 9
        case .unavailable: return 10
        case .parseError, .invalidRequest, .methodNotFound, .invalidParams: return 11
        case .internalError: return 1
        }
    }

    /// Prints a result: raw JSON with --json, else the table or text `human` makes.
    func show(_ result: JSONValue, human: (JSONValue) -> String) {
        print(json ? result.prettyEncoded() : human(result), terminator: json ? "" : "\n")
    }
}

/// Reads a password: from stdin with --password-stdin, else from the terminal without echo.
func readPassword(prompt: String, fromStdin: Bool) throws -> String {
    if fromStdin {
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on standard input") }
        return line
    }
    guard isatty(STDIN_FILENO) == 1 else { throw ValidationError("not a terminal: use --password-stdin") }
    FileHandle.standardError.write(Data(prompt.utf8))
    var original = termios()
    tcgetattr(STDIN_FILENO, &original)
    var silent = original
    silent.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
    defer {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
        FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true) ?? ""
}
