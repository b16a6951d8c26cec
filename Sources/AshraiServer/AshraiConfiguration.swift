import Configuration
import Foundation
import Logging
import SystemPackage

/// The daemon's settings: `Config/ashraid.yaml` (or `--config`), overridden by `ASHRAI_*`
/// environment variables, overridden by flags.
public struct AshraiConfiguration: Sendable, Equatable {
    /// Listen host.
    public var listenHost = "127.0.0.1"
    /// Listen port (0 picks a free one; tests use that).
    public var listenPort = 7420
    /// The application role's connection URL.
    public var databaseURL = "postgresql://ashrai_app@127.0.0.1:54320/ashrai"
    /// The owner's connection URL for migrations; nil when not configured.
    public var migrationDatabaseURL: String?
    /// Pool size.
    public var poolSize = 8
    /// Directory of migration files.
    public var migrationsDirectory = "SQL"
    /// Log level.
    public var logLevel: Logger.Level = .info

    /// Built-in defaults.
    public init() {}

    /// A configuration problem, named by key and source, without secret values.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        /// What is wrong.
        public var description: String
    }

    /// Loads the layers. `configFile` nil means `Config/ashraid.yaml` if it exists.
    public static func load(
        configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        listen listenFlag: String? = nil
    ) async throws -> AshraiConfiguration {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ["ashrai"])
        ]
        let path = configFile ?? "Config/ashraid.yaml"
        if FileManager.default.fileExists(atPath: path) {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
            } catch {
                throw Problem(description: "cannot read configuration file \(path): \(error)")
            }
        } else if configFile != nil {
            throw Problem(description: "configuration file \(path) does not exist")
        }
        let reader = ConfigReader(providers: providers)
        var result = AshraiConfiguration()

        if let listen = listenFlag ?? reader.string(forKey: "listen") {
            (result.listenHost, result.listenPort) = try parseListen(listen, key: listenFlag != nil ? "--listen" : "listen (ASHRAI_LISTEN)")
        }
        if let url = reader.string(forKey: "database.url"), !url.isEmpty { result.databaseURL = url }
        if let url = reader.string(forKey: "migration.database.url"), !url.isEmpty { result.migrationDatabaseURL = url }
        if let size = reader.string(forKey: "database.poolSize") {
            guard let value = Int(size), (1...512).contains(value) else {
                throw Problem(description: "database.poolSize (ASHRAI_DATABASE_POOL_SIZE) must be an integer 1…512")
            }
            result.poolSize = value
        }
        if let directory = reader.string(forKey: "database.migrations"), !directory.isEmpty {
            result.migrationsDirectory = directory
        }
        if let level = reader.string(forKey: "log.level") {
            guard let value = Logger.Level(rawValue: level.lowercased()) else {
                throw Problem(description: "log.level (ASHRAI_LOG_LEVEL) must be one of trace, debug, info, notice, warning, error, critical")
            }
            result.logLevel = value
        }
        return result
    }

    /// Parses `host:port` (`[::1]:7420` for IPv6).
    public static func parseListen(_ text: String, key: String) throws -> (String, Int) {
        let problem = Problem(description: "\(key) must be host:port, e.g. 127.0.0.1:7420")
        guard let colon = text.lastIndex(of: ":") else { throw problem }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw problem
        }
        return (host, port)
    }
}
