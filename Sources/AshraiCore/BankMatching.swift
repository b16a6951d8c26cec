import Foundation

/// Who an incoming bank credit is from and what it pays, with how sure and why. Pure: the caller
/// gathers the open invoices and customers, the rules rank the candidates, strongest first:
/// 1. an invoice number in the remittance text (through the noise banks add: prefixes, spaces,
///    dashes, several numbers in one line);
/// 2. a customer code or legal id (ח.פ.) in the text;
/// 3. a counterparty bank account already linked to a customer;
/// 4. the amount equal to one open invoice, to the sum of a customer's open invoices, or to an
///    installment due;
/// 5. a counterparty name close to a customer's name (trigram similarity, Hebrew and English).
/// Agreeing evidence raises the confidence; a candidate names the invoices it would pay only when
/// the amount settles them exactly (otherwise the payment is allocated oldest first as usual).
public enum BankMatching {
    public struct OpenInvoice: Sendable, Equatable {
        public var id: Int64
        public var customerID: Int64
        public var number: String
        public var open: Decimal
        public var dueDay: Int

        public init(id: Int64, customerID: Int64, number: String, open: Decimal, dueDay: Int) {
            self.id = id
            self.customerID = customerID
            self.number = number
            self.open = open
            self.dueDay = dueDay
        }
    }

    public struct Customer: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var code: String?
        public var legalID: String?
        /// Counterparty accounts a confirmed match linked to this customer.
        public var accounts: [String]
        /// Installments due (amounts), for rule 4.
        public var installmentsDue: [Decimal]

        public init(id: Int64, name: String, code: String? = nil, legalID: String? = nil, accounts: [String] = [], installmentsDue: [Decimal] = []) {
            self.id = id
            self.name = name
            self.code = code
            self.legalID = legalID
            self.accounts = accounts
            self.installmentsDue = installmentsDue
        }
    }

    public struct Candidate: Sendable, Equatable {
        public var customerID: Int64
        /// The invoices the amount settles exactly, oldest first; empty: allocate as usual.
        public var invoiceIDs: [Int64]
        /// 0–99.
        public var confidence: Int
        public var reasons: [String]
    }

    /// The book the rules look things up in, built once per statement (or worklist page): invoices
    /// by number, by the digits of their number and by amount; customers by legal id, code, linked
    /// account and installment due.
    public struct Index: Sendable {
        let customers: [Customer]
        /// Each customer's name trigrams, in `customers` order.
        let nameTrigrams: [[Trigram]]
        /// Which customers (positions in `customers`) have each name trigram.
        let customersByTrigram: [Trigram: [Int32]]
        /// Each customer's position in `customers`.
        let positionByID: [Int64: Int]
        private(set) var invoicesByCustomer: [Int64: [OpenInvoice]] = [:]
        private(set) var byNumber: [String: [OpenInvoice]] = [:]
        private(set) var byDigits: [String: [OpenInvoice]] = [:]
        private(set) var byAmount: [Decimal: [OpenInvoice]] = [:]
        private(set) var byCustomerTotal: [Decimal: [Int64]] = [:]
        let byLegalID: [String: [Int64]]
        let byCode: [String: [Int64]]
        let byAccount: [String: [Int64]]
        let byInstallment: [Decimal: [Int64]]

        /// A payer name whose possible matches (after the prefix filter) are more customers than
        /// this is compared only with the customers other evidence already points at: so common a
        /// name cannot single a customer out, and comparing it with all of them costs a statement line
        /// the time of thousands.
        public static let nameCandidateLimit = 5000

        public init(customers: [Customer], invoices: [OpenInvoice]) {
            self.customers = customers
            nameTrigrams = customers.map { BankMatching.trigrams($0.name) }
            var postings: [Trigram: [Int32]] = [:]
            for (position, names) in nameTrigrams.enumerated() {
                for trigram in names { postings[trigram, default: []].append(Int32(position)) }
            }
            customersByTrigram = postings
            positionByID = Dictionary(customers.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
            var legal: [String: [Int64]] = [:], codes: [String: [Int64]] = [:], accounts: [String: [Int64]] = [:], installments: [Decimal: [Int64]] = [:]
            for customer in customers {
                if let id = customer.legalID, id.count >= 8 { legal[id, default: []].append(customer.id) }
                if let code = customer.code.map(normalize), code.count >= 3 { codes[code, default: []].append(customer.id) }
                for account in Set(customer.accounts.map(normalizeAccount)) where !account.isEmpty { accounts[account, default: []].append(customer.id) }
                for amount in Set(customer.installmentsDue) { installments[amount, default: []].append(customer.id) }
            }
            byLegalID = legal
            byCode = codes
            byAccount = accounts
            byInstallment = installments
            invoicesByCustomer.reserveCapacity(customers.count)
            byNumber.reserveCapacity(invoices.count)
            byDigits.reserveCapacity(invoices.count)
            for invoice in invoices { add(invoice) }
            for (customerID, open) in invoicesByCustomer where open.count > 1 {
                byCustomerTotal[Self.total(open), default: []].append(customerID)
            }
        }

        /// The customer's open invoices as the index has them.
        public func openInvoices(of customerID: Int64) -> [OpenInvoice] { invoicesByCustomer[customerID] ?? [] }

        static func total(_ invoices: [OpenInvoice]) -> Decimal { invoices.reduce(Decimal(0)) { $0 + $1.open } }

        /// The keys an invoice is found by: its number, and its digits when the number is letters then digits.
        static func keys(_ invoice: OpenInvoice) -> (number: String?, digits: String?) {
            let number = normalize(invoice.number)
            if number.utf8.allSatisfy({ $0 < 0x80 }) {   // letters then digits, byte by byte
                let bytes = number.utf8
                let letters = bytes.prefix { !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
                let isLettersThenDigits = bytes.dropFirst(letters).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                let digitCount = bytes.count - letters
                let byDigits = isLettersThenDigits && letters > 0 && digitCount >= 3
                return (number.utf8.count >= 3 ? number : nil, byDigits ? String(number.dropFirst(letters)) : nil)
            }
            let digits = number.filter(\.isNumber)
            // "INV1001" is also found as 1001; a number with letters after its digits is not.
            let byDigits = digits.count >= 3 && digits == number.drop(while: { !$0.isNumber }) && digits != number
            return (number.count >= 3 ? number : nil, byDigits ? digits : nil)
        }

        private mutating func add(_ invoice: OpenInvoice) {
            invoicesByCustomer[invoice.customerID, default: []].append(invoice)
            let keys = Self.keys(invoice)
            if let number = keys.number { byNumber[number, default: []].append(invoice) }
            if let digits = keys.digits { byDigits[digits, default: []].append(invoice) }
            byAmount[invoice.open, default: []].append(invoice)
        }

        /// After a post: the customer's open invoices are now `invoices` (paid ones gone, a part-paid
        /// one with what it still owes). Only that customer's entries change.
        public mutating func replaceInvoices(ofCustomer customerID: Int64, with invoices: [OpenInvoice]) {
            let old = invoicesByCustomer[customerID] ?? []
            // In place: a copy of the list out of the dictionary and back copied every bucket (an amount's
            // bucket holds hundreds of invoices), and that was most of a large import's matching time.
            func drop<Key: Hashable>(_ map: inout [Key: [OpenInvoice]], _ key: Key?, _ id: Int64) {
                guard let key, let position = map.index(forKey: key) else { return }
                map.values[position].removeAll { $0.id == id }
                if map.values[position].isEmpty { map.remove(at: position) }
            }
            for invoice in old {
                let keys = Self.keys(invoice)
                drop(&byNumber, keys.number, invoice.id)
                drop(&byDigits, keys.digits, invoice.id)
                drop(&byAmount, invoice.open, invoice.id)
            }
            if old.count > 1, let position = byCustomerTotal.index(forKey: Self.total(old)) {
                byCustomerTotal.values[position].removeAll { $0 == customerID }
                if byCustomerTotal.values[position].isEmpty { byCustomerTotal.remove(at: position) }
            }
            invoicesByCustomer[customerID] = nil
            for invoice in invoices where invoice.customerID == customerID { add(invoice) }
            if let open = invoicesByCustomer[customerID], open.count > 1 {
                byCustomerTotal[Self.total(open), default: []].append(customerID)
            }
        }

        /// Customers (positions) whose name is at least `threshold` similar to `payer`, with the
        /// similarity — exactly as comparing with every customer would find them, through the
        /// prefix filter: a name that similar shares at least ⌈threshold·|payer|⌉ trigrams with the
        /// payer, so it has one of the payer's |payer| − ⌈threshold·|payer|⌉ + 1 rarest. Nil when
        /// more than `nameCandidateLimit` customers pass the filter.
        func similarNames(_ payer: [Trigram], threshold: Double) -> [(position: Int, similarity: Double)]? {
            guard !payer.isEmpty else { return [] }
            let needed = Int((threshold * Double(payer.count)).rounded(.up))
            let probes = payer.sorted { (customersByTrigram[$0]?.count ?? 0, $0) < (customersByTrigram[$1]?.count ?? 0, $1) }
                .prefix(max(1, payer.count - needed + 1))
            // The commonest probe decides first whether the filter can pass at all.
            if let last = probes.last, (customersByTrigram[last]?.count ?? 0) > Self.nameCandidateLimit { return nil }
            var seen = Set<Int32>()
            seen.reserveCapacity(min(Self.nameCandidateLimit, probes.reduce(0) { $0 + (customersByTrigram[$1]?.count ?? 0) }))
            for trigram in probes {
                let postings = customersByTrigram[trigram] ?? []
                if postings.count > Self.nameCandidateLimit { return nil }   // rarest first: the rest are as common
                for position in postings {
                    seen.insert(position)
                }
                if seen.count > Self.nameCandidateLimit { return nil }
            }
            return seen.compactMap { position in
                let similarity = BankMatching.similarity(payer, nameTrigrams[Int(position)])
                return similarity >= threshold ? (Int(position), similarity) : nil
            }
        }
    }

    /// The candidates for one credit, strongest first (at most `limit`).
    public static func candidates(amount: Decimal, remittance: String?, counterpartyName: String?, counterpartyAccount: String?,
                                  customers: [Customer], invoices: [OpenInvoice], limit: Int = 5) -> [Candidate] {
        candidates(amount: amount, remittance: remittance, counterpartyName: counterpartyName, counterpartyAccount: counterpartyAccount,
                   index: Index(customers: customers, invoices: invoices), limit: limit)
    }

    public static func candidates(amount: Decimal, remittance: String?, counterpartyName: String?, counterpartyAccount: String?,
                                  index: Index, limit: Int = 5) -> [Candidate] {
        guard amount > 0 else { return [] }
        var evidence: [Int64: [(score: Int, reason: String)]] = [:]
        var named: [Int64: Set<Int64>] = [:]   // invoices named in the text, by customer
        let tokens = Self.tokens(remittance ?? "")
        let exact = Set(tokens.map(\.normalized))
        let digitRuns = Set(tokens.flatMap(\.digitRuns))

        // 1. Invoice numbers.
        var exactIDs = Set<Int64>()
        for token in exact {
            for invoice in index.byNumber[token] ?? [] where exactIDs.insert(invoice.id).inserted {
                evidence[invoice.customerID, default: []].append((90, "invoice \(invoice.number) is named in the text"))
                named[invoice.customerID, default: []].insert(invoice.id)
            }
        }
        for run in digitRuns {
            for invoice in index.byDigits[run] ?? [] where !exactIDs.contains(invoice.id) && !(named[invoice.customerID]?.contains(invoice.id) ?? false) {
                evidence[invoice.customerID, default: []].append((75, "the text has \(run), the number of invoice \(invoice.number)"))
                named[invoice.customerID, default: []].insert(invoice.id)
            }
        }
        // 2. Customer legal id or code.
        for run in digitRuns {
            for customerID in index.byLegalID[run] ?? [] {
                evidence[customerID, default: []].append((88, "the text has the customer's legal id \(run)"))
            }
        }
        for token in exact {
            for customerID in index.byCode[token] ?? [] {
                evidence[customerID, default: []].append((70, "the text has the customer's code \(token)"))
            }
        }
        // 3. A linked account.
        if let account = counterpartyAccount.map(normalizeAccount), !account.isEmpty {
            for customerID in index.byAccount[account] ?? [] {
                evidence[customerID, default: []].append((85, "paid from account \(counterpartyAccount ?? ""), linked to the customer"))
            }
        }
        // 5. The name: trigram similarity of at least 0.5 (through the index's prefix filter; a name
        // shared by too many customers is compared only with those other evidence points at).
        if let name = counterpartyName, !name.isEmpty {
            let payer = trigrams(name)
            let matches = index.similarNames(payer, threshold: 0.5) ?? evidence.keys.compactMap { customerID in
                guard let position = index.positionByID[customerID] else { return nil }
                let similarity = Self.similarity(payer, index.nameTrigrams[position])
                return similarity >= 0.5 ? (position, similarity) : nil
            }
            for (position, similarity) in matches {
                let score = similarity >= 0.9 ? 60 : similarity >= 0.7 ? 50 : 35
                evidence[index.customers[position].id, default: []].append((score, "the payer \(name) is like the customer's name (\(Int((similarity * 100).rounded())) %)"))
            }
        }
        // 4. The amount: one invoice (anyone's, when it is the only one with that amount), a customer's total, an installment.
        let sameAmount = index.byAmount[amount] ?? []
        if sameAmount.count == 1, let only = sameAmount.first {
            evidence[only.customerID, default: []].append((55, "the amount equals invoice \(only.number), the only open invoice of that amount"))
        } else if sameAmount.count > 1 {
            for customerID in Set(sameAmount.map(\.customerID)) where evidence[customerID] != nil {
                evidence[customerID, default: []].append((30, "the amount equals one of the customer's open invoices"))
            }
        }
        for customerID in index.byCustomerTotal[amount] ?? [] {
            evidence[customerID, default: []].append((45, "the amount equals all the customer's open invoices"))
        }
        for customerID in index.byInstallment[amount] ?? [] {
            evidence[customerID, default: []].append((40, "the amount equals an installment due"))
        }

        var result: [Candidate] = []
        for (customerID, items) in evidence {
            let sorted = items.sorted { $0.score > $1.score }
            // The strongest rule, raised by what agrees with it (each further piece up to half the way to 99).
            var confidence = Double(sorted[0].score)
            for item in sorted.dropFirst() { confidence += (99 - confidence) * Double(item.score) / 100 / 2 }
            let open = (index.invoicesByCustomer[customerID] ?? []).sorted { ($0.dueDay, $0.id) < ($1.dueDay, $1.id) }
            var invoiceIDs: [Int64] = []
            let namedIDs = named[customerID] ?? []
            let namedTotal = open.filter { namedIDs.contains($0.id) }.reduce(Decimal(0)) { $0 + $1.open }
            if !namedIDs.isEmpty, namedTotal == amount {
                invoiceIDs = open.filter { namedIDs.contains($0.id) }.map(\.id)
            } else if !namedIDs.isEmpty {
                // The text names invoices the amount does not settle exactly: a person should look.
                confidence = min(confidence, 80)
            } else if let single = open.first(where: { $0.open == amount }) {
                invoiceIDs = [single.id]
            }
            result.append(Candidate(customerID: customerID, invoiceIDs: invoiceIDs, confidence: min(99, Int(confidence.rounded(.down))),
                                    reasons: sorted.map(\.reason)))
        }
        result.sort { ($0.confidence, -$0.customerID) > ($1.confidence, -$1.customerID) }
        // Two customers with strong evidence: neither is certain.
        if result.count > 1, result[1].confidence >= 50 {
            for index in result.indices { result[index].confidence = min(result[index].confidence, 70) }
        }
        return Array(result.prefix(limit))
    }

    /// Upper-case letters and digits only: "INV-1001", "inv 1001" and "#INV1001" are one number.
    public static func normalize(_ text: String) -> String {
        // ASCII (every invoice number and most texts) byte by byte; the rest by Unicode's rules.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): bytes.append(byte)
            case 0x80...: return String(text.uppercased().filter { $0.isLetter || $0.isNumber })
            default: continue
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func normalizeAccount(_ text: String) -> String { String(text.uppercased().filter { $0.isLetter || $0.isNumber }) }

    struct Token {
        var normalized: String
        var digitRuns: [String]
    }

    /// The text's tokens: words split on spaces, commas, semicolons and slashes; a word and the
    /// next joined too ("INV 1001" → INV1001), with every run of digits.
    static func tokens(_ text: String) -> [Token] {
        let words = text.split { $0.isWhitespace || $0 == "," || $0 == ";" || $0 == "/" || $0 == ":" || $0 == "(" || $0 == ")" }.map(String.init)
        var tokens: [Token] = []
        for (index, word) in words.enumerated() {
            var forms = [word]
            if index + 1 < words.count { forms.append(word + words[index + 1]) }
            for form in forms {
                let normalized = normalize(form)
                guard !normalized.isEmpty else { continue }
                var runs: [String] = []
                var run = ""
                for character in normalized {
                    if character.isNumber && character.isASCII { run.append(character) } else if !run.isEmpty { runs.append(run); run = "" }
                }
                if !run.isEmpty { runs.append(run) }
                tokens.append(Token(normalized: normalized, digitRuns: runs))
            }
        }
        return tokens
    }

    /// Words that say what a company is, not which: left out of name comparisons.
    static let legalForms: Set<String> = ["בעמ", "בע\"מ", "בע״מ", "LTD", "LIMITED", "INC", "CO", "COMPANY", "עמותה", "שותפות"]

    /// Three characters of a name, packed: each character's Unicode scalar in 21 bits. A character
    /// of more than one scalar (a letter with a combining mark) is hashed instead, flagged by the top
    /// bit. Numbers, not strings: a statement line compares its payer with thousands of names.
    typealias Trigram = UInt64

    /// A name's trigrams as PostgreSQL's pg_trgm makes them (each word padded), after dropping
    /// legal forms and punctuation: sorted, each once.
    static func trigrams(_ text: String) -> [Trigram] {
        let words = text.uppercased().split { !($0.isLetter || $0.isNumber || $0 == "\"" || $0 == "״") }.map(String.init)
            .filter { !legalForms.contains($0) }.map { $0.filter { $0.isLetter || $0.isNumber } }.filter { !$0.isEmpty }
        var result: [Trigram] = []
        let space = Trigram(0x20)
        for word in words {
            var codes: [Trigram] = [space, space]
            for character in word {
                let scalars = character.unicodeScalars
                codes.append(scalars.count == 1 ? Trigram(scalars.first!.value) : Trigram(UInt64(bitPattern: Int64(character.hashValue)) & 0x1F_FFFF))
                if scalars.count > 1 { codes[codes.count - 1] |= 1 << 63 }
            }
            codes.append(space)
            for index in 0..<(codes.count - 2) {
                let flag = (codes[index] | codes[index + 1] | codes[index + 2]) & (1 << 63)
                let strip = ~(UInt64(1) << 63)
                result.append(flag | (codes[index] & strip) << 42 | (codes[index + 1] & strip) << 21 | (codes[index + 2] & strip))
            }
        }
        result.sort()
        var unique: [Trigram] = []
        unique.reserveCapacity(result.count)
        for trigram in result where unique.last != trigram { unique.append(trigram) }
        return unique
    }

    /// Shared trigrams over all trigrams, of two sorted sets.
    static func similarity(_ left: [Trigram], _ right: [Trigram]) -> Double {
        guard !left.isEmpty, !right.isEmpty else { return 0 }
        var shared = 0, i = 0, j = 0
        while i < left.count && j < right.count {
            if left[i] == right[j] { shared += 1; i += 1; j += 1 } else if left[i] < right[j] { i += 1 } else { j += 1 }
        }
        return Double(shared) / Double(left.count + right.count - shared)
    }

    /// Trigram similarity as PostgreSQL's pg_trgm computes it (shared trigrams over all trigrams); 0…1.
    public static func similarity(_ a: String, _ b: String) -> Double { similarity(trigrams(a), trigrams(b)) }
}

extension BankMatching {
    /// A payment recorded lately, as a returned-payment debit may undo it.
    public struct RecentPayment: Sendable, Equatable {
        public var id: Int64
        public var customerID: Int64
        public var amount: Decimal
        public var receivedDay: Int
        /// The payment's reference (a cheque number, the bank's reference).
        public var reference: String?
        /// The payer account of the bank line it was posted from, if any.
        public var counterpartyAccount: String?

        public init(id: Int64, customerID: Int64, amount: Decimal, receivedDay: Int, reference: String? = nil, counterpartyAccount: String? = nil) {
            self.id = id
            self.customerID = customerID
            self.amount = amount
            self.receivedDay = receivedDay
            self.reference = reference
            self.counterpartyAccount = counterpartyAccount
        }
    }

    public struct ReturnCandidate: Sendable, Equatable {
        public var paymentID: Int64
        public var customerID: Int64
        public var confidence: Int
        public var reasons: [String]
    }

    /// Words a bank writes on a returned payment: a bounced cheque (שיק חוזר), a returned transfer, a charge-back.
    static let returnWords = ["חוזר", "חזר", "החזר", "ביטול", "RETURN", "RETURNED", "BOUNCED", "REVERSAL", "CHARGEBACK", "UNPAID", "RTRN"]

    /// The payments a debit may be returning, strongest first: the same amount, received up to 120
    /// days before; raised by the payment's reference (e.g. the cheque number, at least 5 digits)
    /// in the text, by the same payer account, and by the bank's words for a return.
    public static func returns(amount: Decimal, remittance: String?, counterpartyAccount: String?, bookingDay: Int,
                               payments: [RecentPayment], limit: Int = 3) -> [ReturnCandidate] {
        guard amount < 0 else { return [] }
        let text = remittance ?? ""
        let digitRuns = Set(tokens(text).flatMap(\.digitRuns))
        let upper = text.uppercased()
        let saysReturn = returnWords.contains { upper.contains($0) }
        var result: [ReturnCandidate] = []
        for payment in payments where payment.amount == -amount && payment.receivedDay <= bookingDay && bookingDay - payment.receivedDay <= 120 {
            var score = 40.0
            var reasons = ["the amount equals payment #\(payment.id) of \(payment.amount)"]
            let referenceDigits = payment.reference.map { $0.filter { $0.isASCII && $0.isNumber } } ?? ""
            if referenceDigits.count >= 5, digitRuns.contains(referenceDigits) {
                score += (99 - score) * 0.8
                reasons.append("the text has the payment's reference \(payment.reference ?? "")")
            }
            if let account = counterpartyAccount.map(normalizeAccount), !account.isEmpty,
               payment.counterpartyAccount.map(normalizeAccount) == account {
                score += (99 - score) * 0.6
                reasons.append("the same account paid it")
            }
            if saysReturn {
                score += (99 - score) * 0.3
                reasons.append("the bank calls it a return")
            }
            result.append(ReturnCandidate(paymentID: payment.id, customerID: payment.customerID, confidence: Int(score.rounded(.down)), reasons: reasons))
        }
        result.sort { ($0.confidence, $0.paymentID) > ($1.confidence, $1.paymentID) }
        if result.count > 1, result[0].confidence == result[1].confidence {
            for index in result.indices { result[index].confidence = min(result[index].confidence, 50) }
        }
        return Array(result.prefix(limit))
    }
}
