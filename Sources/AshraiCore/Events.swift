/// What a watcher can hear about (`events.subscribe`), as `events.topic` stores it. Each event is written by a trigger
/// in the transaction of the change (`SQL/0024_events.sql`).
public enum EventTopic: String, Sendable, CaseIterable, Codable {
    case paymentRecorded = "payment.recorded"
    case invoiceCreated = "invoice.created"
    case holdPlaced = "hold.placed"
    case holdLifted = "hold.lifted"
    case letterCreated = "letter.created"
    case messageFailed = "message.failed"
    case promiseBroken = "promise.broken"
    case assignmentChanged = "assignment.changed"
    case disputeOpened = "dispute.opened"

    /// The method that reads what the event is about: a role hears a topic when the role matrix lets it call this
    /// (so an agency hears about assignments, invoices and letters, and row-level security narrows those to its own).
    public var readMethod: String {
        switch self {
        case .paymentRecorded: "payments.get"
        case .invoiceCreated: "invoices.get"
        case .holdPlaced, .holdLifted: "holds.list"
        case .letterCreated: "letters.list"
        case .messageFailed: "outbox.list"
        case .promiseBroken: "promises.list"
        case .assignmentChanged: "assignments.list"
        case .disputeOpened: "disputes.list"
        }
    }

    /// The JSON-RPC method of the notification that carries it: `events.payment_recorded` for `payment.recorded`.
    public var notificationMethod: String { "events." + String(rawValue.map { $0 == "." ? "_" : $0 }) }
}

/// Where a watcher is in the stream of events: after the event `(transaction, id)`. Events are taken in that order,
/// and only from transactions that have all ended (`SQL/0024_events.sql`), so a client that resumes from the
/// cursor of the last event it handled misses nothing and hears nothing twice. On the wire `"<transaction>:<id>"`.
public struct EventCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The writing transaction's id (`xid8`).
    public var transaction: UInt64
    /// The event's id.
    public var id: Int64

    public init(transaction: UInt64, id: Int64) {
        self.transaction = transaction
        self.id = id
    }

    /// Parses `"<transaction>:<id>"`; nil for anything else (both parts plain decimal numbers that fit: a transaction of at most 20 digits, an id of at most 19).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 20, parts[1].count <= 19,
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let transaction = UInt64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(transaction: transaction, id: id)
    }

    public var description: String { "\(transaction):\(id)" }

    public static func < (a: EventCursor, b: EventCursor) -> Bool { (a.transaction, a.id) < (b.transaction, b.id) }
}
