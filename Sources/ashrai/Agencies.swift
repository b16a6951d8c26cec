import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func agencyTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "NAME", "COMMISSION %", "LICENSED", "RATING", "ACTIVE", "OPEN ASSIGNMENTS", "CONTACT", "PHONE"],
          rows: items.map { a in ["id", "name", "commission_rate", "licensed", "rating", "active", "open_assignments", "contact_name", "phone"].map { a[$0]?.cell ?? "-" } })
        .render()
}

func assignmentTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "AGENCY", "CUSTOMER", "STATUS", "NOTIFIED", "ASSIGNED", "OPEN", "COLLECTED", "COMMISSION", "INVOICES"],
          rows: items.map { s in
              ["id", "agency_name", "customer_name", "status", "customer_notified_on", "assigned_amount", "open_amount", "collected", "commission"].map { s[$0]?.cell ?? "-" }
                  + [(s["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ",")]
          }).render()
}

private func idList(_ text: String) throws -> [JSONValue] {
    try text.split(separator: ",").map { part in
        guard let id = Int(part.trimmingCharacters(in: .whitespaces)), id > 0 else { throw ValidationError("ids are positive integers separated by commas") }
        return .int(id)
    }
}

/// `ashrai agencies add|list|show|statement`.
struct Agencies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Collection agencies and their terms.",
                                                    subcommands: [AgenciesAdd.self, AgenciesList.self, AgenciesShow.self, AgenciesStatement.self])
}

struct AgenciesAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Record an agency (admin).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Name.") var name: String
    @Option(help: "Commission, percent of what it collects.") var commission: String
    @Option(help: "Registration number.") var registration: String?
    @Option(help: "Contact person.") var contact: String?
    @Option(help: "E-mail.") var email: String?
    @Option(help: "Phone.") var phone: String?
    @Option(help: "Fees agreed besides the commission.") var feeTerms: String?
    @Flag(help: "Licensed to collect debts.") var licensed = false
    @Option(help: "Your rating, 1–5.") var rating: Int?

    func run() async throws {
        var params: JSONObject = ["name": .string(name), "commission_rate": .string(commission), "licensed": .bool(licensed)]
        if let registration { params["registration_no"] = .string(registration) }
        if let contact { params["contact_name"] = .string(contact) }
        if let email { params["email"] = .string(email) }
        if let phone { params["phone"] = .string(phone) }
        if let feeTerms { params["fee_terms"] = .string(feeTerms) }
        if let rating { params["rating"] = .int(rating) }
        try await options.run { connection in options.show(try await connection.call("agencies.create", params)) { agencyTable([$0]) } }
    }
}

struct AgenciesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Agencies.")
    @OptionGroup var options: ClientOptions
    @Flag(help: "Only active ones.") var active = false

    func run() async throws {
        var params: JSONObject = [:]
        if active { params["active"] = true }
        try await options.run { connection in
            options.show(try await connection.call("agencies.list", params)) { agencyTable($0["agencies"]?.arrayValue ?? []) }
        }
    }
}

struct AgenciesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One agency and its open assignments.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Agency id.") var agency: Int

    func run() async throws {
        try await options.run { connection in
            let record = try await connection.call("agencies.get", ["id": .int(agency)])
            let assignments = try await connection.call("assignments.list", ["agency_id": .int(agency), "status": "active"])
            options.show(["agency": record, "assignments": assignments["assignments"] ?? []]) { r in
                agencyTable([r["agency"] ?? .null]) + "\nactive assignments:\n" + assignmentTable(r["assignments"]?.arrayValue ?? [])
            }
        }
    }
}

struct AgenciesStatement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statement", abstract: "Assigned, collected, commission, net and recovery rate.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Agency id.") var agency: Int
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD.") var to: String?

    func run() async throws {
        var params: JSONObject = ["agency_id": .int(agency)]
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        try await options.run { connection in
            options.show(try await connection.call("agencies.statement", params)) { r in
                Table(headers: ["ASSIGNMENT", "CUSTOMER", "STATUS", "RATE %", "ASSIGNED", "COLLECTED", "COMMISSION", "NET"],
                      rows: (r["assignments"]?.arrayValue ?? []).map { l in
                          ["assignment_id", "customer_name", "status", "commission_rate", "assigned", "collected", "commission", "net"].map { l[$0]?.cell ?? "-" }
                      } + [["total", "", "", "", r["assigned"]?.cell ?? "", r["collected"]?.cell ?? "", r["commission"]?.cell ?? "", r["net"]?.cell ?? ""]])
                    .render() + "\nrecovery rate: \(r["recovery_rate"]?.cell ?? "-")%"
            }
        }
    }
}

/// `ashrai assign CUSTOMER --agency ID --invoices … --notified-on DATE`.
struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hand a customer's overdue invoices to an agency (manager); pending until the customer is told.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Agency id.") var agency: Int
    @Option(help: "Invoice ids, comma-separated.") var invoices: String
    @Option(help: "The day the customer was told of the transfer (without it the assignment stays pending).") var notifiedOn: String?
    @Option(help: "The logged interaction in which the customer was told.") var interaction: Int?
    @Option(help: "Notes.") var notes: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "agency_id": .int(agency), "invoice_ids": .array(try idList(invoices))]
        if let notifiedOn { params["customer_notified_on"] = .string(notifiedOn) }
        if let interaction { params["notification_interaction_id"] = .int(interaction) }
        if let notes { params["notes"] = .string(notes) }
        try await options.run { connection in options.show(try await connection.call("assignments.create", params)) { assignmentTable([$0]) } }
    }
}

/// `ashrai assignments list|notify|recall|settle`.
struct Assignments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Accounts handed to agencies.",
                                                    subcommands: [AssignmentsList.self, AssignmentsNotify.self, AssignmentsRecall.self, AssignmentsSettle.self])
}

struct AssignmentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Assignments (an agency login sees its own active ones).")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this agency.") var agency: Int?
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "pending, active, recalled or settled.") var status: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let agency { params["agency_id"] = .int(agency) }
        if let customer { params["customer_id"] = .int(customer) }
        if let status { params["status"] = .string(status) }
        try await options.run { connection in
            options.show(try await connection.call("assignments.list", params)) { assignmentTable($0["assignments"]?.arrayValue ?? []) }
        }
    }
}

struct AssignmentsNotify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notify", abstract: "Record that the customer was told; the assignment becomes active.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Assignment id.") var assignment: Int
    @Option(help: "YYYY-MM-DD.") var notifiedOn: String
    @Option(help: "The logged interaction.") var interaction: Int?

    func run() async throws {
        var params: JSONObject = ["id": .int(assignment), "customer_notified_on": .string(notifiedOn)]
        if let interaction { params["notification_interaction_id"] = .int(interaction) }
        try await options.run { connection in options.show(try await connection.call("assignments.notify", params)) { assignmentTable([$0]) } }
    }
}

struct AssignmentsRecall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recall", abstract: "Take the invoices back; the agency's access ends at once.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Assignment id.") var assignment: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("assignments.recall", ["id": .int(assignment), "reason": .string(reason)])) { assignmentTable([$0]) }
        }
    }
}

struct AssignmentsSettle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "settle", abstract: "Close an assignment as settled.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Assignment id.") var assignment: Int
    @Option(help: "A note.") var reason: String?

    func run() async throws {
        var params: JSONObject = ["id": .int(assignment)]
        if let reason { params["reason"] = .string(reason) }
        try await options.run { connection in options.show(try await connection.call("assignments.settle", params)) { assignmentTable([$0]) } }
    }
}
