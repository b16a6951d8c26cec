import AshraiCore
import AshraiProtocol
import AshraiServer
import AshraiTestSupport
import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import Postgres
import ServiceLifecycle
import Synchronization
import Testing

/// One migrated database for the AshraiServerTests target.
enum Shared {
    static let database = Task { () throws -> TestDatabase in
        let database = try await TestDatabase.create("server")
        _ = try await DatabaseSetup.migrate(
            migrationURL: database.ownerURL, applicationURL: database.applicationURL,
            migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
        return database
    }

    /// A pool connected as the application role.
    static let appClient = Task { () throws -> PostgresClient in
        let database = try await Shared.database.value
        return PostgresClient(configuration: database.applicationConfiguration, maxConnections: 8, logger: makeTestLogger())
    }

    /// The daemon's own pool beside `appClient` (the `_jobs` login role).
    static let jobsClient = Task { () throws -> PostgresClient in
        try await appClient.value.jobsClient(maxConnections: 4)
    }

    /// A pool connected as the owner (superuser in tests).
    static let ownerClient = Task { () throws -> PostgresClient in
        let database = try await Shared.database.value
        return PostgresClient(configuration: database.ownerConfiguration, maxConnections: 2, logger: makeTestLogger())
    }

    /// Hashing at the floor cost keeps tests fast; production uses INTERACTIVE.
    static let secrets = Secrets(cost: .minimum, threads: 2)

    /// The admin every server test can log in as (created once).
    static let admin = Task { () throws -> (username: String, password: String) in
        let database = try await appClient.value
        let credentials = (username: adminUsername, password: "correct horse battery staple")
        _ = try await AdminBootstrap.createOrReset(
            username: credentials.username, password: credentials.password, mustChangePassword: false,
            onlyIfNone: false, database: database, secrets: secrets)
        return credentials
    }

    /// The shared admin's username.
    static let adminUsername = "root-admin"

    /// A unique name.
    static func unique(_ prefix: String) -> String { "\(prefix)-\(UInt32.random(in: 0...UInt32.max))" }
}

extension ServerSettings {
    /// Settings whose relative `Config/` paths point into the repository (tests run from anywhere).
    func withRepositoryPaths() -> ServerSettings {
        var copy = self
        let root = TestDatabase.repositoryRootPath + "/"
        if !copy.collections.templatesDirectory.hasPrefix("/") { copy.collections.templatesDirectory = root + copy.collections.templatesDirectory }
        if !copy.bankProfilesDirectory.hasPrefix("/") { copy.bankProfilesDirectory = root + copy.bankProfilesDirectory }
        if !copy.collections.defaultPolicyFile.hasPrefix("/") { copy.collections.defaultPolicyFile = root + copy.collections.defaultPolicyFile }
        return copy
    }
}

/// Starts an `RPCServer` on a free port for one test, then shuts it down gracefully.
func withServer(
    settings: ServerSettings = ServerSettings(), database: PostgresClient? = nil, replica: PostgresClient? = nil,
    events: PostgresConfiguration? = nil, tls: (certificatePath: String, keyPath: String)? = nil, now: (@Sendable () -> Date)? = nil, _ body: (Int) async throws -> Void
) async throws {
    let shared = try await Shared.appClient.value
    let jobs = database == nil ? try await Shared.jobsClient.value : database!.jobsClient()
    defer { if database != nil { Task { await jobs.shutdown() } } }
    let database = database ?? shared
    let services = Services(database: database, secrets: Shared.secrets, settings: settings.withRepositoryPaths(), version: "test",
                            jobsDatabase: jobs, replicaDatabase: replica, eventsDatabase: events, now: now ?? { Date() })
    let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
    let server = RPCServer(
        options: .init(host: "127.0.0.1", port: 0, tls: tls), services: services, logger: makeTestLogger(),
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

/// A real TCP client speaking one JSON value per line.
struct LineClient {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var nextID = 1
    /// The server's port (the shared admin's one login opens a connection of its own).
    var port = 0
    /// Notifications the server pushed (after `events.subscribe`) while a reply was awaited, oldest first.
    var notifications: [JSONValue] = []

    /// Connects, runs `body`, and closes.
    static func with<T>(port: Int, _ body: (inout LineClient) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: 16 << 20))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var client = LineClient(inbound: inbound.makeAsyncIterator(), outbound: outbound, port: port)
            return try await body(&client)
        }
    }

    /// Sends raw text and a newline.
    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text + "\n"))
    }

    /// Sends raw bytes and a newline.
    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes + [UInt8(ascii: "\n")]))
    }

    /// The next line, parsed; nil when the server closed the connection.
    mutating func receive() async throws -> JSONValue? {
        guard let buffer = try await inbound.next() else { return nil }
        return try JSONValue.parse(Array(buffer.readableBytesView))
    }

    /// Up to `limit` lines, fewer if the server closes.
    mutating func receive(_ limit: Int) async throws -> [JSONValue] {
        var lines: [JSONValue] = []
        while lines.count < limit, let line = try await receive() { lines.append(line) }
        return lines
    }

    /// Calls a method and returns the whole response object.
    mutating func call(_ method: String, _ params: JSONObject = [:]) async throws -> JSONValue {
        let id = nextID
        nextID += 1
        let request: JSONValue = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params)]
        try await send(request.encoded())
        var reply = try #require(try await receive())
        // A notification (a method, no id) may come before the reply: kept for `notification()`.
        while reply["id"] == nil, reply["method"] != nil {
            notifications.append(reply)
            reply = try #require(try await receive())
        }
        // Every result a test receives is held to the catalog's documented result schema.
        if let result = reply["result"], let spec = MethodCatalog.spec(named: method) {
            for problem in SchemaCheck.problems(result, against: spec.result, strict: true) {
                Issue.record("\(method) result departs from its documented schema: \(problem)")
            }
        }
        return reply
    }

    /// The next notification the server pushes (one already received first); nil when the connection closed. A test
    /// that waits for one carries a time limit.
    mutating func notification() async throws -> JSONValue? {
        if !notifications.isEmpty { return notifications.removeFirst() }
        while let line = try await receive() {
            if line["id"] == nil, line["method"] != nil { return line }
            Issue.record("a reply nobody asked for: \(line.encoded())")
        }
        return nil
    }

    /// Calls and returns the result, failing the test on an error.
    mutating func result(_ method: String, _ params: JSONObject = [:]) async throws -> JSONValue {
        let response = try await call(method, params)
        guard let result = response["result"] else {
            Issue.record("\(method) failed: \(response.encoded())")
            throw TestFailure()
        }
        return result
    }

    /// Logs in and returns the token. The shared admin, whom dozens of tests log in as at the
    /// same moment, resumes one session instead: concurrent logins of one name are throttled
    /// (at most the failure limit are checked at once), which a test run should not stand in line for.
    @discardableResult
    mutating func login(_ username: String, _ password: String) async throws -> String {
        if username == Shared.adminUsername, password == (try await Shared.admin.value).password {
            let token = try await SharedAdminSession.shared.token(port: port)
            let resumed = try await call("auth.resume", ["token": .string(token)])
            if resumed["result"] != nil { return token }
        }
        let result = try await result("auth.login", ["username": .string(username), "password": .string(password)])
        return try #require(result["token"]?.stringValue)
    }
}

struct TestFailure: Error {}

/// The shared admin's session: one login (on a connection of its own), which every other
/// caller waits for and then resumes.
actor SharedAdminSession {
    static let shared = SharedAdminSession()
    private var login: Task<String, any Error>?

    func token(port: Int) async throws -> String {
        if let login, let token = try? await login.value { return token }
        let task = Task<String, any Error> {
            let admin = try await Shared.admin.value
            return try await LineClient.with(port: port) { client in
                let reply = try await client.call("auth.login", ["username": .string(admin.username), "password": .string(admin.password)])
                guard let token = reply["result"]?["token"]?.stringValue else { throw TestFailure() }
                return token
            }
        }
        login = task
        return try await task.value
    }
}

extension JSONValue {
    /// The error code of a response, if it is an error.
    var errorCode: Int? { self["error"]?["code"]?.intValue }
    /// The error's `data.reason`.
    var errorReason: String? { self["error"]?["data"]?["reason"]?.stringValue }
}

/// Creates a user through the API as the shared admin and lets it choose its password, so
/// it can call methods. Returns (id, username, password).
func makeUser(port: Int, role: Role, agencyID: Int? = nil,
              admin given: (username: String, password: String)? = nil) async throws -> (id: Int, username: String, password: String) {
    let admin: (username: String, password: String)
    if let given { admin = given } else { admin = try await Shared.admin.value }
    let username = Shared.unique(role.rawValue)
    let initial = "initial password \(UInt32.random(in: 0...UInt32.max))"
    let final = "chosen password \(UInt32.random(in: 0...UInt32.max))"
    let id = try await LineClient.with(port: port) { client in
        try await client.login(admin.username, admin.password)
        var params: JSONObject = ["username": .string(username), "password": .string(initial), "role": .string(role.rawValue)]
        if role == .agency {
            // An agency login belongs to an agency: the one given, or a new one.
            if let agencyID {
                params["agency_id"] = .int(agencyID)
            } else {
                let created = try await client.result("agencies.create", ["name": .string(Shared.unique("Agency")), "commission_rate": "15"])
                params["agency_id"] = try #require(created["id"])
            }
        }
        return try #require(try await client.result("users.create", params)["id"]?.intValue)
    }
    try await LineClient.with(port: port) { client in
        try await client.login(username, initial)
        _ = try await client.result("auth.change_password", ["old_password": .string(initial), "new_password": .string(final)])
    }
    return (id, username, final)
}

/// A freshly migrated database of its own, for tests that need to know everything in it.
func freshDatabase(_ prefix: String) async throws -> PostgresClient {
    let database = try await TestDatabase.create(prefix)
    _ = try await DatabaseSetup.migrate(
        migrationURL: database.ownerURL, applicationURL: database.applicationURL,
        migrationsDirectory: TestDatabase.migrationsDirectory, logger: makeTestLogger())
    return PostgresClient(configuration: database.applicationConfiguration, maxConnections: 4, logger: makeTestLogger())
}

/// A valid Israeli legal id (9 digits) from 8 leading digits: the check digit appended
/// (weights 1, 2, 1, 2, …, digit sums, the total a multiple of 10).
func israeliID(_ eight: String) -> String {
    precondition(eight.count == 8 && eight.allSatisfy(\.isNumber))
    var total = 0
    for (index, character) in eight.enumerated() {
        let product = character.wholeNumberValue! * (index % 2 == 0 ? 1 : 2)
        total += product > 9 ? product - 9 : product
    }
    return eight + String((10 - total % 10) % 10)
}

extension PostgresClient {
    /// A pool for the daemon's own jobs on the same database (the `_jobs` login role).
    func jobsClient(maxConnections: Int = 2) -> PostgresClient {
        PostgresClient(configuration: DatabaseSetup.jobsConfiguration(for: configuration), maxConnections: maxConnections, logger: makeTestLogger())
    }

    /// A query as the daemon's own jobs run it (`system`, on the jobs' role), so row-level
    /// security shows every row — what a test that checks the tables directly needs.
    func asSystem(_ query: PostgresQuery) async throws -> PostgresRows {
        let jobs = jobsClient()
        defer { Task { await jobs.shutdown() } }
        return try await jobs.withTransaction { tx in
            try await tx.query("SELECT set_config('ashrai.user_id', 'system', true)")
            return try await tx.query(query)
        }
    }
}
