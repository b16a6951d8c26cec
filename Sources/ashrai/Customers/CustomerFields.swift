import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// The editable customer fields as options (shared by add and update).
struct CustomerFieldOptions: ParsableArguments {
    @Option(help: "The business's own customer number.") var code: String?
    @Option(help: "Company or person name (any script).") var name: String?
    @Option(help: "Company number (ח.פ.), dealer number or ID (ת.ז.); in Israel checked and stored as 9 digits.") var legalId: String?
    @Option(help: "Why this legal id may be shared with another customer (a branch billed apart); audited.")
    var duplicateReason: String?
    @Option(help: "E-mail.") var email: String?
    @Option(help: "Phone.") var phone: String?
    @Option(help: "Postal address.") var address: String?
    @Option(help: "email, phone, sms, letter, whatsapp or in_person.") var preferredChannel: String?
    @Option(help: "Letter language: he or en.") var language: String?
    @Option(help: "Internal notes.") var notes: String?
    @Option(help: "true: send this customer the policy's courtesy reminder before the due date; false: stop.") var courtesyReminders: Bool?
    @Option(help: "The user id whose portfolio the customer is in (manager); 0: nobody's.") var owner: Int?

    var params: JSONObject {
        var object: JSONObject = [:]
        let pairs: [(String, String?)] = [("code", code), ("name", name), ("legal_id", legalId), ("email", email), ("phone", phone),
                                          ("address", address), ("preferred_channel", preferredChannel), ("language", language), ("notes", notes)]
        for (key, value) in pairs { if let value { object[key] = .string(value) } }
        if let courtesyReminders { object["courtesy_reminders"] = .bool(courtesyReminders) }
        if let owner { object["owner_id"] = owner == 0 ? .null : .int(owner) }
        if let duplicateReason {
            object["allow_duplicate_legal_id"] = true
            object["duplicate_reason"] = .string(duplicateReason)
        }
        return object
    }
}

func customerTable(_ customers: [JSONValue]) -> String {
    Table(headers: ["ID", "CODE", "NAME", "STATUS", "GRADE", "SCORE", "NEXT REVIEW", "OWNER"],
          rows: customers.map { c in ["id", "code", "name", "status", "grade", "score", "next_review_on", "owner_id"].map { c[$0]?.cell ?? "-" } }).render()
}

func contactTable(_ contacts: [JSONValue]) -> String {
    Table(headers: ["ID", "NAME", "ROLE", "E-MAIL", "PHONE", "PREFERS"],
          rows: contacts.map { p in ["id", "name", "role", "email", "phone", "preferred_channel"].map { p[$0]?.cell ?? "-" } }).render()
}
