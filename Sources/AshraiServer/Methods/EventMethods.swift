import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `events.subscribe`, `events.unsubscribe`: what a connection hears. Delivery is the server's (`RPCServer`, `EventHub`,
/// `EventFeed`); these only decide the subscription.
enum EventMethods {
    static let handlers: [String: SubscriptionHandler] = ["events.subscribe": subscribe, "events.unsubscribe": unsubscribe]

    static func subscribe(services: Services, context: CallContext, params: Params) async throws -> (result: JSONValue, subscription: EventSubscription?) {
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let heard = MethodCatalog.eventTopics(heardBy: session.role)
        let asked = try params.optionalChoices("topics", EventTopic.self) ?? heard
        for topic in asked where !heard.contains(topic) {
            throw RPCFailure.forbidden("role \(session.role.rawValue) does not hear \(topic.rawValue)")
        }
        var since: EventCursor?
        if let text = try params.optionalString("since", maxLength: 40) {
            guard let cursor = EventCursor(text) else {
                throw RPCFailure.invalidParams("since", "since must be a cursor as events carry it: \"<transaction>:<id>\"")
            }
            since = cursor
        }
        let cursor: EventCursor
        var skipping: Set<Int64> = []
        var missed = false
        if let since {
            cursor = since
            missed = try await EventFeed.missed(after: since, services, context: context)
        } else {
            (cursor, skipping) = try await EventFeed.start(services, context: context)
        }
        let subscription = EventSubscription(topics: asked, cursor: cursor, generation: (context.subscription?.generation ?? 0) + 1,
                                             skipping: skipping)
        let result: JSONValue = ["topics": .array(asked.map { .string($0.rawValue) }), "cursor": .string(cursor.description), "missed": .bool(missed)]
        return (result, subscription)
    }

    static func unsubscribe(services: Services, context: CallContext, params: Params) async throws -> (result: JSONValue, subscription: EventSubscription?) {
        (["subscribed": .bool(false)], nil)
    }
}
