import Foundation
import Logging
import NIOPosix
import Postgres
import Synchronization

/// One per daemon: `LISTEN ashrai_events` on a connection of its own, and every subscribed connection of this daemon
/// woken when PostgreSQL says something happened — on any daemon, since the NOTIFY comes from the writing transaction.
///
/// A notification is only a wake-up: each subscriber then reads what is new for it (`EventFeed`), so one lost
/// notification loses nothing. The hub also wakes everyone every `pollInterval` — the fallback when notifications
/// cannot come at all (the listener's connection is down and reconnecting, or `database.eventsUrl` points at a
/// PgBouncer in transaction mode, where LISTEN does not hold) — and checks its connection then.
final class EventHub: Sendable {
    /// The channel the triggers NOTIFY.
    static let channel = "ashrai_events"

    private let configuration: PostgresConfiguration
    private let pollInterval: Duration
    private let logger: Logger
    private let subscribers = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    private let nextID = Atomic<Int>(1)
    /// The listener, started by the first subscriber (a daemon nobody watches holds no connection for it).
    private let listener = Mutex<(task: Task<Void, Never>?, stopped: Bool)>((nil, false))

    init(configuration: PostgresConfiguration, pollInterval: Duration, logger: Logger) {
        self.configuration = configuration
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// A subscriber's wake-ups, the first at once; call `leave` with the id when done.
    func join() -> (id: Int, wakeups: AsyncStream<Void>) {
        listener.withLock { state in
            if state.task == nil, !state.stopped { state.task = Task { await self.run() } }
        }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        subscribers.withLock { $0[id] = continuation }
        continuation.yield()
        return (id, stream)
    }

    func leave(_ id: Int) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    /// Wakes every subscriber (a wake-up not yet taken absorbs the next: each reads all that is new anyway).
    func wakeAll() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield() }
    }

    /// Stops the listener (at shutdown) and ends every subscriber's wake-ups.
    func stop() async {
        let task = listener.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.task
        }
        task?.cancel()
        await task?.value
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }

    /// Listens until the task is cancelled, reconnecting after a failure.
    private func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, threadPool: .singleton, deadline: ContinuousClock.now + .seconds(10))
                try await connection.query("LISTEN \(unescaped: Self.channel)")
                if failures > 0 { logger.notice("events listener connected again") }
                failures = 0
                // What committed while nobody listened.
                wakeAll()
                while !Task.isCancelled {
                    let received = try await connection.notifications(waitingUpTo: pollInterval)
                    // Quiet for a while: is the connection still there? (Also the poll for a listener that hears nothing.)
                    if received.isEmpty { try await connection.query("SELECT 1") }
                    wakeAll()
                }
            } catch {
                if Task.isCancelled || error is CancellationError { break }
                failures += 1
                if failures == 1 {
                    logger.warning("events listener lost its connection; subscribers are polled until it is back",
                                   metadata: ["error": "\(error)"])
                }
                wakeAll()
                try? await Task.sleep(for: min(pollInterval, .seconds(failures)))
            }
        }
    }
}
