import CLibPQ
import Foundation
import NIOPosix
import Synchronization

/// Transaction isolation levels.
public enum PostgresIsolation: String, Sendable {
    /// PostgreSQL's default.
    case readCommitted = "READ COMMITTED"
    /// Snapshot for the whole transaction.
    case repeatableRead = "REPEATABLE READ"
    /// Full serializability; expect SQLSTATE 40001 and retry.
    case serializable = "SERIALIZABLE"
}

/// A `NOTIFY` received on a channel a connection `LISTEN`s to.
public struct PostgresNotification: Sendable, Equatable {
    /// The channel.
    public var channel: String
    /// The payload (often empty).
    public var payload: String
    /// The notifying server process.
    public var senderPID: Int32
}

/// The bound on database calls made by the current task, over any pool's own `callTimeout`: the daemon sets
/// a request's bound for everything the request does, even on the pool its background jobs use with a longer one.
public enum PostgresCallTimeout {
    @TaskLocal public static var override: Duration?
}

/// One libpq connection (`PGconn`).
///
/// libpq forbids using a `PGconn` from two threads at once. A connection is therefore only ever
/// used by the task that leased it from `PostgresClient` (or the migrator that opened it). The
/// connection is non-blocking: that task sends and reads on whatever thread it runs on, and waits
/// for the socket on `PostgresReactor`, so no call blocks an event loop or the cooperative pool
/// (only opening a connection runs on a thread pool). A `busy` flag turns any concurrent use into
/// an immediate crash instead of silent corruption.
///
/// `@unchecked Sendable` is safe because of that lease discipline plus the `busy` check: the
/// `PGconn` is touched by exactly one thread at a time.
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private let busy = Mutex(false)
    /// Named prepared statements by SQL text and parameter types: planning once per
    /// connection instead of on every call (measured: planning was most of a short query's
    /// cost). Only touched while `busy` is held, like the handle.
    private var prepared: [String: String] = [:]
    /// Prepared statements kept per connection; beyond this, statements run unnamed.
    static let maxPrepared = 512
    /// Whether statements marked `prepared` are prepared (`PostgresConfiguration.preparedStatements`).
    let preparesStatements: Bool
    /// The bound on each call (`PostgresConfiguration.callTimeout`).
    let callTimeout: Duration?
    /// A short id for logs.
    public let id: Int

    private static let nextID = Atomic<Int>(1)

    private init(handle: OpaquePointer, callTimeout: Duration?, preparesStatements: Bool) {
        self.preparesStatements = preparesStatements
        self.handle = handle
        self.callTimeout = callTimeout
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Opens a connection on the thread pool, giving up at `deadline` (nil: libpq's `connect_timeout`).
    public static func connect(
        configuration: PostgresConfiguration, threadPool: NIOThreadPool, deadline: ContinuousClock.Instant? = nil
    ) async throws -> PostgresConnection {
        try await threadPool.runIfActive {
            PostgresConnection(handle: try openHandle(configuration: configuration, deadline: deadline),
                               callTimeout: configuration.callTimeout, preparesStatements: configuration.preparedStatements)
        }
    }

    /// Connects with the configuration's keyword/value pairs: `PQconnectStartParams` and `PQconnectPoll` under
    /// `deadline` (a postmaster that accepts but never answers is given up on time), else `PQconnectdbParams`.
    static func openHandle(configuration: PostgresConfiguration, deadline: ContinuousClock.Instant? = nil) throws -> OpaquePointer {
        let parameters = configuration.connectionParameters
        var keywords = parameters.map { strdup($0.0) }
        var values = parameters.map { strdup($0.1) }
        keywords.append(nil)
        values.append(nil)
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let handle: OpaquePointer? = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
                deadline == nil ? PQconnectdbParams(k.baseAddress, v.baseAddress, 0) : PQconnectStartParams(k.baseAddress, v.baseAddress, 0)
            }
        }
        guard let handle else {
            throw PostgresError(code: .connectionFailed, message: "out of memory while connecting")
        }
        if let deadline, PQstatus(handle) != CONNECTION_BAD {
            // libpq's state machine: start as if told to wait for writing; the socket may change between polls.
            var polling = PGRES_POLLING_WRITING
            while polling != PGRES_POLLING_OK && polling != PGRES_POLLING_FAILED {
                do {
                    try waitBlocking(handle, events: Int16(polling == PGRES_POLLING_READING ? POLLIN : POLLOUT), deadline: deadline)
                } catch {
                    PQfinish(handle)
                    throw error
                }
                polling = PQconnectPoll(handle)
            }
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let error = PostgresError.fromConnection(handle, code: .connectionFailed)
            PQfinish(handle)
            throw error
        }
        // Server NOTICEs would otherwise be printed to stderr by libpq.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        // Non-blocking: statements are sent and answers awaited with poll(2) under the call's deadline
        // (`exchange`), and closing a connection to a frozen server never blocks on a full socket.
        guard PQsetnonblocking(handle, 1) == 0 else {
            let error = PostgresError.fromConnection(handle, code: .connectionFailed)
            PQfinish(handle)
            throw error
        }
        return handle
    }

    // MARK: - Async API (the calling task sends and reads; it waits for the socket on `PostgresReactor`)

    /// Runs a parameterised statement and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        let timeout = PostgresCallTimeout.override ?? callTimeout
        if let prelude = takePrelude() {
            // The transaction's BEGIN and prelude go with this first statement: one round trip. The prelude is
            // judged before this statement's outcome is looked at; if it refuses, the transaction is rolled back
            // (by withTransaction), undoing whatever the statement did.
            let results = try await pipelineResults(prelude.queries + [query], timeout: timeout)
            try judge(prelude, try results.dropLast().map { try $0.get() })
            return try results[results.count - 1].get()
        }
        return try await run(query, timeout: timeout)
    }

    /// A transaction's BEGIN and prelude not sent yet, and the check of the prelude's rows.
    private struct Prelude {
        let queries: [PostgresQuery]
        let check: @Sendable ([PostgresRows]) throws -> Void
    }

    /// Only the task holding the lease touches it, like the handle (see the type's note).
    private var pendingPrelude: Prelude?

    private func takePrelude() -> Prelude? {
        defer { pendingPrelude = nil }
        return pendingPrelude
    }

    /// Sends a prelude that no statement took along (a body that ran none, a script).
    private func flushPrelude() async throws {
        guard let prelude = takePrelude() else { return }
        let timeout = PostgresCallTimeout.override ?? callTimeout
        let rows = try await pipelineRows(prelude.queries, timeout: timeout)
        try judge(prelude, rows)
    }

    /// A prelude's refusal, kept so the transaction cannot commit even if the body swallowed the error.
    private var preludeRefusal: (any Error)?

    private func judge(_ prelude: Prelude, _ rows: [PostgresRows]) throws {
        do {
            try prelude.check(rows)
        } catch {
            preludeRefusal = error
            throw error
        }
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Runs trusted SQL text that may hold several statements (migrations) with the simple
    /// query protocol. Never pass input here.
    public func executeScript(_ sql: String) async throws {
        try await flushPrelude()
        let timeout = PostgresCallTimeout.override ?? callTimeout
        try await runScript(sql, timeout: timeout)
    }

    /// Runs several statements in one round trip (libpq pipeline mode, one Sync at the end) and returns each
    /// one's rows, or throws the first error; the statements after a failed one are not run. Outside an explicit
    /// transaction they form one implicit transaction; inside one (after `BEGIN`) they are part of it.
    @discardableResult
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        try await flushPrelude()
        let timeout = PostgresCallTimeout.override ?? callTimeout
        return try await pipelineRows(queries, timeout: timeout)
    }

    /// Runs `body` inside `BEGIN … COMMIT`; rolls back and rethrows if it throws.
    ///
    /// The `BEGIN` and the `prelude` statements are not sent at once: they go with the body's first statement, in
    /// one round trip (a request's settings, its session check and its first read: one round trip instead of
    /// four). `check` sees the prelude's rows before that statement's outcome is used; when it throws, the
    /// transaction is rolled back — undoing what the statement did — and the body goes no further.
    ///
    /// If a statement failed inside the body and the body swallowed the error, PostgreSQL would
    /// turn the COMMIT into a silent ROLLBACK; this method throws instead.
    public func withTransaction<Result>(
        isolation: PostgresIsolation = .readCommitted,
        readOnly: Bool = false,
        prelude: [PostgresQuery] = [],
        check: @escaping @Sendable ([PostgresRows]) throws -> Void = { _ in },
        commitInBackground background: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let begin = PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.rawValue)" + (readOnly ? " READ ONLY" : ""))
        pendingPrelude = Prelude(queries: [begin] + prelude, check: { rows in try check(Array(rows.dropFirst())) })
        preludeRefusal = nil
        let result: Result
        do {
            result = try await body(self)
            try await flushPrelude()
            if let refusal = preludeRefusal { throw refusal }
        } catch {
            pendingPrelude = nil
            preludeRefusal = nil
            await rollbackQuietly()
            throw error
        }
        if transactionStatus == .failed {
            await rollbackQuietly()
            throw PostgresError(code: .server, message: "transaction was aborted by an earlier error", sqlState: "25P02")
        }
        // A transaction that changed nothing (the caller says so: a read) ends without the reply waiting for it.
        if background, await commitInBackground() { return result }
        do {
            try await execute("COMMIT")
        } catch {
            await rollbackQuietly()
            throw error
        }
        return result
    }

    /// A read of one statement in one round trip: `BEGIN`, the `prelude`, the statement and `COMMIT` in one
    /// pipeline, so neither the reply nor the connection waits for the end of the transaction.
    ///
    /// Only for a statement that writes nothing: the transaction is `READ ONLY` (`readOnly`, or a prelude that
    /// switches to it after what it writes itself, as the session check does). `check` sees the prelude's rows
    /// after the COMMIT; when it refuses, the rows are withheld — the statement changed nothing to undo.
    public func readStatement(
        isolation: PostgresIsolation = .readCommitted,
        readOnly: Bool = true,
        prelude: [PostgresQuery] = [],
        check: ([PostgresRows]) throws -> Void = { _ in },
        _ query: PostgresQuery
    ) async throws -> PostgresRows {
        let begin = PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.rawValue)" + (readOnly ? " READ ONLY" : ""))
        let timeout = PostgresCallTimeout.override ?? callTimeout
        let results = try await pipelineResults([begin] + prelude + [query, "COMMIT"], timeout: timeout)
        // A failed statement leaves the transaction aborted (the pipeline's Sync does not end an explicit one).
        if transactionStatus != .idle { await rollbackQuietly() }
        try check(try results[1..<(1 + prelude.count)].map { try $0.get() })
        let rows = try results[prelude.count + 1].get()
        _ = try results[prelude.count + 2].get()
        return rows
    }

    private func rollbackQuietly() async {
        guard isUsable, transactionStatus != .idle else { return }
        _ = try? await execute("ROLLBACK")
    }

    // MARK: - State

    /// libpq's view of the transaction state.
    public enum TransactionStatus: Sendable {
        /// No transaction open.
        case idle
        /// Inside a transaction block.
        case inTransaction
        /// Inside a failed transaction block (only ROLLBACK will work).
        case failed
        /// A command is in progress, or the connection is bad.
        case unknown
    }

    /// The transaction state after the last command.
    public var transactionStatus: TransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failed
        default: return .unknown
        }
    }

    /// False once the connection has broken or been closed.
    public var isUsable: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's process id for this connection (for `pg_terminate_backend` in tests, logs).
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// Whether an idle connection is still good, without blocking: libpq's status is OK, no
    /// transaction is open, and the socket has nothing to read. A healthy idle pool connection
    /// receives nothing (it never LISTENs), so readable data or EOF means the server is ending
    /// the session — `pg_terminate_backend` sends a FATAL message and closes; a restart closes.
    func isIdleAndHealthy() async -> Bool {
        await withExclusiveHandle { handle in
            if commitPending {
                // Its answer may be there already; if not, the next statement waits for it.
                guard PQconsumeInput(handle) == 1 else { return false }
                if PQisBusy(handle) == 1 { return PQstatus(handle) == CONNECTION_OK }
                guard (try? await settleCommit(handle, deadline: nil)) == true else { return false }
            }
            guard PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE else { return false }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            return ready == 0
        } ?? false
    }

    /// The notifications that came for the channels this connection `LISTEN`s to, waiting up to `timeout` for the
    /// first; none when none came. Ends early with `CancellationError` when the task is cancelled. A broken
    /// connection throws `connectionLost` (PostgreSQL keeps nothing for a listener that was away: read the state again).
    public func notifications(waitingUpTo timeout: Duration) async throws -> [PostgresNotification] {
        let received: [PostgresNotification]? = try await withExclusiveHandle { handle in
            var received = Self.takeNotifications(handle)
            if !received.isEmpty { return received }
            do {
                try await PostgresReactor.shared.waitCancellably(PQsocket(handle), deadline: ContinuousClock.now + timeout)
            } catch let error as PostgresError where error.code == .timedOut {
                return []
            }
            guard PQconsumeInput(handle) == 1 else {
                let error = PostgresError.fromConnection(handle, code: .connectionLost)
                discard(handle)
                throw error
            }
            received = Self.takeNotifications(handle)
            return received
        }
        guard let received else { throw PostgresError(code: .connectionLost, message: "the connection is closed") }
        return received
    }

    private static func takeNotifications(_ handle: OpaquePointer) -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notify = PQnotifies(handle) {
            received.append(PostgresNotification(channel: String(cString: notify.pointee.relname), payload: String(cString: notify.pointee.extra),
                                                 senderPID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return received
    }

    /// Closes the connection; later use fails with `connectionLost`.
    func closeBlocking() {
        busy.withLock { isBusy in
            precondition(!isBusy, "PostgresConnection closed while in use")
            if let handle { PQfinish(handle) }
            handle = nil
        }
    }

    // MARK: - The core: non-blocking libpq calls, waiting on the reactor

    private func withExclusiveHandle<T>(_ body: (OpaquePointer) async throws -> T) async rethrows -> T? {
        let handle: OpaquePointer? = busy.withLock { isBusy in
            precondition(!isBusy, "PostgresConnection used by two tasks at once")
            isBusy = true
            return self.handle
        }
        defer { busy.withLock { $0 = false } }
        guard let handle else { return nil }
        return try await body(handle)
    }

    /// A statement's parameters as libpq takes them; `values` are malloc'd and freed by `release()` (libpq copies
    /// them into its output buffer when the statement is sent).
    private struct Parameters {
        var types: [UInt32]
        var values: [UnsafeMutablePointer<CChar>?]
        var lengths: [Int32]
        var formats: [Int32]
        /// The prepared-statement cache's key: the SQL and the parameter types.
        let key: String

        init(_ query: PostgresQuery) throws {
            let count = query.binds.count
            types = [UInt32](repeating: 0, count: count)
            values = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            lengths = [Int32](repeating: 0, count: count)
            formats = [Int32](repeating: 0, count: count)
            for (index, bind) in query.binds.enumerated() {
                switch bind {
                case .null(let type):
                    types[index] = type.oid
                case .text(let text, let type):
                    types[index] = type.oid
                    values[index] = strdup(text)
                case .binary(let bytes, let type):
                    types[index] = type.oid
                    let buffer = malloc(max(bytes.count, 1))!.assumingMemoryBound(to: CChar.self)
                    bytes.withUnsafeBytes { raw in
                        if let base = raw.baseAddress { memcpy(buffer, base, bytes.count) }
                    }
                    values[index] = buffer
                    lengths[index] = Int32(bytes.count)
                    formats[index] = 1
                case .invalid(let error):
                    values.forEach { free($0) }
                    throw error
                }
            }
            key = query.sql + "\u{1}" + types.map(String.init).joined(separator: ",")
        }

        func release() { values.forEach { free($0) } }

        /// `PQsendQueryPrepared` with `name`, else `PQsendQueryParams`.
        func send(_ sql: String, name: String?, on handle: OpaquePointer) -> Int32 {
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                if let name {
                    return PQsendQueryPrepared(handle, name, Int32(types.count), valuePointers.baseAddress, lengths, formats, 0)
                }
                return PQsendQueryParams(handle, sql, Int32(types.count), types, valuePointers.baseAddress, lengths, formats, 0)
            }
        }
    }

    /// Several statements, one Sync, one round trip: each sent (a statement marked `prepared` is prepared in the
    /// same pipeline the first time), then every result read in order; the first error is thrown after all are
    /// read, so the connection is left idle and usable.
    func pipelineRows(_ queries: [PostgresQuery], timeout: Duration?) async throws -> [PostgresRows] {
        try await pipelineResults(queries, timeout: timeout).map { try $0.get() }
    }

    /// Each statement's rows or error (a statement after a failed one: `PostgresError` 25P02); throws only when the
    /// connection itself failed.
    func pipelineResults(_ queries: [PostgresQuery], timeout: Duration?) async throws -> [Swift.Result<PostgresRows, any Error>] {
        let parameters = try queries.map { try Parameters($0) }
        defer { parameters.forEach { $0.release() } }
        let outcome: [Swift.Result<PostgresRows, any Error>]?? = try await withExclusiveHandle { handle -> [Swift.Result<PostgresRows, any Error>]? in
            let deadline = timeout.map { ContinuousClock.now + $0 }
            guard try await settleCommit(handle, deadline: deadline) else { return nil }
            guard PQenterPipelineMode(handle) == 1 else { throw PostgresError.fromConnection(handle, code: .server) }
            // A pipeline that cannot be finished leaves the connection in an unknown state: close it.
            func abandon() -> [Swift.Result<PostgresRows, any Error>]? {
                discard(handle)
                return nil
            }
            // Each result group in order: the index of the statement it answers, or nil for a Prepare.
            var groups: [(query: Int?, prepares: (key: String, name: String)?)] = []
            var preparing: [String: String] = [:]
            for (index, query) in queries.enumerated() {
                let given = parameters[index]
                let prepares = query.prepared && preparesStatements
                var name = prepares ? (prepared[given.key] ?? preparing[given.key]) : nil
                if name == nil, prepares, prepared.count + preparing.count < Self.maxPrepared {
                    let candidate = "ashrai_\(prepared.count + preparing.count)"
                    guard PQsendPrepare(handle, candidate, query.sql, Int32(given.types.count), given.types) == 1 else { return abandon() }
                    groups.append((nil, (given.key, candidate)))
                    preparing[given.key] = candidate
                    name = candidate
                }
                guard given.send(query.sql, name: name, on: handle) == 1 else { return abandon() }
                groups.append((index, nil))
            }
            guard PQpipelineSync(handle) == 1 else { return abandon() }
            guard let results = try await collect(handle, groups: groups.count, deadline: deadline) else { return abandon() }
            defer { results.forEach { if let result = $0 { PQclear(result) } } }
            guard PQexitPipelineMode(handle) == 1 else { return abandon() }
            var rows: [Swift.Result<PostgresRows, any Error>] = []
            for (group, result) in zip(groups, results) {
                if let (key, name) = group.prepares {
                    if let result, PQresultStatus(result) == PGRES_COMMAND_OK { prepared[key] = name }
                    continue
                }
                guard let result else { return abandon() }
                if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                    rows.append(.failure(PostgresError(code: .server, message: "not run: an earlier statement failed", sqlState: "25P02")))
                    continue
                }
                rows.append(Swift.Result { try Self.rows(of: result, handle: handle) })
            }
            guard rows.count == queries.count else { return abandon() }
            return rows
        }
        guard let outcome = outcome ?? nil else {
            throw PostgresError(code: .connectionLost, message: "connection is closed")
        }
        return outcome
    }

    /// Reads a pipeline's results after its Sync, never past `deadline`: the first result of each of `groups`
    /// (an error wins over what follows it), then the Sync's own. Nil when the connection broke. On timeout the
    /// connection is closed, as `exchange` does.
    private func collect(_ handle: OpaquePointer, groups: Int, deadline: ContinuousClock.Instant?) async throws -> [OpaquePointer?]? {
        var results: [OpaquePointer?] = []
        func clear() { results.forEach { if let result = $0 { PQclear(result) } } }
        do {
            guard try await Self.flush(handle, deadline: deadline) else { return nil }
            for _ in 0..<groups {
                guard let statement = try await Self.readStatement(handle, deadline: deadline) else { clear(); return nil }
                results.append(statement)
            }
            guard let sync = try await Self.nextResult(handle, deadline: deadline), let sync else { clear(); return nil }
            let status = PQresultStatus(sync)
            PQclear(sync)
            guard status == PGRES_PIPELINE_SYNC else { clear(); return nil }
            return results
        } catch {
            clear()
            discard(handle)
            throw error
        }
    }

    /// A read-only transaction's COMMIT sent without waiting for its answer (`commitInBackground`); read by the
    /// next use of the connection, or on checkout.
    private var commitPending = false

    /// Whether a COMMIT is on its way (the pool takes such a connection back as idle).
    var hasCommitPending: Bool { commitPending }

    /// Sends `COMMIT` without waiting for the answer: the request's reply need not wait a round trip for the end
    /// of a transaction that changed nothing. False (nothing sent) if it could not be sent at once.
    func commitInBackground() async -> Bool {
        await withExclusiveHandle { handle -> Bool in
            guard PQtransactionStatus(handle) == PQTRANS_INTRANS,
                  PQsendQueryParams(handle, "COMMIT", 0, nil, nil, nil, nil, 0) == 1 else { return false }
            commitPending = true
            return PQflush(handle) >= 0
        } ?? false
    }

    /// Reads the answer to a COMMIT sent in the background, never past `deadline`; false when the connection
    /// broke (it is closed then), true when it is ready for the next statement.
    private func settleCommit(_ handle: OpaquePointer, deadline: ContinuousClock.Instant?) async throws -> Bool {
        guard commitPending else { return true }
        commitPending = false
        do {
            if try await Self.flush(handle, deadline: deadline), let answer = try await Self.readStatement(handle, deadline: deadline) {
                let ok = answer.map { PQresultStatus($0) == PGRES_COMMAND_OK } ?? false
                if let answer { PQclear(answer) }
                if ok, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE { return true }
            }
        } catch {}
        discard(handle)
        return false
    }

    func run(_ query: PostgresQuery, timeout: Duration?) async throws -> PostgresRows {
        for bind in query.binds { if case .invalid(let error) = bind { throw error } }
        let outcome: PostgresRows?? = try await withExclusiveHandle { handle -> PostgresRows? in
            let deadline = timeout.map { ContinuousClock.now + $0 }
            guard try await settleCommit(handle, deadline: deadline) else { return nil }
            let parameters = try Parameters(query)
            defer { parameters.release() }
            let count = query.binds.count
            let types = parameters.types
            let key = parameters.key
            let prepares = query.prepared && preparesStatements
            var name = prepares ? prepared[key] : nil
            if name == nil, prepares, prepared.count < Self.maxPrepared {
                let candidate = "ashrai_\(prepared.count)"
                _ = try Self.consume(result: try await exchange(handle, deadline: deadline) {
                    PQsendPrepare(handle, candidate, query.sql, Int32(count), types)
                }, handle: handle)
                prepared[key] = candidate
                name = candidate
            }
            let result = try await exchange(handle, deadline: deadline) { parameters.send(query.sql, name: name, on: handle) }
            return try Self.consume(result: result, handle: handle)
        }
        guard let outcome = outcome ?? nil else {
            throw PostgresError(code: .connectionLost, message: "connection is closed")
        }
        return outcome
    }

    func runScript(_ sql: String, timeout: Duration?) async throws {
        guard !sql.utf8.contains(0) else {
            throw PostgresError(code: .invalidParameter, message: "script contains a NUL byte")
        }
        let done: Bool? = try await withExclusiveHandle { handle in
            let deadline = timeout.map { ContinuousClock.now + $0 }
            guard try await settleCommit(handle, deadline: deadline) else { return false }
            // Like PQexec: the last result, or the error that stopped the script.
            _ = try Self.consume(result: try await exchange(handle, deadline: deadline) {
                PQsendQuery(handle, sql)
            }, handle: handle)
            return true
        }
        guard done == true else { throw PostgresError(code: .connectionLost, message: "connection is closed") }
    }

    /// Sends a statement with `send` (a `PQsend…` call) and waits for its results, never past `deadline`:
    /// flushes what the non-blocking socket did not take, then reads until libpq has every result. Returns
    /// the last result, or the first error (as `PQexec` does); nil when the connection broke. When the
    /// deadline passes, the connection is closed — a server that has not answered cannot be trusted with the
    /// next statement — and `.timedOut` is thrown.
    private func exchange(_ handle: OpaquePointer, deadline: ContinuousClock.Instant?, send: () -> Int32) async throws -> OpaquePointer? {
        guard send() == 1 else { return nil }
        do {
            guard try await Self.flush(handle, deadline: deadline) else { return nil }
            return try await Self.readStatement(handle, deadline: deadline) ?? nil
        } catch {
            discard(handle)
            throw error
        }
    }

    /// Closes the handle after a failure that leaves it in an unknown state (a missed deadline, a broken pipeline):
    /// later use fails with `connectionLost`, and the pool replaces the connection. Holds `busy`, like every caller.
    private func discard(_ handle: OpaquePointer) {
        PQfinish(handle)
        self.handle = nil
        prepared = [:]
    }

    /// Waits, never past `deadline`, until libpq has the next result; `.some(nil)` is the end of a statement's
    /// results, `nil` a broken connection.
    private static func nextResult(_ handle: OpaquePointer, deadline: ContinuousClock.Instant?) async throws -> OpaquePointer?? {
        while PQisBusy(handle) == 1 {
            try await PostgresReactor.shared.wait(PQsocket(handle), writable: false, deadline: deadline)
            guard PQconsumeInput(handle) == 1 else { return .none }
        }
        return .some(PQgetResult(handle))
    }

    /// Reads one statement's results to their end: the last, or the first error (as `PQexec` does);
    /// `.some(nil)` when there were none, `nil` when the connection broke.
    private static func readStatement(_ handle: OpaquePointer, deadline: ContinuousClock.Instant?) async throws -> OpaquePointer?? {
        var kept: OpaquePointer?
        do {
            while true {
                guard let result = try await nextResult(handle, deadline: deadline) else {
                    if let kept { PQclear(kept) }
                    return .none
                }
                guard let result else { return .some(kept) }
                if let current = kept, PQresultStatus(current) == PGRES_FATAL_ERROR {
                    PQclear(result)
                } else {
                    if let kept { PQclear(kept) }
                    kept = result
                }
            }
        } catch {
            if let kept { PQclear(kept) }
            throw error
        }
    }

    /// Sends what libpq still holds (a non-blocking socket may have taken only part of it), never past `deadline`;
    /// false when the connection broke.
    private static func flush(_ handle: OpaquePointer, deadline: ContinuousClock.Instant?) async throws -> Bool {
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { return true }
            if flushed < 0 { return false }
            try await PostgresReactor.shared.wait(PQsocket(handle), writable: true, deadline: deadline)
            guard PQconsumeInput(handle) == 1 else { return false }
        }
    }

    /// Waits in poll(2) until the socket is ready for `events`; throws `.timedOut` once `deadline` has passed. Only
    /// for opening a connection, which runs on the thread pool (libpq may resolve a host name there).
    private static func waitBlocking(_ handle: OpaquePointer, events: Int16, deadline: ContinuousClock.Instant?) throws {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { throw PostgresReactor.timedOut }
                let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
                timeout = Int32(clamping: milliseconds)
            }
            var descriptor = pollfd(fd: PQsocket(handle), events: events, revents: 0)
            let ready = poll(&descriptor, 1, timeout)
            if ready > 0 { return }
            if ready < 0, errno != EINTR {
                throw PostgresError(code: .connectionLost, message: "poll on the database socket failed (errno \(errno))")
            }
        }
    }

    private static func consume(result: OpaquePointer?, handle: OpaquePointer) throws -> PostgresRows {
        guard let result else {
            let lost = PQstatus(handle) != CONNECTION_OK
            throw PostgresError.fromConnection(handle, code: lost ? .connectionLost : .server)
        }
        defer { PQclear(result) }
        return try rows(of: result, handle: handle)
    }

    /// A result's rows, or its error; does not clear it.
    private static func rows(of result: OpaquePointer, handle: OpaquePointer) throws -> PostgresRows {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            throw PostgresError.fromResult(result, connection: handle)
        }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var names: [String] = []
        var types: [PostgresDataType] = []
        names.reserveCapacity(columnCount)
        for column in 0..<Int32(columnCount) {
            names.append(String(cString: PQfname(result, column)))
            types.append(PostgresDataType(PQftype(result, column)))
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let pointer = PQgetvalue(result, row, column)!
                    cells.append(pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    })
                }
            }
        }
        let tag = String(cString: PQcmdStatus(result))
        let tuples = String(cString: PQcmdTuples(result))
        return PostgresRows(
            columns: PostgresColumns(names: names, types: types),
            commandTag: tag,
            affectedRows: Int(tuples) ?? rowCount,
            cells: cells)
    }
}
