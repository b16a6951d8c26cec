import AshraiProtocol
import Testing

@Suite("replies against their documented schemas")
struct SchemaCheckTests {
    @Test("a conforming value passes; a wrong type, a missing required member, a bad date, money or enum value are each named with its path")
    func problems() {
        let schema = Schema.object([
            "id": Schema.id, "amount": Schema.money, "due_date": Schema.date, "status": Schema.oneOf([Plain(rawValue: "open"), Plain(rawValue: "paid")]),
            "note": Schema.nullable(Schema.string), "lines": Schema.array(Schema.object(["at": Schema.instant], required: ["at"])),
        ], required: ["id", "amount", "due_date", "status"])
        let good: JSONValue = ["id": 7, "amount": "12.50", "due_date": "2026-02-28", "status": "open", "note": .null,
                               "lines": [["at": "2026-02-28T10:00:00Z"]]]
        #expect(SchemaCheck.problems(good, against: schema).isEmpty)
        let bad: JSONValue = ["id": "7", "amount": "12,50", "due_date": "2026-02-30", "status": "lost", "note": 3,
                              "lines": [["at": "yesterday"]]]
        let found = SchemaCheck.problems(bad, against: schema)
        for path in ["$.id", "$.amount", "$.due_date", "$.status", "$.note", "$.lines[0].at"] {
            #expect(found.contains { $0.hasPrefix(path + ":") }, "\(path) in \(found)")
        }
        #expect(SchemaCheck.problems(["id": 1], against: schema).contains("$: missing amount"))
    }

    struct Plain: RawRepresentable { var rawValue: String }
}
