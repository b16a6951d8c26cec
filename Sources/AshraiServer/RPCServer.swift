import AshraiProtocol
import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import Postgres
import ServiceLifecycle
import Synchronization

/// The TCP server: one JSON value per line, one task per connection.
///
/// Modelled on swift-nio's `NIOTCPEchoServer`: `ServerBootstrap.bind` with `NIOAsyncChannel`,
/// a discarding task group, each connection's errors caught in its own task. Framing is
/// `BoundedLineDecoder`, whose limit is 16 KiB before login and 1 MiB after (configurable),
/// so a line without end cannot grow memory. Requests on a connection are handled one after
/// the other, so replies keep request order.
public final class RPCServer: Service, Sendable {
    /// Listener settings.
    public struct Options: Sendable {
        /// Host to bind.
        public var host: String
        /// Port to bind (0 for any free port).
        public var port: Int
        /// TLS certificate chain and key (PEM files); nil for plain TCP.
        public var tls: (certificatePath: String, keyPath: String)?

        /// Creates options.
        public init(host: String, port: Int, tls: (certificatePath: String, keyPath: String)? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    private let options: Options
    private let dispatcher: Dispatcher
    private let services: Services
    /// Wakes this daemon's subscribed connections when PostgreSQL says an event was written (`events.subscribe`).
    let events: EventHub
    private let settings: ServerSettings
    private let logger: Logger
    private let onRunning: @Sendable (SocketAddress) -> Void
    private let nextConnectionID = Atomic<Int>(1)
    private let openConnections = Atomic<Int>(0)
    /// Live connections, so graceful shutdown can end each after its current request.
    private let liveChannels = Mutex<[Int: any Channel]>([:])
    private let isShuttingDown = Atomic<Bool>(false)
    /// Connections not logged in (yet, or any more), by id (ids grow, so the smallest is the
    /// oldest), with their peer address: capped per address, and the oldest is closed to make
    /// room when the server is full — a logged-in user is never refused for anonymous sockets.
    private let anonymous = Mutex<[Int: (address: String?, channel: any Channel)]>([:])

    /// Creates a server; `onRunning` receives the bound address (tests read the port from it).
    public init(
        options: Options, services: Services, logger: Logger,
        onRunning: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.options = options
        self.dispatcher = Dispatcher(services: services)
        self.services = services
        self.events = EventHub(configuration: services.eventsDatabase, pollInterval: services.settings.eventsPollInterval, logger: logger)
        self.settings = services.settings
        self.logger = logger
        self.onRunning = onRunning
    }

    /// Makes the TLS context: TLS 1.2 or newer, no plaintext fallback on this port.
    static func makeTLSContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// Accepts connections until graceful shutdown; then stops accepting and lets the
    /// connections in flight finish their current request.
    public func run() async throws {
        let tlsContext = try options.tls.map { try Self.makeTLSContext(certificatePath: $0.certificatePath, keyPath: $0.keyPath) }
        let settings = self.settings
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Input may close (a client's FIN after its last request, or ours at shutdown) while
            // replies are still owed: keep the output open until they are written.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark,
                                value: .init(low: settings.maxPendingOutputBytes / 2, high: settings.maxPendingOutputBytes))
            .bind(host: options.host, port: options.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let limit = LineLimit(settings.preLoginMaxLineBytes, ceiling: settings.maxLineBytes)
                    let activity = ConnectionActivity()
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                    }
                    let idle = TimeAmount.seconds(settings.idleTimeout.components.seconds)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleCloser(activity: activity))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(BoundedLineDecoder(limit: limit)))
                    let wrapped = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    return (wrapped, limit, activity)
                }
            }
        if let address = serverChannel.channel.localAddress {
            logger.info("listening", metadata: ["address": "\(address)", "tls": "\(tlsContext != nil)"])
            onRunning(address)
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await (connection, limit, activity) in inbound {
                        let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
                        // On the cooperative pool, not the connection's event loop: running requests on their event
                        // loop saved a thread hop each (#19) but pinned every connection to one loop, so one heavy
                        // request (an import, a report) stalled every connection on that loop — a login deadline
                        // fired on a line already read.
                        group.addTask { await self.serve(connection, limit: limit, activity: activity, id: id) }
                    }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting; let every connection finish the request it is on: closing the
            // input ends its read loop after the lines already received, then it closes.
            self.isShuttingDown.store(true, ordering: .relaxed)
            serverChannel.channel.close(promise: nil)
            for channel in self.liveChannels.withLock({ Array($0.values) }) {
                channel.close(mode: .input, promise: nil)
            }
        }
        await events.stop()
        logger.info("server stopped")
    }

    private func serve(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, limit: LineLimit, activity: ConnectionActivity, id: Int) async {
        let open = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        liveChannels.withLock { $0[id] = channel.channel }
        defer {
            openConnections.wrappingSubtract(1, ordering: .relaxed)
            liveChannels.withLock { _ = $0.removeValue(forKey: id) }
        }
        if isShuttingDown.load(ordering: .relaxed) { channel.channel.close(mode: .input, promise: nil) }
        var logger = self.logger
        logger[metadataKey: "connection.id"] = "\(id)"
        let address = channel.channel.remoteAddress?.ipAddress
        var context = CallContext(connectionID: id, clientAddress: address, logger: logger)
        let settings = self.settings
        let dispatcher = self.dispatcher
        let raw = channel.channel
        // Unauthenticated connections get a deadline to log in — shorter when anonymous
        // sockets already fill half the server — re-armed by a logout.
        func armDeadline() -> Scheduled<Void> {
            let crowded = anonymous.withLock { $0.count } * 2 > settings.maxConnections
            let seconds = crowded ? min(settings.loginDeadline.components.seconds, settings.crowdedLoginDeadline.components.seconds)
                                  : settings.loginDeadline.components.seconds
            activity.loginExpired = false
            return raw.eventLoop.scheduleTask(in: .seconds(seconds)) {
                // A login being worked on (a loaded machine may take seconds to hash a password)
                // is answered first; the connection closes after it if it is still not logged in.
                if activity.isBusy { activity.loginExpired = true } else { raw.close(promise: nil) }
            }
        }
        let sameAddress = anonymous.withLock { table in
            table[id] = (address, raw)
            return table.values.filter { $0.address == address }.count
        }
        defer { _ = anonymous.withLock { $0.removeValue(forKey: id) } }
        var deadline: Scheduled<Void>? = armDeadline()
        defer { deadline?.cancel() }
        logger.debug("connection opened", metadata: ["client": "\(address ?? "?")"])
        do {
            try await channel.executeThenClose { inbound, outbound in
                let writer = LineWriter(outbound: outbound, channel: raw, writeTimeout: settings.writeTimeout)
                func send(_ reply: [UInt8]) async throws { try await writer.send(reply) }
                // Delivery of the connection's subscription, beside the request loop: notifications are whole lines
                // written between replies (the writer takes lines from both), and the loop stops it — waiting for
                // it, so no notification follows the reply that ended it — when the subscription changes or the
                // session ends.
                var delivery: (generation: Int, task: Task<Void, Never>)?
                func follow(_ context: CallContext) async {
                    let wanted = context.session == nil ? nil : context.subscription
                    if let delivery, delivery.generation == wanted?.generation { return }
                    if let running = delivery {
                        running.task.cancel()
                        await running.task.value
                        delivery = nil
                    }
                    activity.isSubscribed = wanted != nil
                    guard let wanted else { return }
                    delivery = (wanted.generation, Task { await self.deliver(wanted, context: context, writer: writer, activity: activity) })
                }
                defer { delivery?.task.cancel() }
                if sameAddress > settings.maxAnonymousPerAddress {
                    logger.warning("too many connections not logged in from one address; refusing", metadata: ["client": "\(address ?? "?")"])
                    try await send(Dispatcher.errorResponse(id: .null, RPCFailure(
                        .unavailable, "too many connections not logged in from your address; log in on the ones you have",
                        data: ["retryable": true])).encodedBytes())
                    return
                }
                if open > settings.maxConnections {
                    // Full: make room by closing the oldest connection that is not logged in
                    // (never this one's elders that are); only when none is left, refuse.
                    let victim = anonymous.withLock { table in table.keys.filter { $0 != id }.min().flatMap { table.removeValue(forKey: $0) } }
                    if let victim {
                        logger.notice("server full: closing the oldest connection not logged in", metadata: ["client": "\(victim.address ?? "?")"])
                        victim.channel.close(promise: nil)
                    } else {
                        logger.warning("too many connections; refusing")
                        try await send(Dispatcher.errorResponse(
                            id: .null, RPCFailure(.unavailable, "too many connections; retry later", data: ["retryable": true])).encodedBytes())
                        return
                    }
                }
                do {
                    for try await var line in inbound {
                        var bytes = line.readBytes(length: line.readableBytes) ?? []
                        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                        defer { limit.lineHandled() }
                        guard !bytes.isEmpty else { continue }
                        // A line framed behind a login still waiting its turn was let through at
                        // the post-login size; it is held to the limit in force now.
                        guard bytes.count <= limit.bytes else { throw LineTooLong() }
                        activity.isBusy = true
                        let reply = await dispatcher.handle(line: bytes, context: &context)
                        // A subscription ends with its session: a later login on this connection starts without one.
                        if context.session == nil { context.subscription = nil }
                        if context.subscription != nil || delivery != nil { await follow(context) }
                        // Who is logged in is settled before the reply goes out, so a deadline
                        // cannot close a connection whose login has already been answered.
                        let loggedIn = context.session != nil
                        limit.set(loggedIn ? settings.maxLineBytes : settings.preLoginMaxLineBytes)
                        if loggedIn, deadline != nil {
                            deadline?.cancel()
                            deadline = nil
                            _ = anonymous.withLock { $0.removeValue(forKey: id) }
                        } else if !loggedIn, deadline == nil {
                            // Logged out: anonymous again, with a deadline to log in again.
                            anonymous.withLock { $0[id] = (address, raw) }
                            deadline = armDeadline()
                        }
                        if let reply { try await send(reply) }
                        activity.isBusy = false   // from here the deadline closes the connection itself
                        if !loggedIn, activity.loginExpired {
                            logger.debug("login deadline passed while a request ran; closing")
                            return
                        }
                    }
                } catch is LineTooLong {
                    // Answer, then close: the rest of the line cannot be framed.
                    logger.notice("line too long; closing connection")
                    try await send(Dispatcher.errorResponse(id: .null, RPCFailure(.invalidRequest, "line too long")).encodedBytes())
                }
                if let running = delivery {
                    running.task.cancel()
                    await running.task.value
                }
            }
        } catch {
            logger.debug("connection ended with error", metadata: ["error": "\(error)"])
        }
        logger.debug("connection closed")
    }
}

extension RPCServer {
    /// Sends a subscription's events to its connection until cancelled: at each wake-up from the hub, what is new
    /// since the last one delivered (`EventFeed`), a page at a time, as the subscriber sees it. A session that ended
    /// gets `events.ended` and delivery stops; a database that fails is tried again at the next wake-up (the poll).
    func deliver(_ subscription: EventSubscription, context: CallContext, writer: LineWriter, activity: ConnectionActivity) async {
        let (id, wakeups) = events.join()
        defer { events.leave(id) }
        var context = context
        var cursor = subscription.cursor
        var lastRead: ContinuousClock.Instant?
        for await _ in wakeups {
            do {
                // Paced: at most one read per `EventFeed.minimumInterval` — under a stream of writes the notifications
                // that come meanwhile are taken by one read (the hub keeps one wake-up), so a watcher's work does not grow
                // with the write rate; after a quiet spell the first event is read at once. A full page is followed at
                // once. While committed events are held back by an older transaction still running (whose end sends no
                // notification), reading goes on at that pace as long as the horizon moves, and backs off to 1 s while
                // it does not (one long transaction).
                var backoff = Duration.zero
                var immediate = false
                while true {
                    if !immediate, let lastRead, case let wait = lastRead + max(EventFeed.minimumInterval, backoff) - .now, wait > .zero {
                        try await Task.sleep(for: wait)
                    }
                    try Task.checkCancellation()
                    lastRead = .now
                    let (page, refreshed) = try await PostgresCallTimeout.$override.withValue(settings.clientCallTimeout(system: false)) { [context, cursor] in
                        try await EventFeed.read(after: cursor, topics: subscription.topics, skipping: subscription.skipping, services, context: context)
                    }
                    if let refreshed { context.session = refreshed }
                    for notification in page.events {
                        try Task.checkCancellation()
                        try await writer.send(notification.encodedBytes())
                    }
                    let moved = page.next > cursor
                    cursor = page.next
                    immediate = page.full
                    if page.full { continue }
                    guard page.heldBack else { break }
                    backoff = moved ? .zero : min(max(backoff * 2, EventFeed.minimumInterval * 2), .seconds(1))
                }
            } catch let failure as RPCFailure where failure.code == .unauthenticated || failure.code == .forbidden {
                let ended: JSONValue = ["jsonrpc": "2.0", "method": "events.ended",
                                        "params": ["reason": .string(failure.code == .unauthenticated ? "unauthenticated" : "forbidden")]]
                try? await writer.send(ended.encodedBytes())
                activity.isSubscribed = false   // idle again: a connection nobody uses any more is closed in time
                return
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                context.logger.debug("reading events failed; trying again at the next wake-up", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Writes whole lines to one connection, from the request loop and the subscription's delivery alike (NIO's writer
/// takes writes from several tasks; a line is one write, so lines never interleave). A client that stops reading gets
/// `writeTimeout` to drain, then is dropped.
struct LineWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let writeTimeout: Duration

    func send(_ line: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: line.count + 1)
        buffer.writeBytes(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        if channel.isWritable {
            try await outbound.write(buffer)
        } else {
            let channel = self.channel
            let timer = channel.eventLoop.scheduleTask(in: .seconds(writeTimeout.components.seconds)) { channel.close(promise: nil) }
            defer { timer.cancel() }
            try await outbound.write(buffer)
        }
    }
}

/// The current line limit of one connection; raised after login. `ceiling` (the post-login
/// limit) frames lines that arrive while an earlier line is still waiting to be handled — it
/// may be the login that raises the limit — and the serve loop holds each such line to the
/// limit in force when its turn comes. Memory stays bounded by the ceiling.
final class LineLimit: Sendable {
    private let value: Atomic<Int>
    private let pending = Atomic<Int>(0)
    let ceiling: Int
    init(_ bytes: Int, ceiling: Int) {
        value = Atomic(bytes)
        self.ceiling = max(bytes, ceiling)
    }
    var bytes: Int { value.load(ordering: .relaxed) }
    func set(_ bytes: Int) { value.store(bytes, ordering: .relaxed) }
    /// The limit for the next line the decoder frames.
    var framing: Int { pending.load(ordering: .relaxed) > 0 ? ceiling : bytes }
    func lineFramed() { pending.wrappingAdd(1, ordering: .relaxed) }
    func lineHandled() { pending.wrappingSubtract(1, ordering: .relaxed) }
}

/// A line exceeded the limit.
struct LineTooLong: Error {}

/// Splits on `\n`, refusing (and so closing) a line longer than the limit, which bounds the
/// buffered bytes per connection.
struct BoundedLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let limit: LineLimit
    private var scanned = 0

    init(limit: LineLimit) { self.limit = limit }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch LineFraming.next(in: buffer.readableBytesView, scanned: scanned, limit: limit.framing) {
        case .line(let length):
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            scanned = 0
            limit.lineFramed()
            context.fireChannelRead(Self.wrapInboundOut(line))
            return .continue
        case .needMore(let scanned):
            self.scanned = scanned
            return .needMoreData
        case .tooLong:
            throw LineTooLong()
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.clear()  // an unterminated last line is not a message
        return .needMoreData
    }
}

/// Whether a connection is processing a request (so the idle timeout leaves it alone).
final class ConnectionActivity: Sendable {
    private let busy = Atomic<Bool>(false)
    private let expired = Atomic<Bool>(false)
    private let subscribed = Atomic<Bool>(false)
    /// The connection hears events: a watcher that sends nothing is not idle.
    var isSubscribed: Bool {
        get { subscribed.load(ordering: .sequentiallyConsistent) }
        set { subscribed.store(newValue, ordering: .sequentiallyConsistent) }
    }
    var isBusy: Bool {
        get { busy.load(ordering: .sequentiallyConsistent) }
        set { busy.store(newValue, ordering: .sequentiallyConsistent) }
    }
    /// The login deadline passed while a request was running.
    var loginExpired: Bool {
        get { expired.load(ordering: .sequentiallyConsistent) }
        set { expired.store(newValue, ordering: .sequentiallyConsistent) }
    }
}

/// Closes a connection that sent nothing for the idle timeout — unless a request of its is
/// still running (a long report is not idleness).
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let activity: ConnectionActivity

    init(activity: ConnectionActivity) { self.activity = activity }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if !activity.isBusy && !activity.isSubscribed { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
