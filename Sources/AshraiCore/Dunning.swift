import Foundation

/// The dunning policy and the rule that moves an overdue invoice from level to level.
public enum Dunning {
    public enum Action: String, Sendable, CaseIterable {
        case call, reminder, letter, final_notice, hold, refer_to_agency

        /// Reminders, letters and final notices speak to the customer in writing; holds and referrals
        /// are sanctions, taken only after the customer was told in writing and the last date to
        /// pay that the letter stated has passed.
        public var isCommunication: Bool { self == .reminder || self == .letter || self == .final_notice }
        /// A call: a personal, polite contact before the letters. The run makes a `call` task for the
        /// customer's owner and writes no letter.
        public var speaksToCustomer: Bool { isCommunication || self == .call }
        public var isSanction: Bool { self == .hold || self == .refer_to_agency }
        /// The levels that write a letter: the written ones and the hold (its notice). A call makes a
        /// task; a referral is a suggestion to a manager.
        public var writesLetter: Bool { isCommunication || self == .hold }
    }

    public struct Level: Sendable, Equatable {
        public var level: Int
        public var daysOverdue: Int
        public var action: Action
        public var template: String
        public var fee: Decimal
        /// Days the customer is given to pay, counted from the letter's day.
        public var payWithinDays: Int
        /// The channels the letter goes by, all of them (`["email", "post"]` for a final notice on
        /// paper too); one the customer cannot be reached on falls back along `ChannelPlan.chain`.
        public var channels: [MessageChannel]
        /// A written level that waits until a call to the customer was attempted (a `call`
        /// interaction logged since the invoice fell due, or its call task done).
        public var requiresCall: Bool

        public init(level: Int, daysOverdue: Int, action: Action, template: String, fee: Decimal = 0, payWithinDays: Int = 10,
                    channels: [MessageChannel] = [.email], requiresCall: Bool = false) {
            self.level = level
            self.daysOverdue = daysOverdue
            self.action = action
            self.template = template
            self.fee = fee
            self.payWithinDays = payWithinDays
            self.channels = channels
            self.requiresCall = requiresCall
        }

        /// A courtesy reminder: negative days ("due in 3 days"), before the due date, only to the
        /// customers who asked for one. It is a reminder without a fee and without consequences,
        /// and it is not the notice a sanction waits for.
        public var isCourtesy: Bool { daysOverdue < 0 }

        /// A letter about arrears: a communication level that is not a courtesy reminder.
        public var isNotice: Bool { action.isCommunication && !isCourtesy }
    }

    /// How far ahead of the due date a courtesy reminder may go.
    public static let courtesyDays = 1...30

    public struct PolicyError: Error, Equatable, Sendable {
        public var field: String
        public var message: String
    }

    /// Checks a policy: levels numbered 1, 2, … in order, days strictly increasing, a
    /// template name made of letters, digits, `_` and `-`, fees ≥ 0, and no sanction as the
    /// first level (the customer is always told first).
    public static func validate(_ levels: [Level]) throws(PolicyError) {
        guard !levels.isEmpty, levels.count <= 20 else { throw PolicyError(field: "levels", message: "a policy has 1 to 20 levels") }
        for (index, level) in levels.enumerated() {
            guard level.level == index + 1 else { throw PolicyError(field: "levels", message: "levels are numbered 1, 2, … in order") }
            guard (1...3650).contains(level.daysOverdue) || courtesyDays.contains(-level.daysOverdue) else {
                throw PolicyError(field: "levels", message: "days_overdue is 1…3650, or -30…-1 for a courtesy reminder before the due date (level \(level.level))")
            }
            if level.isCourtesy, level.action != .reminder || level.fee != 0 {
                throw PolicyError(field: "levels", message: "a courtesy reminder (negative days_overdue) is a reminder without a fee (level \(level.level))")
            }
            guard !level.channels.isEmpty, level.channels.count <= MessageChannel.allCases.count, Set(level.channels).count == level.channels.count else {
                throw PolicyError(field: "levels", message: "channels names each of email, sms, whatsapp, post at most once (level \(level.level))")
            }
            if index > 0, level.daysOverdue <= levels[index - 1].daysOverdue {
                throw PolicyError(field: "levels", message: "days_overdue must increase from level to level (level \(level.level))")
            }
            guard !level.template.isEmpty, level.template.count <= 64,
                  level.template.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }),
                  level.template.unicodeScalars.allSatisfy(\.isASCII) else {
                throw PolicyError(field: "levels", message: "template is a name of letters, digits, _ and - (level \(level.level))")
            }
            guard level.fee >= 0 else { throw PolicyError(field: "levels", message: "fee cannot be negative (level \(level.level))") }
            guard (1...90).contains(level.payWithinDays) else {
                throw PolicyError(field: "levels", message: "pay_within_days is 1…90 (level \(level.level))")
            }
            if level.action.isSanction, !levels[..<index].contains(where: \.isNotice) {
                throw PolicyError(field: "levels", message: "a hold or referral comes after a written notice (reminder, letter or final_notice) (level \(level.level))")
            }
            if level.requiresCall {
                guard level.isNotice, levels[..<index].contains(where: { $0.action == .call }) else {
                    throw PolicyError(field: "levels", message: "requires_call is for a reminder, letter or final notice after a call level (level \(level.level))")
                }
            }
        }
        guard levels[0].action.speaksToCustomer, let firstOverdue = levels.first(where: { !$0.isCourtesy }), firstOverdue.action.speaksToCustomer else {
            throw PolicyError(field: "levels", message: "the first level must speak to the customer (call, reminder, letter or final_notice)")
        }
    }

    /// Why an invoice that would move is held back.
    public enum Pause: String, Sendable, Equatable {
        case disputed = "open_dispute"
        case inPlan = "active_installment_plan"
        case promised = "open_promise"
        /// A post-dated cheque for the invoice is in hand.
        case chequeInHand = "cheque_in_hand"
        case assigned = "assigned_to_agency"
        case awaitingDeadline = "last_date_to_pay_not_passed"
        /// The notice that announces the sanction was written but has not reached the customer yet.
        case awaitingDelivery = "notice_not_sent"
        /// The level waits for a call to be attempted first (`requires_call`).
        case awaitingCall = "call_not_attempted"
    }

    /// One overdue invoice as the run sees it.
    public struct Invoice: Sendable, Equatable {
        public var daysOverdue: Int
        /// Levels this invoice has already reached (each at most once).
        public var reached: Set<Int>
        /// What holds it back, if anything (dispute, active plan, open promise, agency).
        public var pause: Pause?
        /// The last date to pay stated by the latest letter about it, if any.
        public var lastDateToPay: Int?
        /// Levels whose letter reached the customer (sent by e-mail, or marked sent by hand), and
        /// levels without a letter; nil: every level reached counts as delivered.
        public var delivered: Set<Int>?
        /// The customer wants courtesy reminders before the due date.
        public var courtesy: Bool
        /// A call to the customer was attempted since the invoice fell due.
        public var callAttempted: Bool

        public init(daysOverdue: Int, reached: Set<Int>, pause: Pause? = nil, lastDateToPay: Int? = nil, delivered: Set<Int>? = nil,
                    courtesy: Bool = false, callAttempted: Bool = false) {
            self.daysOverdue = daysOverdue
            self.reached = reached
            self.pause = pause
            self.lastDateToPay = lastDateToPay
            self.delivered = delivered
            self.courtesy = courtesy
            self.callAttempted = callAttempted
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Nothing due (not overdue enough, or already at the level it should be at).
        case none
        /// Move to this level now.
        case advance(Level)
        /// Would move to `level` but is held back.
        case skip(level: Int, Pause)
    }

    /// The levels to apply together when `decide` advances to `target`: a sanction brings
    /// the lower sanctions not yet applied with it (after downtime, a referral does not skip
    /// the hold); a message or a call is only itself.
    public static func levelsToApply(for target: Level, levels: [Level], reached: Set<Int>) -> [Level] {
        guard target.action.isSanction else { return [target] }
        let lastMessage = levels.last { $0.level < target.level && $0.isNotice }?.level ?? 0
        return levels.filter { $0.level > lastMessage && $0.level < target.level && $0.action.isSanction && !reached.contains($0.level) } + [target]
    }

    /// The level an invoice should be at as of today, and what to do about it.
    ///
    /// Catch-up: after downtime the invoice goes straight to the highest level it has earned;
    /// the letters it passed while nobody ran are not sent late, and none is ever sent twice.
    /// Sanctions wait for words: a hold or a referral comes only after the notice that precedes
    /// it in the policy (the highest message level below it — the letter that announced the
    /// sanction) reached the customer — was sent, not merely written — and the last date to pay
    /// it stated has passed; until then the invoice gets that notice.
    ///
    /// A courtesy level is earned only before the due date, by a customer who wants one: after
    /// the due date it is simply passed by.
    ///
    /// A call level makes a task, like a letter without paper; catch-up passes it by like any
    /// other. A written level that `requiresCall` waits until a call was attempted: it brings the
    /// call level first when that was passed by, and is skipped (`call_not_attempted`) meanwhile.
    public static func decide(_ invoice: Invoice, levels: [Level], asOfDay: Int) -> Decision {
        let earned = levels.filter { level in
            invoice.daysOverdue >= level.daysOverdue && (!level.isCourtesy || (invoice.courtesy && invoice.daysOverdue < 0))
        }
        guard let target = earned.last, !invoice.reached.contains(target.level),
              target.level > (invoice.reached.max() ?? 0) else { return .none }
        if let pause = invoice.pause { return .skip(level: target.level, pause) }
        /// Speaking, after the call a level requires.
        func speak(_ level: Level) -> Decision {
            guard level.requiresCall, !invoice.callAttempted else { return .advance(level) }
            if let call = levels.last(where: { $0.level < level.level && $0.action == .call }), !invoice.reached.contains(call.level) {
                return .advance(call)
            }
            return .skip(level: target.level, .awaitingCall)
        }
        if target.action.speaksToCustomer { return speak(target) }
        guard let notice = levels.last(where: { $0.level < target.level && $0.isNotice }) else { return .advance(target) }
        if !invoice.reached.contains(notice.level) { return speak(notice) }
        if let delivered = invoice.delivered, !delivered.contains(notice.level) {
            return .skip(level: target.level, .awaitingDelivery)
        }
        if let deadline = invoice.lastDateToPay, asOfDay <= deadline {
            return .skip(level: target.level, .awaitingDeadline)
        }
        return .advance(target)
    }
}

extension Dunning {
    /// What holds an invoice back, in order of precedence: an agency has it, then an open
    /// dispute, an active plan, a post-dated cheque in hand for it, an open promise (to the
    /// invoice, or to the customer as a whole).
    public static func pause(assigned: Bool, disputed: Bool, inPlan: Bool, chequeInHand: Bool = false, promised: Bool) -> Pause? {
        if assigned { return .assigned }
        if disputed { return .disputed }
        if inPlan { return .inPlan }
        if chequeInHand { return .chequeInHand }
        if promised { return .promised }
        return nil
    }

    /// One invoice of a run: whose it is, and how it stands.
    public struct Candidate<ID: Hashable & Sendable & Comparable>: Sendable {
        public var invoiceID: ID
        public var customerID: ID
        public var invoice: Invoice

        public init(invoiceID: ID, customerID: ID, invoice: Invoice) {
            self.invoiceID = invoiceID
            self.customerID = customerID
            self.invoice = invoice
        }
    }

    /// What a run does: per customer and level, the invoices one letter (or hold, or referral)
    /// covers — in customer, then level order — and the invoices held back, with why.
    public struct Plan<ID: Hashable & Sendable & Comparable>: Sendable {
        public var steps: [(customerID: ID, level: Level, invoiceIDs: [ID])] = []
        public var skipped: [(invoiceID: ID, customerID: ID, level: Int, pause: Pause)] = []
    }

    /// Decides every candidate (`decide`, then `levelsToApply`) and groups what moves by
    /// customer and level, keeping the candidates' order within a group.
    public static func plan<ID>(_ candidates: [Candidate<ID>], levels: [Level], asOfDay: Int) -> Plan<ID> {
        var result = Plan<ID>()
        var groups: [ID: [Int: [ID]]] = [:]
        for candidate in candidates {
            switch decide(candidate.invoice, levels: levels, asOfDay: asOfDay) {
            case .none: break
            case .skip(let level, let pause):
                result.skipped.append((candidate.invoiceID, candidate.customerID, level, pause))
            case .advance(let target):
                for level in levelsToApply(for: target, levels: levels, reached: candidate.invoice.reached) {
                    groups[candidate.customerID, default: [:]][level.level, default: []].append(candidate.invoiceID)
                }
            }
        }
        for customerID in groups.keys.sorted() {
            for (number, ids) in groups[customerID]!.sorted(by: { $0.key < $1.key }) {
                result.steps.append((customerID, levels[number - 1], ids))
            }
        }
        return result
    }

    /// A letter's amounts: what is open on its invoices, their accrued interest, the level's fee.
    public struct LetterTotal: Sendable, Equatable {
        public var open: Decimal
        public var interest: Decimal
        public var fee: Decimal
        public var total: Decimal { open + interest + fee }

        public init(open: Decimal, interest: Decimal, fee: Decimal) {
            self.open = open
            self.interest = interest
            self.fee = fee
        }
    }

    /// The last date to pay a letter states: `payWithinDays` after the letter's day; for a
    /// courtesy reminder, the earliest due date of its invoices.
    public static func lastDateToPay(letterDay: Int, level: Level, earliestDue: Int? = nil) -> Int {
        if level.isCourtesy, let earliestDue { return max(letterDay, earliestDue) }
        return letterDay + level.payWithinDays
    }

    /// Whether a letter at `level` follows an earlier notice about the same arrears that reached
    /// the customer (only then may it say "despite our previous reminder"; a courtesy reminder
    /// before the due date does not count, and after downtime catch-up may send a later level first).
    public static func followsEarlierNotice(level: Int, delivered: Set<Int>, levels: [Level]) -> Bool {
        delivered.contains { $0 < level && $0 >= 1 && $0 <= levels.count && levels[$0 - 1].isNotice }
    }

    /// How a letter names the customer: its code when it has one, else its id.
    public static func customerReference(code: String?, id: Int64, language: String) -> String {
        let number = code ?? String(id)
        return language == "he" ? "מספר לקוח \(number)" : "customer number \(number)"
    }
}

/// How a letter writes amounts and dates: Hebrew as an Israeli business writes them
/// (`1,234.50 ₪`, `29/11/2026`), English as `ILS 1,234.50` and `29 Nov 2026`.
public enum LetterFormat {
    public static func amount(_ value: Decimal, currency: Currency, language: String) -> String {
        let text = Money(value, currency).text
        let negative = text.hasPrefix("-")
        let digits = negative ? String(text.dropFirst()) : text
        let parts = digits.split(separator: ".", maxSplits: 1)
        var integer = String(parts[0])
        var grouped = ""
        while integer.count > 3 {
            grouped = "," + integer.suffix(3) + grouped
            integer = String(integer.dropLast(3))
        }
        grouped = integer + grouped
        let number = (negative ? "-" : "") + grouped + (parts.count > 1 ? "." + parts[1] : "")
        let symbol = currency.code == "ILS" ? "₪" : currency.code
        return language == "he" ? "\(number) \(symbol)" : "\(symbol == "₪" ? "ILS" : symbol) \(number)"
    }

    static let englishMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `year`, `month`, `day` of a civil date.
    public static func date(year: Int, month: Int, day: Int, language: String) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return language == "he" ? "\(two(day))/\(two(month))/\(year)" : "\(day) \(englishMonths[month - 1]) \(year)"
    }
}
