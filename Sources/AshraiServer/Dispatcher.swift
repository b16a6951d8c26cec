import AshraiCore
import AshraiProtocol
import Foundation
import Logging
import Postgres

/// A method's implementation. It may change the connection's context (login, logout).
public typealias MethodHandler = @Sendable (Services, CallContext, Params) async throws -> JSONValue

/// A method that changes the connection's session (login, resume, logout, password change):
/// its result, and the session the connection has afterwards (nil: none). Handlers never mutate
/// the context; the Dispatcher applies what they return.
public typealias SessionHandler = @Sendable (Services, CallContext, Params) async throws -> (result: JSONValue, session: SessionInfo?)

/// A method that changes what the connection hears (`events.subscribe`, `events.unsubscribe`): its result, and the
/// subscription the connection has afterwards (nil: none). The server starts or stops the connection's delivery.
public typealias SubscriptionHandler = @Sendable (Services, CallContext, Params) async throws -> (result: JSONValue, subscription: EventSubscription?)

/// A check every call passes after the role check and before its handler (the training gate).
public typealias MethodGate = @Sendable (_ method: String, Services, CallContext) async throws -> Void

/// A method's handler, of either kind.
enum Handler: Sendable {
    case plain(MethodHandler)
    case session(SessionHandler)
    case subscription(SubscriptionHandler)
}

/// Turns one request line (a request or a batch) into one response line, or none.
///
/// Order of checks for each request: envelope (-32600) → method in the catalog (-32601) →
/// session (401) → role from the catalog (403) → pending password change (403
/// `password_change_required`) → params known and present (-32602) → the handler.
public struct Dispatcher: Sendable {
    let services: Services
    let handlers: [String: Handler]

    /// Methods a user who must change their password may still call.
    static let allowedBeforePasswordChange: Set<String> = ["auth.change_password", "auth.logout", "auth.whoami"]

    /// Creates a dispatcher with every handler of the catalog.
    public init(services: Services) {
        self.services = services
        self.handlers = MethodHandlers.all
        let missing = MethodCatalog.all.map(\.name).filter { handlers[$0] == nil }
        let extra = handlers.keys.filter { MethodCatalog.spec(named: $0) == nil }
        precondition(missing.isEmpty && extra.isEmpty, "catalog and handlers differ: missing \(missing), extra \(extra)")
    }

    /// The OpenRPC document, built and encoded once: in full for a session, and the methods
    /// callable before login for anyone else.
    static let discovery = (full: OpenRPCDocument.make().encodedBytes(), preLogin: OpenRPCDocument.make(preLogin: true).encodedBytes())

    /// The reply to a line, or nil when nothing is to be sent (notifications only).
    ///
    /// Bounded: a batch holds at most `maxBatch` requests (`preLoginMaxBatch` before login),
    /// and a reply line at most `maxReplyBytes` — a reply that would pass it is replaced by an
    /// error, and in a batch the requests after it are not run (each says so), so no client
    /// can make the server build an unbounded reply.
    public func handle(line: [UInt8], context: inout CallContext) async -> [UInt8]? {
        // Everything a request does is bounded by the request's database bound, even its work on the
        // daemon's pool (a login reads the password hash there), whose own bound is the jobs'.
        await PostgresCallTimeout.$override.withValue(services.settings.clientCallTimeout(system: false)) {
            await handleBounded(line: line, context: &context)
        }
    }

    private func handleBounded(line: [UInt8], context: inout CallContext) async -> [UInt8]? {
        let message: JSONValue
        do {
            message = try JSONValue.parse(line)
        } catch {
            return Self.errorResponse(id: .null, RPCFailure(.parseError, "parse error: \(error.reason)")).encodedBytes()
        }
        let settings = services.settings
        switch message {
        case .array(let items):
            guard !items.isEmpty else {
                return Self.errorResponse(id: .null, RPCFailure(.invalidRequest, "empty batch")).encodedBytes()
            }
            let maxBatch = context.session == nil ? settings.preLoginMaxBatch : settings.maxBatch
            guard items.count <= maxBatch else {
                return Self.errorResponse(id: .null, RPCFailure(
                    .invalidRequest, "batch too large: at most \(settings.maxBatch) requests per batch (\(settings.preLoginMaxBatch) before login)")).encodedBytes()
            }
            var parts: [[UInt8]] = []
            var total = 2
            var overflowed = false
            for item in items {
                if overflowed {
                    // Not run: answered (if it wanted an answer) with why.
                    if case .object(let request) = item, let id = request["id"] {
                        parts.append(Self.errorResponse(id: id, RPCFailure(
                            .internalError, "not run: the batch's reply passed \(settings.maxReplyBytes) bytes; send fewer requests per batch")).encodedBytes())
                    }
                    continue
                }
                guard var reply = await handleRequest(item, context: &context) else { continue }
                if total + reply.bytes.count > settings.maxReplyBytes {
                    reply.bytes = Self.tooLarge(id: reply.id, limit: settings.maxReplyBytes)
                    overflowed = true
                }
                total += reply.bytes.count + 1
                parts.append(reply.bytes)
            }
            guard !parts.isEmpty else { return nil }
            var bytes: [UInt8] = [UInt8(ascii: "[")]
            bytes.reserveCapacity(total)
            for (index, part) in parts.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(contentsOf: part)
            }
            bytes.append(UInt8(ascii: "]"))
            return bytes
        default:
            guard let reply = await handleRequest(message, context: &context) else { return nil }
            return reply.bytes.count > settings.maxReplyBytes ? Self.tooLarge(id: reply.id, limit: settings.maxReplyBytes) : reply.bytes
        }
    }

    /// The error that stands in for a reply longer than the limit.
    static func tooLarge(id: JSONValue, limit: Int) -> [UInt8] {
        errorResponse(id: id, RPCFailure(.internalError, "reply too large: more than \(limit) bytes; ask for less (limit, a narrower filter)")).encodedBytes()
    }

    /// What a method returns: a value to encode, or (rpc.discover) bytes encoded once.
    enum Outcome {
        case value(JSONValue)
        case encoded([UInt8])
    }

    /// One request's reply line (with its id, for a stand-in error), or nil for a notification.
    func handleRequest(_ value: JSONValue, context: inout CallContext) async -> (id: JSONValue, bytes: [UInt8])? {
        guard case .object(let request) = value else {
            return (.null, Self.errorResponse(id: .null, RPCFailure(.invalidRequest, "request must be an object")).encodedBytes())
        }
        // The id, if valid, is echoed exactly as sent (string, number or null).
        let id = request["id"]
        let idIsValid: Bool
        switch id {
        case nil, .string?, .number?, .null?: idIsValid = true
        default: idIsValid = false
        }
        guard idIsValid, request["jsonrpc"] == .string("2.0"), case .string(let method)? = request["method"] else {
            let replyID = idIsValid ? (id ?? .null) : .null
            return (replyID, Self.errorResponse(id: replyID, RPCFailure(
                .invalidRequest, "invalid request: need jsonrpc \"2.0\", a method name and a string, number or null id")).encodedBytes())
        }
        let isNotification = id == nil
        let started = ContinuousClock.now
        // The request's log metadata is passed to each log call, not set on the logger: setting it made the stream
        // handler re-render all of the logger's metadata on every request, logged or not (3 % of a ping's CPU).
        let logger = context.logger
        func metadata(_ extra: Logger.Metadata = [:]) -> Logger.Metadata {
            var all = extra
            all["rpc.method"] = "\(method)"
            if let session = context.session { all["user"] = "\(session.username)" }
            return all
        }
        let outcome: Result<Outcome, RPCFailure>
        do {
            outcome = .success(try await call(method, params: request["params"], context: &context))
        } catch let failure as RPCFailure {
            outcome = .failure(failure)
        } catch let error as PostgresError {
            outcome = .failure(Self.failure(for: error, logger: logger, metadata: metadata()))
        } catch {
            logger.error("method failed", metadata: metadata(["error": "\(type(of: error))"]))
            outcome = .failure(.internalError)
        }
        let elapsed = ContinuousClock.now - started
        switch outcome {
        case .success:
            logger.debug("rpc", metadata: metadata(["duration_ms": "\(Self.milliseconds(elapsed))"]))
        case .failure(let failure):
            logger.info("rpc failed", metadata: metadata(["duration_ms": "\(Self.milliseconds(elapsed))", "rpc.code": "\(failure.code.rawValue)"]))
        }
        if isNotification { return nil }
        let replyID = id ?? .null
        switch outcome {
        case .success(.value(let result)):
            return (replyID, JSONValue.object(["jsonrpc": "2.0", "id": replyID, "result": result]).encodedBytes())
        case .success(.encoded(let result)):
            var bytes = JSONValue.object(["jsonrpc": "2.0", "id": replyID]).encodedBytes()
            bytes.removeLast()   // the closing brace: the result goes in before it
            bytes.append(contentsOf: Array(#","result":"#.utf8))
            bytes.append(contentsOf: result)
            bytes.append(UInt8(ascii: "}"))
            return (replyID, bytes)
        case .failure(let failure):
            return (replyID, Self.errorResponse(id: replyID, failure).encodedBytes())
        }
    }

    func call(_ method: String, params: JSONValue?, context: inout CallContext) async throws -> Outcome {
        guard let spec = MethodCatalog.spec(named: method), let handler = handlers[method] else {
            throw RPCFailure(.methodNotFound, "method not found")
        }
        context.sessionCheck = nil
        context.isBatch = MethodCatalog.batches.contains(method)
        if spec.needsSession {
            guard let current = context.session else { throw RPCFailure.unauthenticated }
            if case .plain = handler, services.settings.training.gates[method] == nil,
               (try? Self.authorize(current, method: method, spec: spec)) != nil {
                // Checked in the handler's first transaction, in the round trip of its BEGIN (`SessionCheck`). What the
                // session held until now would allow the call; one it would not is refreshed first, below, so a role
                // just granted applies at once and a refusal is answered before the params are looked at.
                context.sessionCheck = SessionCheck(session: current, method: method, spec: spec)
            } else {
                guard let refreshed = try await SessionStore.refresh(current, services: services) else {
                    context.session = nil
                    throw RPCFailure.unauthenticated
                }
                context.session = refreshed
                try Self.authorize(refreshed, method: method, spec: spec)
                for gate in MethodHandlers.gates { try await gate(method, services, context) }
            }
        }
        let object: JSONObject
        switch params {
        case nil, .null?: object = [:]
        case .object(let given)?: object = given
        default: throw RPCFailure.invalidParams("params", "params must be an object of named params")
        }
        for key in object.keys where !spec.params.contains(where: { $0.name == key }) {
            throw RPCFailure.invalidParams(key, "unknown param \(key)")
        }
        for param in spec.params where param.isRequired && (object[param.name] == nil || object[param.name] == .null) {
            throw RPCFailure.invalidParams(param.name, "\(param.name) is required")
        }
        if method == "rpc.discover" { return .encoded(context.session == nil ? Self.discovery.preLogin : Self.discovery.full) }
        switch handler {
        case .plain(let handler):
            do {
                // A batch waits on the database as long as the jobs do (a dunning run may wait for another to end).
                let current = context
                let result = try await PostgresCallTimeout.$override.withValue(services.settings.clientCallTimeout(system: current.isBatch)) {
                    try await handler(services, current, Params(object))
                }
                try await settleSessionCheck(&context)
                return .value(result)
            } catch let error as PostgresError where Self.isUnavailable(error) {
                // The database failed (down, frozen, a timeout): asking it about the session again would only spend
                // another call timeout (the chaos suite's frozen database measured 8 s instead of 4). The session
                // stays as it was; the request gets the database's answer (503).
                if let check = context.sessionCheck { try? apply(check, &context) }
                context.sessionCheck = nil
                throw error
            } catch {
                // The session's verdict comes first: a request whose session is gone is answered 401 whatever its
                // handler said (a handler that failed before its first transaction never had the check made).
                try await settleSessionCheck(&context)
                // A user disabled (or a session ended) while the call ran sees no rows from then
                // on (row-level security): whatever that made the handler answer, the truth is 401.
                // Only a refresh that answers "no such session" logs out: one that fails (the
                // database is down, which is likely why the handler failed) keeps the session.
                // (`try?` would flatten that failure into the same nil — the chaos suite caught it.)
                if spec.needsSession, let session = context.session, (error as? RPCFailure)?.code != .unauthenticated {
                    let refreshed: SessionInfo??
                    do { refreshed = .some(try await SessionStore.refresh(session, services: services)) } catch { refreshed = .none }
                    if case .some(.none) = refreshed {
                        context.session = nil
                        throw RPCFailure.unauthenticated
                    }
                }
                throw error
            }
        case .session(let handler):
            let (result, session) = try await handler(services, context, Params(object))
            // Another session (a login, a resume, a logout) does not inherit what the connection was subscribed to.
            if session?.sessionID != context.session?.sessionID { context.subscription = nil }
            context.session = session
            return .value(result)
        case .subscription(let handler):
            let (result, subscription) = try await handler(services, context, Params(object))
            context.subscription = subscription
            return .value(result)
        }
    }

    /// Applies a request's session check to the connection: the refreshed session, or none (401); a check the
    /// handler never made is made now, on its own lease. A check that could not be made (the database is down)
    /// keeps the session and lets the request's own error stand.
    private func settleSessionCheck(_ context: inout CallContext) async throws {
        guard let check = context.sessionCheck else { return }
        defer { context.sessionCheck = nil }
        if check.isPending {
            do { try await check.runAlone(services) } catch let error as RPCFailure { try apply(check, &context); throw error } catch {}
        }
        try apply(check, &context)
    }

    private func apply(_ check: SessionCheck, _ context: inout CallContext) throws {
        switch check.outcome {
        case .pending: break
        case .live(let refreshed): context.session = refreshed
        case .gone:
            context.session = nil
            throw RPCFailure.unauthenticated
        }
    }

    /// May this session call the method: the role from the catalog (403), then a pending password change (403
    /// `password_change_required`).
    static func authorize(_ session: SessionInfo, method: String, spec: MethodSpec) throws {
        guard spec.allows(session.role) else {
            throw RPCFailure.forbidden("role \(session.role.rawValue) may not call \(method)")
        }
        if session.mustChangePassword, !allowedBeforePasswordChange.contains(method) {
            throw RPCFailure.forbidden("choose a new password first (auth.change_password)", reason: "password_change_required")
        }
    }

    /// A duration in milliseconds, for the logs.
    static func milliseconds(_ elapsed: Duration) -> String {
        String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }

    /// Maps database errors: unreachable → 503 (retryable); anything else → -32603 without internals.
    static func failure(for error: PostgresError, logger: Logger, metadata: Logger.Metadata = [:]) -> RPCFailure {
        if isUnavailable(error) {
            logger.warning("database unavailable", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .unavailable
        }
        logger.error("database error", metadata: metadata.merging(["error": "\(error)", "constraint": "\(error.constraint ?? "")"]) { $1 })
        return .internalError
    }

    /// A database error that means "not now" (unreachable, closed, timed out, a transaction to retry): 503.
    static func isUnavailable(_ error: PostgresError) -> Bool {
        error.isConnectionError || error.code == .poolClosed || error.isRetryableTransactionFailure || error.isServerTimeout
    }

    /// An error response object.
    public static func errorResponse(id: JSONValue, _ failure: RPCFailure) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "error": failure.errorObject]
    }
}

/// The wiring: every handler by method name (`Dispatcher.init` checks this equals the catalog),
/// and the gates every call passes. The Dispatcher names no method family; this does.
enum MethodHandlers {
    static let all: [String: Handler] = plain.mapValues(Handler.plain)
        .merging(AuthMethods.sessionHandlers.mapValues(Handler.session)) { $1 }
        .merging(EventMethods.handlers.mapValues(Handler.subscription)) { $1 }

    static let gates: [MethodGate] = [TrainingMethods.checkGate]

    static let plain: [String: MethodHandler] = ServerMethods.handlers
        .merging(AuthMethods.handlers) { $1 }
        .merging(UserMethods.handlers) { $1 }
        .merging(AuditMethods.handlers) { $1 }
        .merging(CustomerMethods.handlers) { $1 }
        .merging(CreditMethods.handlers) { $1 }
        .merging(HoldMethods.handlers) { $1 }
        .merging(ReviewMethods.handlers) { $1 }
        .merging(InvoiceMethods.handlers) { $1 }
        .merging(PaymentMethods.handlers) { $1 }
        .merging(ReportMethods.handlers) { $1 }
        .merging(WriteoffMethods.handlers) { $1 }
        .merging(StatementMethods.handlers) { $1 }
        .merging(ImportMethods.handlers) { $1 }
        .merging(InteractionMethods.handlers) { $1 }
        .merging(DisputeMethods.handlers) { $1 }
        .merging(DunningMethods.handlers) { $1 }
        .merging(LetterMethods.handlers) { $1 }
        .merging(PlanMethods.handlers) { $1 }
        .merging(AgencyMethods.handlers) { $1 }
        .merging(AssignmentMethods.handlers) { $1 }
        .merging(KPIMethods.handlers) { $1 }
        .merging(TrainingMethods.handlers) { $1 }
        .merging(OutboxMethods.handlers) { $1 }
        .merging(BankMethods.handlers) { $1 }
        .merging(ChequeMethods.handlers) { $1 }
        .merging(TaskMethods.handlers) { $1 }
        .merging(WorklistMethods.handlers) { $1 }
}
