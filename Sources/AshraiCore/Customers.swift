import Foundation

/// A customer's standing, as `customers.status` stores it.
public enum CustomerStatus: String, Sendable, CaseIterable, Codable {
    case active
    /// On credit hold: no new credit until released.
    case onHold = "on_hold"
    case closed
}

/// How a customer prefers to be reached, as `customers.preferred_channel` (and a contact's) stores it.
public enum ContactChannel: String, Sendable, CaseIterable, Codable {
    case email, phone, sms, letter, whatsapp
    case inPerson = "in_person"
}

/// What kind of contact an interaction records, as `interactions.kind` stores it.
public enum InteractionKind: String, Sendable, CaseIterable, Codable {
    case call, email, letter, meeting, sms, social, note, agreement
}

/// How a letter was handed over when marked sent, as `letters.sent_channel` stores it.
public enum LetterChannel: String, Sendable, CaseIterable, Codable {
    case email, post, hand, sms, whatsapp
}

/// The language a customer's letters are written in, as `customers.language` stores it.
public enum Language: String, Sendable, CaseIterable, Codable {
    case he, en
}

/// Where a credit reference came from, as `credit_references.kind` stores it.
public enum ReferenceKind: String, Sendable, CaseIterable, Codable {
    case bureauReport = "bureau_report"
    case tradeReference = "trade_reference"
    case bankReference = "bank_reference"
}
