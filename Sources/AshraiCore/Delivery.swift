import Foundation

/// A message's state in the outbox, as `messages.state` stores it.
public enum MessageState: String, Sendable, CaseIterable, Codable {
    case queued, sending, sent, retrying, failed, cancelled
    /// Found in `sending` after a crash: it may have gone out. Never resent without a person.
    case unknown

    /// Waiting for a worker.
    public static let due: [MessageState] = [.queued, .retrying]
    /// A person may send it again (with the same Message-ID).
    public static let retryable: [MessageState] = [.failed, .unknown, .cancelled, .retrying]
    /// A person may cancel it.
    public static let cancellable: [MessageState] = [.queued, .retrying, .unknown, .failed]
}

/// How a message travels, as `messages.channel` stores it.
public enum MessageChannel: String, Sendable, CaseIterable, Codable {
    case email, sms, whatsapp, post
}

/// Which channels a letter goes by, and where it goes when one cannot carry it. A level names its
/// channels (all of them carry the letter); a channel the customer cannot be reached on (no
/// address, a refused one, no gateway configured) or one that fails for good gives way to the next
/// in the chain — the level's channels, then post, since paper always reaches a customer — that
/// does not already carry the letter.
public enum ChannelPlan {
    public struct Step: Sendable, Equatable {
        public var channel: MessageChannel
        /// Where this message falls back to if it fails for good, in order.
        public var fallback: [MessageChannel]

        public init(channel: MessageChannel, fallback: [MessageChannel]) {
            self.channel = channel
            self.fallback = fallback
        }
    }

    /// The level's channels, then post; each once.
    public static func chain(_ channels: [MessageChannel]) -> [MessageChannel] {
        var seen = Set<MessageChannel>()
        return (channels + [.post]).filter { seen.insert($0).inserted }
    }

    /// The messages a new letter is queued as.
    public static func initial(_ channels: [MessageChannel], usable: Set<MessageChannel>) -> [Step] {
        let chain = chain(channels)
        var steps: [Step] = []
        for wanted in channels {
            let start = chain.firstIndex(of: wanted) ?? 0
            guard let index = chain[start...].firstIndex(where: { channel in
                (usable.contains(channel) || channel == .post) && !steps.contains { $0.channel == channel }
            }) else { continue }
            steps.append(Step(channel: chain[index], fallback: Array(chain[(index + 1)...])))
        }
        return steps
    }

    /// After a message failed for good: the next channel of its fallback the customer can be
    /// reached on and that does not carry the letter already, or nil.
    public static func next(fallback: [MessageChannel], usable: Set<MessageChannel>, used: Set<MessageChannel>) -> Step? {
        guard let index = fallback.firstIndex(where: { ($0 == .post || usable.contains($0)) && !used.contains($0) }) else { return nil }
        return Step(channel: fallback[index], fallback: Array(fallback[(index + 1)...]))
    }
}

/// When the business sends: local opening and closing minute, the weekdays it works, and its days
/// off. Israel's default is 08:00–19:00, Sunday to Thursday. Day numbers are days since 1970-01-01
/// (a Thursday) in the business's time zone.
public struct DeliveryHours: Sendable, Equatable {
    /// 0 = Sunday … 6 = Saturday.
    public var weekdays: Set<Int>
    public var openMinute: Int
    public var closeMinute: Int
    public var daysOff: Set<Int>

    public init(weekdays: Set<Int> = [0, 1, 2, 3, 4], openMinute: Int = 8 * 60, closeMinute: Int = 19 * 60, daysOff: Set<Int> = []) {
        self.weekdays = weekdays
        self.openMinute = openMinute
        self.closeMinute = closeMinute
        self.daysOff = daysOff
    }

    /// The weekday of a day number (0 = Sunday).
    public static func weekday(of day: Int) -> Int { ((day % 7) + 7 + 4) % 7 }

    /// Whether a message may go out at `minuteOfDay` on `day` (both local).
    public func isOpen(day: Int, minuteOfDay: Int) -> Bool {
        weekdays.contains(Self.weekday(of: day)) && !daysOff.contains(day) && minuteOfDay >= openMinute && minuteOfDay < closeMinute
    }

    /// Minutes from (`day`, `minuteOfDay`) until the next opening (0 when open now); nil when the
    /// hours never open (no weekday, or an empty window).
    public func minutesUntilOpen(day: Int, minuteOfDay: Int) -> Int? {
        guard !weekdays.isEmpty, openMinute < closeMinute else { return nil }
        if isOpen(day: day, minuteOfDay: minuteOfDay) { return 0 }
        for ahead in 0..<400 {
            let candidate = day + ahead
            guard weekdays.contains(Self.weekday(of: candidate)), !daysOff.contains(candidate) else { continue }
            if ahead == 0 {
                if minuteOfDay < openMinute { return openMinute - minuteOfDay }
                continue
            }
            return ahead * 1440 - minuteOfDay + openMinute
        }
        return nil
    }

    /// Parses `"08:00-19:00"`.
    public static func window(_ text: String) -> (open: Int, close: Int)? {
        let parts = text.split(separator: "-")
        func minute(_ part: Substring) -> Int? {
            let hm = part.trimmingCharacters(in: .whitespaces).split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440 else { return nil }
            return h * 60 + m
        }
        guard parts.count == 2, let open = minute(parts[0]), let close = minute(parts[1]), open < close else { return nil }
        return (open, close)
    }

    /// Parses weekday names (`sun,mon,…`, English three-letter).
    public static func weekdays(_ text: String) -> Set<Int>? {
        let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        var days = Set<Int>()
        for part in text.lowercased().split(separator: ",") {
            guard let index = names.firstIndex(of: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            days.insert(index)
        }
        return days.isEmpty ? nil : days
    }
}

/// What a failed hand-off means, and when to try again.
public enum DeliveryOutcome: Sendable, Equatable {
    case sent(providerID: String?)
    /// Try again later (4xx, the server unreachable, a timeout).
    case temporary(String)
    /// Never going to work (5xx; at RCPT, the address is bad).
    case permanent(String, badAddress: Bool)

    /// An HTTP gateway's reply: 2xx sent; 408, 425, 429 and 5xx temporary (busy, or down); any
    /// other 4xx permanent (the gateway refused the request); no reply temporary.
    public static func http(status: Int?, error: String?, providerID: String?) -> DeliveryOutcome {
        guard let status else { return .temporary(error ?? "no reply from the gateway") }
        let detail = "HTTP \(status)\(error.map { " \($0)" } ?? "")"
        switch status {
        case 200..<300: return .sent(providerID: providerID)
        case 408, 425, 429, 500...: return .temporary(detail)
        // A refused number (400, 404, 410, 422); 401 and 403 are the business's credentials, not the customer's number.
        default: return .permanent(detail, badAddress: [400, 404, 410, 422].contains(status))
        }
    }

    /// An SMTP reply code's meaning: 2xx sent, 4xx temporary, 5xx permanent; no code (the
    /// connection failed) is temporary.
    public static func smtp(code: Int?, error: String?, atRecipient: Bool) -> DeliveryOutcome {
        guard let code, code > 0 else { return .temporary(error ?? "no reply from the mail server") }
        switch code {
        case 200..<400: return error == nil ? .sent(providerID: nil) : .temporary(error!)
        case 400..<500: return .temporary("\(code) \(error ?? "")".trimmingCharacters(in: .whitespaces))
        default: return .permanent("\(code) \(error ?? "")".trimmingCharacters(in: .whitespaces), badAddress: atRecipient)
        }
    }
}

/// When a temporary failure is tried again: 1, 5, 15, 60 minutes, then every 4 hours, up to
/// `maxAttempts` in all (then the message fails).
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int

    public init(maxAttempts: Int = 8) { self.maxAttempts = maxAttempts }

    /// Seconds before the next try after `attempts` attempts, or nil when none is left.
    public func delay(afterAttempts attempts: Int) -> Int? {
        guard attempts < maxAttempts else { return nil }
        let steps = [60, 300, 900, 3600]
        return attempts - 1 < steps.count ? steps[max(0, attempts - 1)] : 4 * 3600
    }
}

/// Whether a letter still stands just before it is sent: a letter about invoices that were paid,
/// disputed, put in a plan or promised since, or to a closed customer, must not go out.
public enum LetterStanding {
    public static func reasonNotToSend(invoicesStillOwing: Bool, openDispute: Bool, activePlan: Bool, chequeInHand: Bool = false,
                                       openPromise: Bool, customerClosed: Bool) -> String? {
        if customerClosed { return "the customer's account is closed" }
        if !invoicesStillOwing { return "the invoices it names are no longer open" }
        if openDispute { return "an invoice it names is disputed" }
        if activePlan { return "an invoice it names is in an active installment plan" }
        if chequeInHand { return "a post-dated cheque for an invoice it names is in hand" }
        if openPromise { return "the customer promised to pay" }
        return nil
    }
}
