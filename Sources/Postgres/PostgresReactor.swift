import CLibPQ
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread that waits for every connection's socket (epoll), so a statement needs no thread of its own.
///
/// libpq is used non-blocking: the task holding a connection sends a statement and reads its results on its own
/// (cooperative) thread, and between the two it suspends here until the socket is ready. The reactor's thread
/// resumes it. Before, each statement hopped to a thread-pool thread that sent it and blocked in poll(2): two
/// more thread wake-ups per statement, which the profile showed as most of a short request's CPU (#19).
///
/// A registration is one-shot (`EPOLLONESHOT`): a waiter is woken once and re-arms by waiting again. A wake-up
/// may be spurious (a stale event of a closed descriptor whose number was reused); every caller re-checks libpq's
/// state and waits again, as it would after poll(2). Deadlines are checked every `tick`, so a missed deadline is
/// noticed at most one tick late; they are call timeouts of seconds.
final class PostgresReactor: Sendable {
    /// The process's reactor, started on first use and never stopped (one idle thread, woken every tick).
    static let shared = PostgresReactor()

    /// How often deadlines are checked.
    static let tick = Duration.milliseconds(50)

    private struct Waiter {
        let continuation: CheckedContinuation<Void, any Error>
        let deadline: ContinuousClock.Instant?
    }

    private let epoll: Int32
    private let waiters = Mutex<[Int32: Waiter]>([:])

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed (errno \(errno))")
        let thread = Thread { [self] in run() }
        thread.name = "postgres-reactor"
        thread.start()
    }

    /// Suspends until `descriptor` is readable (or writable too, with `writable`), or throws `.timedOut` once
    /// `deadline` has passed. Only the task holding the connection waits on its socket.
    func wait(_ descriptor: Int32, writable: Bool, deadline: ContinuousClock.Instant?, cancellable: Bool = false) async throws {
        if let deadline, ContinuousClock.now >= deadline { throw Self.timedOut }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            waiters.withLock { $0[descriptor] = Waiter(continuation: continuation, deadline: deadline) }
            // Cancelled before the waiter was there for the cancellation handler to find: end it here (whichever
            // of the two removes the waiter resumes it, once).
            if cancellable, Task.isCancelled, let waiter = waiters.withLock({ $0.removeValue(forKey: descriptor) }) {
                waiter.continuation.resume(throwing: CancellationError())
                return
            }
            var flags = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
            if writable { flags |= EPOLLOUT.rawValue }
            var event = epoll_event(events: flags, data: epoll_data_t(fd: descriptor))
            var status = epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event)
            if status != 0, errno == ENOENT { status = epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) }
            if status != 0 {
                let code = errno
                if let waiter = waiters.withLock({ $0.removeValue(forKey: descriptor) }) {
                    waiter.continuation.resume(throwing: PostgresError(code: .connectionLost, message: "cannot wait on the database socket (errno \(code))"))
                }
            }
        }
    }

    /// `wait`, ended early by the task's cancellation (`CancellationError`): for a wait that is not a call's, such as a
    /// listener's for its next notification.
    func waitCancellably(_ descriptor: Int32, deadline: ContinuousClock.Instant?) async throws {
        try await withTaskCancellationHandler {
            try await wait(descriptor, writable: false, deadline: deadline, cancellable: true)
        } onCancel: {
            if let waiter = waiters.withLock({ $0.removeValue(forKey: descriptor) }) { waiter.continuation.resume(throwing: CancellationError()) }
        }
    }

    static var timedOut: PostgresError {
        PostgresError(code: .timedOut, message: "the database did not answer within the call timeout")
    }

    private func run() {
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        let tickMilliseconds = Int32(Self.tick.components.attoseconds / 1_000_000_000_000_000 + Self.tick.components.seconds * 1000)
        var nextScan = ContinuousClock.now + Self.tick
        while true {
            let count = epoll_wait(epoll, events, Int32(capacity), tickMilliseconds)
            if count > 0 {
                let ready = waiters.withLock { waiters in
                    (0..<Int(count)).compactMap { waiters.removeValue(forKey: events[$0].data.fd) }
                }
                for waiter in ready { waiter.continuation.resume() }
            }
            let now = ContinuousClock.now
            if now >= nextScan {
                nextScan = now + Self.tick
                let expired = waiters.withLock { waiters -> [Waiter] in
                    let late = waiters.filter { $0.value.deadline.map { $0 <= now } ?? false }
                    for descriptor in late.keys { waiters.removeValue(forKey: descriptor) }
                    return Array(late.values)
                }
                for waiter in expired { waiter.continuation.resume(throwing: Self.timedOut) }
            }
        }
    }
}
