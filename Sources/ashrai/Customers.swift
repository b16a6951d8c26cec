import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai customers …`.
struct Customers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Customers: add, list, show (the credit clerk's first screen), update, close.",
        subcommands: [CustomersAdd.self, CustomersList.self, CustomersShow.self, CustomersUpdate.self, CustomersClose.self])
}

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

    var params: JSONObject {
        var object: JSONObject = [:]
        let pairs: [(String, String?)] = [("code", code), ("name", name), ("legal_id", legalId), ("email", email), ("phone", phone),
                                          ("address", address), ("preferred_channel", preferredChannel), ("language", language), ("notes", notes)]
        for (key, value) in pairs { if let value { object[key] = .string(value) } }
        if let duplicateReason {
            object["allow_duplicate_legal_id"] = true
            object["duplicate_reason"] = .string(duplicateReason)
        }
        return object
    }
}

func customerTable(_ customers: [JSONValue]) -> String {
    Table(headers: ["ID", "CODE", "NAME", "STATUS", "GRADE", "SCORE", "NEXT REVIEW"],
          rows: customers.map { c in ["id", "code", "name", "status", "grade", "score", "next_review_on"].map { c[$0]?.cell ?? "-" } }).render()
}

struct CustomersAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a customer.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Name (any script).") var name: String
    @OptionGroup var fields: CustomerFieldOptions

    func run() async throws {
        var params = fields.params
        params["name"] = .string(name)
        try await options.run { connection in
            options.show(try await connection.call("customers.create", params)) { customerTable([$0]) }
        }
    }
}

struct CustomersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Search and list customers.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Search text (name, code, legal id, e-mail).") var query: String?
    @Option(help: "active, on_hold or closed.") var status: String?
    @Option(help: "A–E.") var grade: String?
    @Option(help: "Page size.") var limit: Int = 50
    @Option(help: "Continue after this id (from the previous page).") var after: Int?

    func run() async throws {
        var params: JSONObject = ["limit": .int(limit)]
        if let query { params["query"] = .string(query) }
        if let status { params["status"] = .string(status) }
        if let grade { params["grade"] = .string(grade.uppercased()) }
        if let after { params["after"] = .int(after) }
        try await options.run { connection in
            options.show(try await connection.call("customers.list", params)) { result in
                var text = customerTable(result["customers"]?.arrayValue ?? [])
                if let next = result["next_after"]?.intValue { text += "\nmore: --after \(next)" }
                return text
            }
        }
    }
}

/// The one screen a credit clerk opens first.
struct CustomersShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Contact data, grade and score with reasons, terms, exposure vs limit, hold, next review.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var id: Int

    func run() async throws {
        try await options.run { connection in
            let customer = try await connection.call("customers.get", ["id": .int(id)])
            let contacts = try await connection.call("customers.contacts.list", ["customer_id": .int(id)])
            if try await connection.call("auth.whoami")["user"]?["role"] == "agency" {
                // An agency partner sees contact data and the invoices it was handed, nothing internal.
                let invoices = try await connection.call("invoices.list", ["customer_id": .int(id), "limit": 500])["invoices"] ?? []
                options.show(["customer": customer, "contacts": contacts["contacts"] ?? [], "invoices": invoices]) { _ in
                    let c = customer
                    return ["\(c["name"]?.cell ?? "?")  (#\(c["id"]?.cell ?? "?"))",
                            "e-mail \(c["email"]?.cell ?? "-")   phone \(c["phone"]?.cell ?? "-")   address \(c["address"]?.cell ?? "-")   language \(c["language"]?.cell ?? "-")",
                            "",
                            Table(headers: ["INVOICE", "NUMBER", "DUE", "AMOUNT", "OPEN", "STATUS"],
                                  rows: (invoices.arrayValue ?? []).map { i in ["id", "number", "due_date", "amount", "open_amount", "status"].map { i[$0]?.cell ?? "-" } }).render(),
                            "",
                            Table(headers: ["CONTACT", "ROLE", "E-MAIL", "PHONE"],
                                  rows: (contacts["contacts"]?.arrayValue ?? []).map { p in ["name", "role", "email", "phone"].map { p[$0]?.cell ?? "-" } }).render(),
                    ].joined(separator: "\n")
                }
                return
            }
            let terms = try await connection.call("credit.terms.get", ["customer_id": .int(id)])
            let check = try await connection.call("credit.check", ["customer_id": .int(id), "amount": "0"])
            let assessment = try await connection.call("credit.assessments", ["customer_id": .int(id), "limit": 1])["assessments"]?.arrayValue?.first
            let hold = try await connection.call("holds.list", ["customer_id": .int(id), "active": true])["holds"]?.arrayValue?.first
            let all: JSONValue = ["customer": customer, "contacts": contacts["contacts"] ?? [], "terms": terms, "credit": check,
                                  "assessment": assessment ?? .null, "hold": hold ?? .null]
            options.show(all) { _ in
                var lines: [String] = []
                let c = customer
                lines.append("\(c["name"]?.cell ?? "?")  (#\(c["id"]?.cell ?? "?")\(c["code"].map { $0 == .null ? "" : ", code \($0.cell)" } ?? ""))")
                lines.append("status \(c["status"]?.cell ?? "-")   grade \(c["grade"]?.cell ?? "-")   score \(c["score"]?.cell ?? "-")   next review \(c["next_review_on"]?.cell ?? "-")")
                lines.append("e-mail \(c["email"]?.cell ?? "-")   phone \(c["phone"]?.cell ?? "-")   prefers \(c["preferred_channel"]?.cell ?? "-")   language \(c["language"]?.cell ?? "-")")
                if let address = c["address"], address != .null { lines.append("address \(address.cell)") }
                lines.append("")
                lines.append("terms v\(terms["version"]?.cell ?? "0")\(terms["is_default"] == true ? " (defaults)" : ""): limit \(terms["credit_limit"]?.cell ?? "-") \(terms["currency"]?.cell ?? ""), \(terms["description"]?.cell ?? "net \(terms["net_days"]?.cell ?? "-")") (days), late interest \(terms["late_interest_rate"]?.cell ?? "-")%/yr"
                    + (terms["early_discount_rate"].map { $0 == .null ? "" : ", \($0.cell)% off within \(terms["early_discount_days"]?.cell ?? "?") days" } ?? ""))
                lines.append("exposure \(check["exposure"]?.cell ?? "-") of \(check["credit_limit"]?.cell ?? "-"), available \(check["available"]?.cell ?? "-")"
                    + ((check["reasons"]?.arrayValue ?? []).isEmpty ? "" : " — " + (check["reasons"]?.arrayValue ?? []).map(\.cell).joined(separator: "; ")))
                if let hold { lines.append("ON HOLD since \(hold["placed_at"]?.cell ?? "?") by \(hold["placed_by"]?.cell ?? "?"): \(hold["reason"]?.cell ?? "")") }
                if let assessment {
                    lines.append("")
                    lines.append("assessment of \(assessment["as_of"]?.cell ?? "?"): \(assessment["score"]?.cell ?? "?")/100, grade \(assessment["grade"]?.cell ?? "?"); suggests limit \(assessment["suggested_terms"]?["credit_limit"]?.cell ?? "?"), net \(assessment["suggested_terms"]?["net_days"]?.cell ?? "?")")
                    lines.append(Table(headers: ["FACTOR", "VALUE", "POINTS", "WHY"],
                                       rows: (assessment["reasons"]?.arrayValue ?? []).map { r in ["factor", "value", "points", "note"].map { r[$0]?.cell ?? "-" } }).render())
                } else {
                    lines.append("not assessed yet: ashrai credit assess \(id)")
                }
                let people = contacts["contacts"]?.arrayValue ?? []
                if !people.isEmpty {
                    lines.append("")
                    lines.append(Table(headers: ["CONTACT", "ROLE", "E-MAIL", "PHONE", "PREFERS"],
                                       rows: people.map { p in ["name", "role", "email", "phone", "preferred_channel"].map { p[$0]?.cell ?? "-" } }).render())
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

struct CustomersUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change contact data (fails if someone else changed it since).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var id: Int
    @Option(help: "The version you saw (default: the current one, read just before).") var version: Int?
    @OptionGroup var fields: CustomerFieldOptions

    func run() async throws {
        try await options.run { connection in
            var params = fields.params
            params["id"] = .int(id)
            if let version {
                params["version"] = .int(version)
            } else {
                params["version"] = try await connection.call("customers.get", ["id": .int(id)])["version"] ?? 1
            }
            options.show(try await connection.call("customers.update", params)) { customerTable([$0]) }
        }
    }
}

struct CustomersClose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close", abstract: "Close an account (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var id: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("customers.close", ["id": .int(id), "reason": .string(reason)])) { customerTable([$0]) }
        }
    }
}

/// `ashrai contacts …`.
struct Contacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A customer's contact people.", subcommands: [ContactsAdd.self, ContactsList.self, ContactsRemove.self])
}

func contactTable(_ contacts: [JSONValue]) -> String {
    Table(headers: ["ID", "NAME", "ROLE", "E-MAIL", "PHONE", "PREFERS"],
          rows: contacts.map { p in ["id", "name", "role", "email", "phone", "preferred_channel"].map { p[$0]?.cell ?? "-" } }).render()
}

struct ContactsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a contact person.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "Name.") var name: String
    @Option(help: "Their role, e.g. accounts payable.") var role: String?
    @Option(help: "E-mail.") var email: String?
    @Option(help: "Phone.") var phone: String?
    @Option(help: "Preferred channel.") var preferredChannel: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "name": .string(name)]
        if let role { params["role"] = .string(role) }
        if let email { params["email"] = .string(email) }
        if let phone { params["phone"] = .string(phone) }
        if let preferredChannel { params["preferred_channel"] = .string(preferredChannel) }
        try await options.run { connection in
            options.show(try await connection.call("customers.contacts.add", params)) { contactTable([$0]) }
        }
    }
}

struct ContactsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "A customer's contacts.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("customers.contacts.list", ["customer_id": .int(customer)])) {
                contactTable($0["contacts"]?.arrayValue ?? [])
            }
        }
    }
}

struct ContactsRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a contact (kept in history).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Contact id.") var id: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("customers.contacts.remove", ["id": .int(id)])) { _ in "removed" }
        }
    }
}
