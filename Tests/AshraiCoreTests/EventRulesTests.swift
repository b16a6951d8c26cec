import AshraiCore
import Testing

@Suite("live events: the cursor and the topics")
struct EventRulesTests {
    @Test("a cursor is \"<transaction>:<id>\" in plain digits and reads back as it was written; anything else is refused")
    func cursorText() {
        let cursor = EventCursor(transaction: 19547, id: 88)
        #expect(cursor.description == "19547:88")
        #expect(EventCursor(cursor.description) == cursor)
        #expect(EventCursor("0:0") == EventCursor(transaction: 0, id: 0))
        #expect(EventCursor("18446744073709551615:9223372036854775807") == EventCursor(transaction: .max, id: .max))
        for bad in ["", ":", "12", "1:", ":2", "1:2:3", "-1:2", "1:-2", "+1:2", "a:b", "1.0:2", " 1:2", "1:2 ",
                    "18446744073709551616:1", "1:9223372036854775808", "000000000000000000001:1", "1:00000000000000000001", "١:٢"] {
            #expect(EventCursor(bad) == nil, "\(bad)")
        }
    }

    @Test("cursors order by transaction, then id — the order events are told in")
    func cursorOrder() {
        #expect(EventCursor(transaction: 5, id: 900) < EventCursor(transaction: 6, id: 1))
        #expect(EventCursor(transaction: 6, id: 1) < EventCursor(transaction: 6, id: 2))
        #expect(EventCursor(transaction: 6, id: 0) < EventCursor(transaction: 6, id: 1))
        #expect(!(EventCursor(transaction: 6, id: 2) < EventCursor(transaction: 6, id: 2)))
    }

    @Test("each topic's notification is events.<topic with _>, every name distinct")
    func notificationMethods() {
        #expect(EventTopic.paymentRecorded.notificationMethod == "events.payment_recorded")
        #expect(EventTopic.assignmentChanged.notificationMethod == "events.assignment_changed")
        #expect(Set(EventTopic.allCases.map(\.notificationMethod)).count == EventTopic.allCases.count)
        #expect(EventTopic.allCases.allSatisfy { $0.notificationMethod.hasPrefix("events.") && !$0.notificationMethod.dropFirst(7).contains(".") })
    }
}
