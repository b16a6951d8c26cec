import Foundation
import Logging
import NIOPosix
import Synchronization

/// A pool of libpq connections (with a thread pool for opening them).
///
/// ```swift
/// let db = PostgresClient(configuration: config, maxConnections: 8, logger: logger)
/// let name = try await db.withConnection { try await $0.query("SELECT name FROM t WHERE id = \(id)").scalar(String.self) }
/// try await db.withRetryingTransaction(isolation: .serializable) { tx in … }
/// await db.shutdown()
/// ```
///
/// Connections are opened lazily up to `maxConnections`. A leased connection belongs to one
/// task until the closure returns. A connection that broke (server restart,
/// `pg_terminate_backend`, network), or that comes back still inside a transaction, is closed
/// and replaced rather than handed out again; idle connections are checked on checkout.
public final class PostgresClient: Sendable {
    /// The target server.
    public let configuration: PostgresConfiguration
    /// The most connections open at once.
    public let maxConnections: Int
    private let threadPool: NIOThreadPool
    private let state: Mutex<State>
    private let logger: Logger

    private enum Lease {
        case connection(PostgresConnection)
        /// Permission to open a new connection in a freed slot.
        case slot
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Lease, any Error>
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        var isClosed = false
    }

    /// Creates a pool. No connection is opened until the first lease.
    public init(configuration: PostgresConfiguration, maxConnections: Int = 8, logger: Logger) {
        precondition(maxConnections > 0, "maxConnections must be positive")
        self.configuration = configuration
        self.maxConnections = maxConnections
        self.logger = logger
        self.state = Mutex(State())
        // Only for opening connections (libpq may resolve a host name, blocking): one thread per connection, so a
        // reconnect after a restart never queues behind another. Statements wait on PostgresReactor.
        self.threadPool = NIOThreadPool(numberOfThreads: maxConnections)
        self.threadPool.start()
    }

    /// Leases a connection for the duration of `body`.
    public func withConnection<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Leases a connection and runs `body` in one transaction.
    /// `prelude` and `check` as `PostgresConnection.withTransaction` takes them (sent with the `BEGIN`).
    public func withTransaction<Result>(
        isolation: PostgresIsolation = .readCommitted,
        readOnly: Bool = false,
        prelude: [PostgresQuery] = [],
        check: @escaping @Sendable ([PostgresRows]) throws -> Void = { _ in },
        commitInBackground: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.withTransaction(isolation: isolation, readOnly: readOnly, prelude: prelude, check: check,
                                                 commitInBackground: commitInBackground, body)
        }
    }

    /// Leases a connection for one read-only statement in one round trip (`PostgresConnection.readStatement`).
    public func readStatement(
        isolation: PostgresIsolation = .readCommitted,
        readOnly: Bool = true,
        prelude: [PostgresQuery] = [],
        check: ([PostgresRows]) throws -> Void = { _ in },
        _ query: PostgresQuery
    ) async throws -> PostgresRows {
        try await withConnection { connection in
            try await connection.readStatement(isolation: isolation, readOnly: readOnly, prelude: prelude, check: check, query)
        }
    }

    /// Like `withTransaction`, but runs the whole transaction again when PostgreSQL reports a
    /// serialization failure (40001) or deadlock (40P01): at most `maxAttempts` times, with an
    /// exponential, fully jittered pause between attempts. `body` must be safe to run again.
    public func withRetryingTransaction<Result>(
        isolation: PostgresIsolation = .serializable,
        maxAttempts: Int = 5,
        prelude: () -> [PostgresQuery] = { [] },
        check: @escaping @Sendable ([PostgresRows]) throws -> Void = { _ in },
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        precondition(maxAttempts >= 1)
        var attempt = 1
        while true {
            do {
                return try await withTransaction(isolation: isolation, prelude: prelude(), check: check, body)
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < maxAttempts {
                let ceiling = 4 << min(attempt, 8)  // 8 ms, 16 ms, … (capped)
                let pause = Int.random(in: 1...ceiling)
                logger.debug("retrying transaction", metadata: [
                    "db.sqlstate": "\(error.sqlState ?? "")", "db.attempt": "\(attempt)",
                ])
                try await Task.sleep(for: .milliseconds(pause))
                attempt += 1
            }
        }
    }

    /// Runs one statement on a leased connection.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query) }
    }

    /// Counts for health checks and tests.
    public var statistics: (open: Int, idle: Int, waiting: Int) {
        state.withLock { ($0.open, $0.idle.count, $0.waiters.count) }
    }

    /// Closes idle connections, fails waiters, and closes leased connections as they return.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { state -> ([PostgresConnection], [Waiter]) in
            state.isClosed = true
            defer { state.idle = []; state.waiters = [] }
            state.open -= state.idle.count
            return (state.idle, state.waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError(code: .poolClosed, message: "connection pool is shut down"))
        }
        for connection in idle { connection.closeBlocking() }
        try? await threadPool.shutdownGracefully()
    }

    // MARK: - Leasing

    /// A connection, waiting for one and opening one within one call timeout (the deadline starts here).
    private func acquire() async throws -> PostgresConnection {
        let deadline = (PostgresCallTimeout.override ?? configuration.callTimeout).map { ContinuousClock.now + $0 }
        while true {
            let lease = try await nextLease(deadline: deadline)
            switch lease {
            case .connection(let connection):
                let alive = await connection.isIdleAndHealthy()   // non-blocking: poll(2) with timeout 0
                if alive { return connection }
                logger.info("replacing broken database connection", metadata: ["db.connection": "\(connection.id)"])
                connection.closeBlocking()
                if let connection = try await openInSlot(deadline: deadline) { return connection }
            case .slot:
                if let connection = try await openInSlot(deadline: deadline) { return connection }
            }
        }
    }

    /// Opens a connection in a slot already counted in `open`; on failure gives the slot up.
    private func openInSlot(deadline: ContinuousClock.Instant?) async throws -> PostgresConnection? {
        do {
            if let deadline, ContinuousClock.now >= deadline {
                throw PostgresError(code: .timedOut, message: "no database connection within the call timeout")
            }
            let connection = try await PostgresConnection.connect(configuration: configuration, threadPool: threadPool, deadline: deadline)
            let closed = state.withLock { $0.isClosed }
            if closed {
                connection.closeBlocking()
                giveUpSlot()
                throw PostgresError(code: .poolClosed, message: "connection pool is shut down")
            }
            return connection
        } catch {
            giveUpSlot()
            if error is NIOThreadPoolError.ThreadPoolInactive {
                throw PostgresError(code: .poolClosed, message: "connection pool is shut down")
            }
            throw error
        }
    }

    /// Frees a slot; a waiter, if any, inherits it and may open a connection.
    private func giveUpSlot() {
        let waiter = state.withLock { state -> Waiter? in
            if !state.isClosed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .slot)
    }

    private func nextLease(deadline: ContinuousClock.Instant?) async throws -> Lease {
        enum Immediate { case lease(Lease), wait(Int), closed }
        let immediate = state.withLock { state -> Immediate in
            if state.isClosed { return .closed }
            if let connection = state.idle.popLast() { return .lease(.connection(connection)) }
            if state.open < maxConnections {
                state.open += 1
                return .lease(.slot)
            }
            state.nextWaiterID += 1
            return .wait(state.nextWaiterID)
        }
        switch immediate {
        case .closed:
            throw PostgresError(code: .poolClosed, message: "connection pool is shut down")
        case .lease(let lease):
            return lease
        case .wait(let id):
            // Waiting is not bounded by itself: under load a healthy connection handed over late is still good. In a
            // freeze every busy connection times out and is closed, so a waiter soon inherits a slot, and opening a
            // connection past the deadline fails at once (`openInSlot`): the queue is answered within the bound.
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let enqueued = state.withLock { state -> Bool in
                        // Checked under the lock: onCancel either ran before (flag already set)
                        // or runs after the append and finds the waiter.
                        if state.isClosed || Task.isCancelled { return false }
                        state.waiters.append(Waiter(id: id, continuation: continuation))
                        return true
                    }
                    if !enqueued {
                        continuation.resume(throwing: Task.isCancelled
                            ? CancellationError()
                            : PostgresError(code: .poolClosed, message: "connection pool is shut down"))
                    }
                }
            } onCancel: {
                failWaiter(id, CancellationError())
            }
        }
    }

    /// Takes a waiter out of the queue and fails it, if it is still waiting.
    private func failWaiter(_ id: Int, _ error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    private func release(_ connection: PostgresConnection) async {
        let reusable = connection.isUsable && (connection.transactionStatus == .idle || connection.hasCommitPending)
        if !reusable {
            logger.debug("discarding database connection", metadata: ["db.connection": "\(connection.id)"])
            connection.closeBlocking()
            giveUpSlot()
            return
        }
        enum Next { case handTo(Waiter), keep, close }
        let next = state.withLock { state -> Next in
            if state.isClosed {
                state.open -= 1
                return .close
            }
            if !state.waiters.isEmpty { return .handTo(state.waiters.removeFirst()) }
            state.idle.append(connection)
            return .keep
        }
        switch next {
        case .handTo(let waiter): waiter.continuation.resume(returning: .connection(connection))
        case .keep: break
        case .close: connection.closeBlocking()
        }
    }
}
