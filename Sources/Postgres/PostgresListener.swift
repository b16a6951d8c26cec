import CLibPQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `NOTIFY` received on a channel this listener `LISTEN`s to.
public struct PostgresNotification: Sendable, Equatable {
    /// The channel name.
    public var channel: String
    /// The payload (may be empty).
    public var payload: String
    /// The process id of the notifying backend.
    public var senderPID: Int32
}

/// LISTEN/NOTIFY on a dedicated connection, owned by a dedicated thread.
///
/// The thread waits in `poll(2)` on the connection's socket and on a wake-up pipe, so a new
/// `listen` takes effect at once. If the connection breaks it reconnects (after a pause) and
/// issues `LISTEN` again for every channel; notifications sent while disconnected are lost,
/// as PostgreSQL does not queue them for absent listeners — consumers treat them as hints and
/// re-read state from the tables.
public final class PostgresListener: Sendable {
    private struct State {
        var desired: Set<String> = []
        var pendingAcks: [(channels: Set<String>, continuation: CheckedContinuation<Void, Never>)] = []
        var subscribers: [Int: AsyncStream<PostgresNotification>.Continuation] = [:]
        var nextSubscriber = 0
        var stopped = false
    }

    private let configuration: PostgresConfiguration
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let reconnectDelay: Duration

    /// Creates a listener and starts its thread.
    public init(configuration: PostgresConfiguration, logger: Logger, reconnectDelay: Duration = .seconds(1)) {
        self.configuration = configuration
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        var fds: [Int32] = [0, 0]
        let status = pipe(&fds)
        precondition(status == 0, "pipe() failed")
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        let thread = Thread { [self] in self.loop() }
        thread.name = "ashrai-pg-listener"
        thread.start()
    }

    /// A stream of every notification on the channels listened to, from now on.
    public func notifications() -> AsyncStream<PostgresNotification> {
        let (stream, continuation) = AsyncStream<PostgresNotification>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id = state.withLock { state -> Int in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Starts listening on `channel`; returns once the server has acknowledged the LISTEN
    /// (immediately if currently disconnected — it is issued on reconnect).
    public func listen(_ channel: String) async {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                state.desired.insert(channel)
                state.pendingAcks.append(([channel], continuation))
            }
            wake()
        }
    }

    /// Stops listening on `channel`.
    public func unlisten(_ channel: String) async {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                state.desired.remove(channel)
                state.pendingAcks.append(([], continuation))
            }
            wake()
        }
    }

    /// Stops the thread and finishes all streams.
    public func shutdown() {
        state.withLock { $0.stopped = true }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, 64) > 0 {}
    }

    // MARK: - The listener thread

    private func loop() {
        var connection: OpaquePointer?
        var applied: Set<String> = []
        defer {
            if let connection { PQfinish(connection) }
            close(wakeRead)
            close(wakeWrite)
            let (subscribers, acks) = state.withLock { state in
                defer { state.subscribers = [:]; state.pendingAcks = [] }
                return (Array(state.subscribers.values), state.pendingAcks)
            }
            subscribers.forEach { $0.finish() }
            acks.forEach { $0.continuation.resume() }
        }
        while !state.withLock({ $0.stopped }) {
            if connection == nil {
                connection = connect()
                applied = []
                if connection == nil {
                    releaseAcks()  // nobody should hang while the database is away
                    sleepInterruptibly(reconnectDelay)
                    continue
                }
            }
            guard let handle = connection else { continue }
            // Bring LISTENs in line with what was asked.
            let (desired, acks) = state.withLock { state in
                defer { state.pendingAcks = [] }
                return (state.desired, state.pendingAcks)
            }
            var ok = true
            for channel in desired.subtracting(applied) where ok {
                ok = run(handle, "LISTEN " + PostgresQuery.quoteIdentifier(channel))
                if ok { applied.insert(channel) }
            }
            for channel in applied.subtracting(desired) where ok {
                ok = run(handle, "UNLISTEN " + PostgresQuery.quoteIdentifier(channel))
                if ok { applied.remove(channel) }
            }
            acks.forEach { $0.continuation.resume() }
            if !ok || PQstatus(handle) != CONNECTION_OK {
                logger.warning("listener connection lost; reconnecting")
                PQfinish(handle)
                connection = nil
                continue
            }
            // Wait for input or a wake-up.
            var fds = [
                pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&fds, 2, 1000)
            drainWakePipe()
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                logger.warning("listener connection lost; reconnecting")
                PQfinish(handle)
                connection = nil
                continue
            }
            while let raw = PQnotifies(handle) {
                let notification = PostgresNotification(
                    channel: String(cString: raw.pointee.relname),
                    payload: String(cString: raw.pointee.extra),
                    senderPID: raw.pointee.be_pid)
                PQfreemem(raw)
                let subscribers = state.withLock { Array($0.subscribers.values) }
                subscribers.forEach { $0.yield(notification) }
            }
        }
    }

    private func releaseAcks() {
        let acks = state.withLock { state in
            defer { state.pendingAcks = [] }
            return state.pendingAcks
        }
        acks.forEach { $0.continuation.resume() }
    }

    private func sleepInterruptibly(_ duration: Duration) {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        let millis = Int32(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&fds, 1, millis)
        drainWakePipe()
    }

    private func connect() -> OpaquePointer? {
        do {
            let handle = try PostgresConnection.openHandle(configuration: configuration)
            return handle
        } catch {
            logger.warning("listener cannot connect", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func run(_ handle: OpaquePointer, _ sql: String) -> Bool {
        guard let result = PQexec(handle, sql) else { return false }
        defer { PQclear(result) }
        return PQresultStatus(result) == PGRES_COMMAND_OK
    }
}
