import AshraiCore

extension Schema {
    /// Where a watcher is in the stream of events (`EventCursor`): `"<transaction>:<event id>"`.
    public static let eventCursor: JSONValue = ["type": "string", "pattern": "^[0-9]{1,20}:[0-9]{1,19}$", "maxLength": 40]

    /// The params of every event notification (`events.payment_recorded`, …).
    public static let event = object([
        "topic": oneOf(EventTopic.self), "id": id, "cursor": eventCursor, "at": instant,
        "customer": object(["id": id, "name": nullable(string), "code": nullable(string)], required: ["id"]),
        "by": nullable(string), "data": ["type": "object"],
    ], required: ["topic", "id", "cursor", "at", "customer", "by", "data"])
}

extension MethodCatalog {
    /// The topics a role hears: those whose `readMethod` the role matrix lets it call.
    public static func eventTopics(heardBy role: Role) -> [EventTopic] {
        EventTopic.allCases.filter { spec(named: $0.readMethod)?.allows(role) == true }
    }

    static let eventMethods: [MethodSpec] = [
        MethodSpec(name: "events.subscribe",
                   summary: "Hear what happens as it happens, on this connection: after the reply, each event comes as a notification (no id) `events.<topic with _>` — `events.payment_recorded` for payment.recorded — whose params are an event: topic, id, cursor, at, customer, by (the username, null for the daemon) and data. Topics: payment.recorded, invoice.created, hold.placed, hold.lifted, letter.created, message.failed, promise.broken, assignment.changed, dispute.opened; default all the role hears (a role hears a topic when it may read what it is about; an agency only its own assignments). `since` (the cursor of the last event handled) first sends what came after it, so a client that reconnects misses nothing; `missed` is true when events after it were already pruned (kept 30 days). Subscribing again replaces the subscription; logging out ends it.",
                   access: everyone,
                   params: [.optional("topics", ["type": "array", "items": Schema.oneOf(EventTopic.self), "minItems": 1, "maxItems": 9]),
                            .optional("since", Schema.eventCursor)],
                   result: Schema.object(["topics": Schema.array(Schema.oneOf(EventTopic.self)), "cursor": Schema.eventCursor,
                                          "missed": Schema.bool],
                                         required: ["topics", "cursor", "missed"])),
        MethodSpec(name: "events.unsubscribe", summary: "Stop hearing events on this connection.", access: everyone,
                   params: [], result: Schema.object(["subscribed": Schema.bool], required: ["subscribed"])),
    ]
}
