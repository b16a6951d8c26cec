import AshraiCore
import AshraiProtocol
import Configuration
import Foundation
import Logging
import Postgres
import SystemPackage

/// The daemon's settings: `Config/ashraid.yaml` (or `--config`), overridden by `ASHRAI_*`
/// environment variables, overridden by flags.
public struct AshraiConfiguration: Sendable {
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
    /// Whether pooled connections keep named prepared statements (`database.preparedStatements`; off behind
    /// PgBouncer in transaction mode, see docs/DEPLOYMENT.md).
    public var preparedStatements = true
    /// A streaming replica's URL for reports (`database.replicaUrl`, the application role); nil: none.
    public var replicaURL: String?
    /// Where the daemon LISTENs for events (`database.eventsUrl`, the application role); nil: `databaseURL`. Behind a
    /// PgBouncer in transaction mode it must reach PostgreSQL directly (LISTEN needs a session of its own).
    public var eventsURL: String?
    /// Directory of migration files.
    public var migrationsDirectory = "SQL"
    /// Log level.
    public var logLevel: Logger.Level = .info
    /// Limits, timeouts and session lifetimes of the request path.
    public var server = ServerSettings()
    /// TLS certificate chain (PEM); TLS is on when this and `tlsKey` are set.
    public var tlsCertificate: String?
    /// TLS private key (PEM).
    public var tlsKey: String?
    /// argon2id cost.
    public var passwordCost = Secrets.Cost.interactive

    /// Built-in defaults.
    public init() {}

    /// A configuration problem, named by key and source, without secret values.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        /// What is wrong.
        public var description: String
    }

    /// The application pool's connection settings: the URL, the request bound, prepared statements or not.
    public func applicationDatabase() throws -> PostgresConfiguration {
        pool(try PostgresConfiguration(url: databaseURL), system: false)
    }

    /// The replica pool's, if one is configured: the request bound, prepared statements as the primary's.
    public func replicaDatabase() throws -> PostgresConfiguration? {
        try replicaURL.map { pool(try PostgresConfiguration(url: $0), system: false) }
    }

    /// The events listener's connection: `database.eventsUrl`, else the application database's.
    public func eventsDatabase() throws -> PostgresConfiguration {
        pool(try PostgresConfiguration(url: eventsURL ?? databaseURL), system: false)
    }

    /// The jobs' pool's: the application role's `_jobs` login, with the jobs' bound.
    public func jobsDatabase() throws -> PostgresConfiguration {
        pool(DatabaseSetup.jobsConfiguration(for: try PostgresConfiguration(url: databaseURL)), system: true)
    }

    /// What every pool of the daemon gets: the call bound (the requests' or the jobs') and the prepared-statements choice.
    private func pool(_ base: PostgresConfiguration, system: Bool) -> PostgresConfiguration {
        var configuration = base.withCallTimeout(server.clientCallTimeout(system: system))
        configuration.preparedStatements = preparedStatements
        return configuration
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
        if let url = reader.string(forKey: "database.replicaUrl"), !url.isEmpty { result.replicaURL = url }
        if let url = reader.string(forKey: "database.eventsUrl"), !url.isEmpty { result.eventsURL = url }
        if let directory = reader.string(forKey: "database.migrations"), !directory.isEmpty {
            result.migrationsDirectory = directory
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = reader.string(forKey: ConfigKey(key)) else { return nil }
            guard let value = Int(text), range.contains(value) else {
                let env = "ASHRAI_" + key.split(separator: ".").map { part in
                    part.reduce(into: "") { out, ch in
                        if ch.isUppercase, !out.isEmpty { out += "_" }
                        out += ch.uppercased()
                    }
                }.joined(separator: "_")
                throw Problem(description: "\(key) (\(env)) must be an integer \(range.lowerBound)…\(range.upperBound)")
            }
            return value
        }
        if let v = try integer("database.poolSize", 1...512) { result.poolSize = v }
        if let text = reader.string(forKey: "database.preparedStatements") {
            switch text.lowercased() {
            case "true", "yes", "on", "1": result.preparedStatements = true
            case "false", "no", "off", "0": result.preparedStatements = false
            default: throw Problem(description: "database.preparedStatements (ASHRAI_DATABASE_PREPARED_STATEMENTS) must be true or false")
            }
        }
        if let v = try integer("database.callTimeoutSeconds", 1...3600) { result.server.databaseCallTimeout = .seconds(v) }
        if let v = try integer("database.jobsCallTimeoutSeconds", 1...86_400) { result.server.jobsCallTimeout = .seconds(v) }
        if let v = try integer("database.replicaMaxLagSeconds", 1...86_400) { result.server.replicaMaxLag = .seconds(v) }
        if let v = try integer("events.pollIntervalSeconds", 1...3600) { result.server.eventsPollInterval = .seconds(v) }
        if let v = try integer("server.maxLineBytes", 1024...(64 << 20)) { result.server.maxLineBytes = v }
        if let v = try integer("server.preLoginMaxLineBytes", 1024...(1 << 20)) { result.server.preLoginMaxLineBytes = v }
        if let v = try integer("server.maxConnections", 1...100_000) { result.server.maxConnections = v }
        if let v = try integer("server.maxAnonymousPerAddress", 1...100_000) { result.server.maxAnonymousPerAddress = v }
        if let v = try integer("server.loginDeadlineSeconds", 1...3600) { result.server.loginDeadline = .seconds(v) }
        if let v = try integer("server.crowdedLoginDeadlineSeconds", 1...3600) { result.server.crowdedLoginDeadline = .seconds(v) }
        if let v = try integer("server.idleTimeoutSeconds", 1...86_400) { result.server.idleTimeout = .seconds(v) }
        if let v = try integer("server.writeTimeoutSeconds", 1...3600) { result.server.writeTimeout = .seconds(v) }
        if let v = try integer("server.maxPendingOutputBytes", 65_536...(1 << 30)) { result.server.maxPendingOutputBytes = v }
        if let v = try integer("server.maxBatch", 1...10_000) { result.server.maxBatch = v }
        if let v = try integer("server.preLoginMaxBatch", 1...100) { result.server.preLoginMaxBatch = v }
        if let v = try integer("server.maxReplyBytes", 65_536...(1 << 30)) { result.server.maxReplyBytes = v }
        if let v = try integer("auth.sessionHours", 1...720) { result.server.sessionLifetime = .seconds(v * 3600) }
        if let v = try integer("auth.idleMinutes", 1...1440) { result.server.sessionIdleLifetime = .seconds(v * 60) }
        if let v = try integer("auth.hashMemoryKib", 19_456...4_194_304) { result.passwordCost.memoryBytes = v * 1024 }
        if let v = try integer("auth.hashOperations", 2...100) { result.passwordCost.operations = v }
        if let path = reader.string(forKey: "auth.commonPasswordsFile"), !path.isEmpty {
            guard let list = PasswordPolicy.commonPasswords(fromFile: path) else {
                throw Problem(description: "auth.commonPasswordsFile (ASHRAI_AUTH_COMMON_PASSWORDS_FILE): cannot read \(path)")
            }
            result.server.commonPasswords = list
        }
        try loadCredit(reader: reader, into: &result.server, integer: integer)
        try loadCollections(reader: reader, into: &result.server.collections)
        if let v = reader.string(forKey: "bank.profiles"), !v.isEmpty { result.server.bankProfilesDirectory = v }
        if let v = try integer("bank.autoPostConfidence", 50...100) { result.server.bankAutoPostConfidence = v }
        if let v = try integer("tasks.disputeReviewDays", 1...365) { result.server.taskDisputeReviewDays = v }
        if let text = reader.string(forKey: "bank.returnFee")?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let fee = try? Money.parse(text, currency: result.server.currency), !fee.isNegative else {
                throw Problem(description: "bank.returnFee (ASHRAI_BANK_RETURN_FEE) must be an amount such as 25.00")
            }
            result.server.bankReturnFee = fee.amount > 0 ? fee.amount : nil
        }
        try loadDelivery(reader: { reader.string(forKey: ConfigKey($0)) }, environment: environment, into: &result.server.delivery)
        if let zone = reader.string(forKey: "business.timezone")?.trimmingCharacters(in: .whitespaces), !zone.isEmpty {
            guard zone.contains("/") || zone == "UTC", let timeZone = TimeZone(identifier: zone) else {
                throw Problem(description: "business.timezone (ASHRAI_BUSINESS_TIMEZONE) must be an IANA time zone such as Asia/Jerusalem; \(zone) is not")
            }
            result.server.timeZone = timeZone
        }
        if let country = reader.string(forKey: "business.country")?.trimmingCharacters(in: .whitespaces), !country.isEmpty {
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw Problem(description: "business.country (ASHRAI_BUSINESS_COUNTRY) must be a two-letter ISO 3166 code such as IL")
            }
            result.server.country = country.uppercased()
        }
        if let text = reader.string(forKey: "training.gates")?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.lowercased() != "off" {
            var gates: [String: String] = [:]
            for part in text.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, MethodCatalog.spec(named: pair[0]) != nil, !pair[1].isEmpty else {
                    throw Problem(description: "training.gates (ASHRAI_TRAINING_GATES) is METHOD=COURSE_OR_TOPIC, …; \(part) is not")
                }
                gates[pair[0]] = pair[1]
            }
            result.server.training.gates = gates
        }
        if let cert = reader.string(forKey: "tls.certificate"), !cert.isEmpty { result.tlsCertificate = cert }
        if let key = reader.string(forKey: "tls.key"), !key.isEmpty { result.tlsKey = key }
        if (result.tlsCertificate == nil) != (result.tlsKey == nil) {
            throw Problem(description: "tls.certificate and tls.key (ASHRAI_TLS_CERTIFICATE, ASHRAI_TLS_KEY) must be set together")
        }
        if let level = reader.string(forKey: "log.level") {
            guard let value = Logger.Level(rawValue: level.lowercased()) else {
                throw Problem(description: "log.level (ASHRAI_LOG_LEVEL) must be one of trace, debug, info, notice, warning, error, critical")
            }
            result.logLevel = value
        }
        return result
    }

    /// `dunning.*` and `business.*`.
    static func loadCollections(reader: ConfigReader, into settings: inout CollectionSettings) throws {
        if let v = reader.string(forKey: "dunning.templates"), !v.isEmpty { settings.templatesDirectory = v }
        if let v = reader.string(forKey: "dunning.defaultPolicy"), !v.isEmpty { settings.defaultPolicyFile = v }
        /// `off` or `HH:MM` (local time) as a minute of the day.
        func localTime(_ key: String, env: String) throws -> Int? {
            guard let v = reader.string(forKey: ConfigKey(key))?.trimmingCharacters(in: .whitespaces), !v.isEmpty,
                  !["off", "false", "no"].contains(v.lowercased()) else { return nil }
            let parts = v.split(separator: ":")
            guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) else {
                throw Problem(description: "\(key) (\(env)) must be off or HH:MM (the business's local time, business.timezone)")
            }
            return hour * 60 + minute
        }
        settings.scheduleMinuteOfDay = try localTime("dunning.schedule", env: "ASHRAI_DUNNING_SCHEDULE")
        settings.requireStatementByMinute = try localTime("dunning.requireStatementBy", env: "ASHRAI_DUNNING_REQUIRE_STATEMENT_BY")
        let keys: [(String, WritableKeyPath<CollectionSettings.Business, String>)] = [
            ("name", \.name), ("phone", \.phone), ("email", \.email), ("address", \.address), ("contactName", \.contactName),
            ("bankTransfer", \.bankTransfer), ("cardPayment", \.cardPayment), ("digitalPayment", \.digitalPayment),
        ]
        for (key, path) in keys {
            if let v = reader.string(forKey: ConfigKey("business.\(key)")) { settings.business[keyPath: path] = v }
        }
    }

    /// `credit.*`: currency, default terms, scorecard weights, grade thresholds, suggested
    /// terms and review intervals.
    static func loadCredit(
        reader: ConfigReader, into settings: inout ServerSettings, integer: (String, ClosedRange<Int>) throws -> Int?
    ) throws {
        func amount(_ key: String) throws -> Decimal? {
            guard let text = reader.string(forKey: ConfigKey(key)) else { return nil }
            guard let money = try? Money.parse(text, currency: Currency(code: "XXX")!.withMinorUnits(4)), !money.isNegative else {
                throw Problem(description: "\(key) must be a non-negative decimal number")
            }
            return money.amount
        }
        if let code = reader.string(forKey: "credit.currency") {
            guard let currency = Currency(code: code) else { throw Problem(description: "credit.currency must be an ISO 4217 code") }
            settings.currency = currency
        }
        if let v = try amount("credit.defaultTerms.creditLimit") { settings.defaultTerms.creditLimit = v }
        if let v = try integer("credit.defaultTerms.netDays", 0...365) { settings.defaultTerms.netDays = v }
        if let v = reader.string(forKey: "credit.defaultTerms.termsBasis") {
            guard let basis = TermsBasis(rawValue: v) else {
                throw Problem(description: "credit.defaultTerms.termsBasis must be net or end_of_month")
            }
            settings.defaultTerms.basis = basis
        }
        if let v = try amount("credit.defaultTerms.lateInterestRate") { settings.defaultTerms.lateInterestRate = v }
        var policy = settings.creditPolicy
        if let v = try integer("credit.weights.altman", 0...100) { policy.altmanWeight = v }
        if let v = try integer("credit.weights.liquidity", 0...100) { policy.liquidityWeight = v }
        if let v = try integer("credit.weights.profitability", 0...100) { policy.profitabilityWeight = v }
        if let v = try integer("credit.weights.references", 0...100) { policy.referencesWeight = v }
        if let v = try integer("credit.weights.paymentHistory", 0...100) { policy.paymentHistoryWeight = v }
        if let v = try integer("credit.weights.tenure", 0...100) { policy.tenureWeight = v }
        guard policy.maximumPoints > 0 else { throw Problem(description: "credit.weights must not all be zero") }
        for grade in Grade.allCases {
            let key = grade.rawValue.lowercased()
            if grade != .E, let v = try integer("credit.grades.\(key)", 0...100) { policy.gradeThresholds[grade] = v }
            if let v = try amount("credit.suggested.\(key).creditLimit") { policy.suggestedTerms[grade]?.creditLimit = v }
            if let v = try integer("credit.suggested.\(key).netDays", 0...365) { policy.suggestedTerms[grade]?.netDays = v }
            if let v = try integer("credit.reviewMonths.\(key)", 1...60) { policy.reviewMonths[grade] = v }
        }
        let thresholds = [Grade.A, .B, .C, .D].map { policy.gradeThresholds[$0] ?? 0 }
        guard thresholds == thresholds.sorted(by: >) else {
            throw Problem(description: "credit.grades must descend: a ≥ b ≥ c ≥ d")
        }
        settings.creditPolicy = policy
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
