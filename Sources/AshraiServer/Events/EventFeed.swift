import AshraiCore
import AshraiProtocol
import Foundation
import Logging
import Postgres

/// A connection's subscription (`events.subscribe`): what it hears and from where. A new one replaces the old.
public struct EventSubscription: Sendable, Equatable {
    /// The topics asked for (narrowed at every read to what the session's role hears then).
    public var topics: [EventTopic]
    /// Where delivery starts: after this event.
    public var cursor: EventCursor
    /// Tells one subscription from the next on the same connection.
    public var generation: Int
    /// Events that had committed when the subscription began, though past its cursor (their transaction began after
    /// an older one that was still running): not told, since they happened before it.
    var skipping: Set<Int64> = []
}

/// Reads the events a subscriber has not heard yet, as that subscriber: in the request's way (`Services.read` with the
/// session checked in the same round trip), so row-level security filters them, and a session that ended or a user
/// who was disabled stops hearing at once.
enum EventFeed {
    /// Events per read; a subscriber further behind reads again at once.
    static let batch = 200
    /// The least time between two reads of one subscriber (`RPCServer.deliver`).
    static let minimumInterval = Duration.milliseconds(50)
    /// How long events are kept (MaintenanceService prunes older ones).
    static let keepDays = 30

    /// One event, as read for a subscriber.
    struct Event: Sendable {
        var cursor: EventCursor
        var topic: String
        var at: Date
        var customerID: Int64
        var customerName: String?
        var customerCode: String?
        var by: String?
        var data: JSONValue

        init(_ row: PostgresRow) throws {
            guard let transaction = UInt64(try row.decode(String.self, column: "xid")) else { throw RPCFailure.internalError }
            cursor = EventCursor(transaction: transaction, id: try row.decode(Int64.self, column: "id"))
            topic = try row.decode(String.self, column: "topic")
            at = try row.decode(Date.self, column: "at")
            customerID = try row.decode(Int64.self, column: "customer_id")
            customerName = try row.decode(String?.self, column: "customer_name")
            customerCode = try row.decode(String?.self, column: "customer_code")
            by = try row.decode(String?.self, column: "by")
            data = try row.decode(JSONValue.self, column: "data")
        }
    }

    /// What one read found: the events after the cursor, oldest first, and where the next read starts.
    struct Page: Sendable {
        /// Their notifications.
        var events: [JSONValue]
        var next: EventCursor
        /// Whether more may be waiting (the page was full).
        var full: Bool
        /// Whether events have committed that the horizon still holds back: a transaction that began before them
        /// is running (in any database of the cluster — transaction ids are the cluster's), and its end sends no
        /// notification, so the subscriber reads again shortly.
        var heldBack: Bool
    }

    /// Where a new subscription starts: after every transaction that has ended — and the events past that which
    /// had already committed (a transaction older than theirs was still running), to be skipped.
    static func start(_ services: Services, context: CallContext) async throws -> (cursor: EventCursor, skipping: Set<Int64>) {
        let row = try await services.read(context, query: """
            WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
            SELECT h.horizon::text AS horizon,
                   (SELECT string_agg(e.id::text, ',') FROM (SELECT id FROM events WHERE xid >= h.horizon LIMIT \(maxSkipped)) e) AS committed
            FROM h
            """).one()
        guard let transaction = UInt64(try row.decode(String.self, column: "horizon")) else { throw RPCFailure.internalError }
        let committed = (try row.decode(String?.self, column: "committed") ?? "").split(separator: ",").compactMap { Int64($0) }
        return (EventCursor(transaction: transaction, id: 0), Set(committed))
    }

    /// At most this many already-committed events are skipped at the start (more — a large import while a long
    /// transaction ran — and the rest are told, never lost).
    static let maxSkipped = 10_000

    /// Whether events after `cursor` were pruned.
    static func missed(after cursor: EventCursor, _ services: Services, context: CallContext) async throws -> Bool {
        try await services.read(context, query: """
            SELECT EXISTS (SELECT 1 FROM events_pruned WHERE (through_xid, through_id) > (\(String(cursor.transaction))::xid8, \(cursor.id)))
            """).scalar(Bool.self)
    }

    /// The next page for a subscriber whose session is `context` (checked in the same round trip; a session gone
    /// throws 401). Topics the session's role no longer hears are left out.
    static func read(after cursor: EventCursor, topics: [EventTopic], skipping: Set<Int64> = [], _ services: Services,
                     context: CallContext) async throws -> (Page, SessionInfo?) {
        var checked = context
        var check: SessionCheck?
        if let session = context.session, let spec = MethodCatalog.spec(named: "events.subscribe") {
            check = SessionCheck(session: session, method: "events.subscribe", spec: spec)
            checked.sessionCheck = check
        }
        let rows = try await services.read(checked, query: """
            WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
            SELECT h.horizon::text AS horizon,
                   EXISTS (SELECT 1 FROM events w WHERE w.xid >= h.horizon
                           AND w.topic = ANY (\(PostgresArray(topics.map(\.rawValue)))::text[])) AS held_back,
                   e.id, e.xid::text AS xid, e.topic, e.at, e.customer_id, c.name AS customer_name,
                   c.code AS customer_code, u.username AS by, e.data
            FROM h LEFT JOIN LATERAL (
                SELECT * FROM events e
                WHERE (e.xid, e.id) > (\(String(cursor.transaction))::xid8, \(cursor.id)) AND e.xid < h.horizon
                  AND e.topic = ANY (\(PostgresArray(topics.map(\.rawValue)))::text[])
                ORDER BY e.xid, e.id LIMIT \(batch)
            ) e ON true
            LEFT JOIN customers c ON c.id = e.customer_id
            LEFT JOIN users u ON u.id = e.user_id
            ORDER BY e.xid, e.id
            """)
        var refreshed: SessionInfo?
        if case .live(let session)? = check?.outcome { refreshed = session }
        let role = (refreshed ?? context.session)?.role
        let heard = Set(role.map { MethodCatalog.eventTopics(heardBy: $0) } ?? [])
        var events: [JSONValue] = []
        var last = cursor
        var horizon = cursor
        var heldBack = false
        for row in rows {
            if (try? row.decode(Bool.self, column: "held_back")) == true { heldBack = true }
            if let text = try? row.decode(String.self, column: "horizon"), let value = UInt64(text) {
                horizon = max(horizon, EventCursor(transaction: value, id: 0))
            }
            guard (try? row.decode(Int64?.self, column: "id")) != nil else { continue }
            // One row that does not decode is skipped (and logged), never the feed: its cursor still moves on.
            let event: Event
            do { event = try Event(row) } catch {
                context.logger.warning("an event row did not decode; skipped", metadata: ["event.id": "\((try? row.decode(Int64.self, column: "id")) ?? 0)"])
                if let text = try? row.decode(String.self, column: "xid"), let transaction = UInt64(text), let id = try? row.decode(Int64.self, column: "id") {
                    last = max(last, EventCursor(transaction: transaction, id: id))
                }
                continue
            }
            last = max(last, event.cursor)
            guard let topic = EventTopic(rawValue: event.topic), heard.contains(topic), !skipping.contains(event.cursor.id) else { continue }
            events.append(notification(event, topic: topic))
        }
        let full = rows.count >= batch
        return (Page(events: events, next: full ? last : max(last, horizon), full: full, heldBack: heldBack), refreshed)
    }

    /// The JSON-RPC notification that carries an event.
    static func notification(_ event: Event, topic: EventTopic) -> JSONValue {
        var customer: JSONObject = ["id": .id(event.customerID)]
        customer["name"] = event.customerName.map(JSONValue.string) ?? .null
        customer["code"] = event.customerCode.map(JSONValue.string) ?? .null
        let params: JSONObject = [
            "topic": .string(topic.rawValue), "id": .id(event.cursor.id), "cursor": .string(event.cursor.description),
            "at": .string(rfc3339(event.at)), "customer": .object(customer),
            "by": event.by.map(JSONValue.string) ?? .null, "data": event.data,
        ]
        return ["jsonrpc": "2.0", "method": .string(topic.notificationMethod), "params": .object(params)]
    }

    /// Deletes events older than `keepDays` and notes the newest deleted, so a cursor before it is told it `missed`
    /// some. As the daemon; safe on several daemons at once.
    @discardableResult
    static func prune(services: Services, now: Date? = nil) async throws -> Int {
        let cutoff = (now ?? services.now()).addingTimeInterval(-Double(keepDays) * 86_400)
        let daemon = CallContext(connectionID: 0, clientAddress: nil, logger: Logger(label: "ashraid.maintenance")).asDaemon
        return try await services.transaction(daemon) { tx in
            try await tx.query("""
                WITH gone AS (DELETE FROM events WHERE at < \(cutoff) RETURNING xid, id),
                last AS (SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1),
                noted AS (
                    INSERT INTO events_pruned (through_xid, through_id) SELECT xid, id FROM last
                    ON CONFLICT (one) DO UPDATE SET through_xid = EXCLUDED.through_xid, through_id = EXCLUDED.through_id
                    WHERE (events_pruned.through_xid, events_pruned.through_id) < (EXCLUDED.through_xid, EXCLUDED.through_id)
                )
                SELECT count(*) FROM gone
                """).scalar(Int.self)
        }
    }
}
