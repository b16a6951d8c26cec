import AshraiClient
import AshraiCore
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai watch`: what happens, as it happens.
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print events live: payments, invoices, holds, letters, failed messages, broken promises, assignments, disputes.",
        discussion: """
            One line per event: when, what, the customer, the details, and who did it. With --json, one JSON object per \
            line, each with its cursor. A lost connection is opened again and resumed from the last event printed, so \
            nothing is missed; --since CURSOR resumes from an earlier watch.
            """)

    @OptionGroup var options: ClientOptions
    @Option(help: "Topics, comma-separated (default: all your role hears): \(EventTopic.allCases.map(\.rawValue).joined(separator: ", ")).")
    var topics: String?
    @Option(help: "Start after this cursor (an event's, from --json), to get what came since.") var since: String?
    @Option(help: "Stop after this many events.") var count: Int?
    @Flag(help: "Stop when the connection is lost instead of reconnecting.") var noReconnect = false

    /// The connection closed under the watch.
    struct Lost: Error {}

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let since, EventCursor(since) == nil { throw ValidationError("--since must be a cursor as events carry it: <transaction>:<id>") }
        for topic in topicList ?? [] where EventTopic(rawValue: topic) == nil {
            throw ValidationError("unknown topic \(topic); topics: \(EventTopic.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    var topicList: [String]? {
        topics.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    func run() async throws {
        var cursor = since
        var printed = 0
        while true {
            do {
                try await options.run { connection in
                    var params: JSONObject = [:]
                    if let topicList { params["topics"] = .array(topicList.map(JSONValue.string)) }
                    if let cursor { params["since"] = .string(cursor) }
                    let subscribed = try await connection.call("events.subscribe", params)
                    if cursor == nil { cursor = subscribed["cursor"]?.stringValue }
                    let heard = (subscribed["topics"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
                    Self.note("watching \(heard) (cursor \(cursor ?? "?"))")
                    if subscribed["missed"] == true { Self.note("events after \(cursor ?? "?") were already pruned (kept 30 days): some are missing") }
                    while let (method, event) = try await connection.notification() {
                        if method == "events.ended" {
                            throw RPCFailure(.unauthenticated, "the session ended (\(event["reason"]?.stringValue ?? "?"))")
                        }
                        guard method.hasPrefix("events.") else { continue }
                        // Written at once, not buffered: a watch piped into another program is live too.
                        FileHandle.standardOutput.write(Data(((options.json ? event.encoded() : Self.line(event)) + "\n").utf8))
                        cursor = event["cursor"]?.stringValue ?? cursor
                        printed += 1
                        if let count, printed >= count { return }
                    }
                    throw Lost()
                }
                return
            } catch let error where !noReconnect && (error is Lost || (error as? ExitCode) == ExitCode(3) || (error as? ExitCode) == ExitCode(10)) {
                Self.note("connection lost; reconnecting in 2 s and resuming after \(cursor ?? "the start")")
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data("ashrai: \(text)\n".utf8))
    }

    /// An instant on this machine's clock (TZ), to the second.
    static func localTime(_ text: String) -> String {
        guard let date = RFC3339.parse(text) else { return text }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    /// One event as a line: when (local time), topic, customer, what, who.
    static func line(_ event: JSONValue) -> String {
        let data = event["data"] ?? .null
        func v(_ key: String) -> String { data[key]?.cell ?? "-" }
        let what: String
        switch EventTopic(rawValue: event["topic"]?.stringValue ?? "") {
        case .paymentRecorded?: what = "\(v("amount")) \(v("currency")) by \(v("method"))" + (data["reference"]?.stringValue.map { " ref \($0)" } ?? "")
        case .invoiceCreated?: what = "invoice \(v("number")) for \(v("amount")) \(v("currency")), due \(v("due_date"))"
        case .holdPlaced?: what = "on hold: \(v("reason"))"
        case .holdLifted?: what = "hold lifted: \(v("reason"))"
        case .letterCreated?:
            what = data["level"]?.isNull == false ? "letter #\(v("letter_id")) level \(v("level")) (\(v("action"))), \(v("total")) to pay by \(v("last_date_to_pay"))"
                : "letter #\(v("letter_id")) (\(v("kind")))"
        case .messageFailed?: what = "\(v("channel")) message #\(v("message_id")) failed: \(v("error"))"
        case .promiseBroken?: what = "promised \(v("amount")) by \(v("due_on")), not paid"
        case .assignmentChanged?:
            what = "assignment #\(v("assignment_id")) to agency #\(v("agency_id")): " + (data["previous_status"]?.isNull == false ? "\(v("previous_status")) → " : "") + v("status")
        case .disputeOpened?: what = "dispute on invoice #\(v("invoice_id")): \(v("reason"))" + (data["amount"]?.isNull == false ? " (\(v("amount")))" : "")
        case nil: what = data.encoded()
        }
        let customer = event["customer"] ?? .null
        let at = localTime(event["at"]?.stringValue ?? "")
        let who = event["by"]?.stringValue.map { "  — \($0)" } ?? ""
        return "\(at)  \(event["topic"]?.stringValue ?? "?")  \(customer["name"]?.cell ?? "?") (#\(customer["id"]?.cell ?? "?"))  \(what)\(who)"
    }
}
