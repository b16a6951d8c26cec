import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai tasks [list|add|done|cancel]`: the collector's work.
struct Tasks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tasks: calls to make, promises to follow up, … — yours and the unowned (a manager sees all); add one, close it with what happened.",
        subcommands: [TasksList.self, TasksAdd.self, TasksDone.self, TasksCancel.self], defaultSubcommand: TasksList.self)
}

/// One line per task, soonest due first.
func taskTable(_ result: JSONValue) -> String {
    let tasks = result["tasks"]?.arrayValue ?? [result["task"] ?? result]
    var text = Table(headers: ["ID", "DUE", "KIND", "CUSTOMER", "OWNER", "STATE", "NOTE / OUTCOME"],
                     rows: tasks.map { t in
                         [t["id"]?.cell ?? "-", t["due_on"]?.cell ?? "-", t["kind"]?.cell ?? "-",
                          "\(t["customer_name"]?.cell ?? "-") (#\(t["customer_id"]?.cell ?? "-"))", t["owner_id"]?.cell ?? "-",
                          t["state"]?.cell ?? "-", (t["state"] == "open" ? t["note"] : t["outcome"])?.cell ?? "-"]
                     }).render()
    if let interaction = result["interaction"], !interaction.isNull { text += "\nlogged as interaction #\(interaction["id"]?.cell ?? "?")" }
    if let promise = result["promise"], !promise.isNull {
        text += "\npromise to pay \(promise["amount"]?.cell ?? "?") by \(promise["due_on"]?.cell ?? "?") recorded"
    }
    return text
}

struct TasksList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Open tasks, soonest due first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "open, done or cancelled (default open).") var state: String?
    @Option(help: "Only this user's (a user id).") var owner: Int?
    @Option(help: "Only this customer.") var customer: Int?
    @Option(help: "Due on or before YYYY-MM-DD (e.g. today).") var dueBy: String?
    @Option(help: "At most this many (default 100).") var limit: Int?

    func run() async throws {
        var params: JSONObject = [:]
        if let state { params["state"] = .string(state) }
        if let owner { params["owner_id"] = .int(owner) }
        if let customer { params["customer_id"] = .int(customer) }
        if let dueBy { params["due_by"] = .string(dueBy) }
        if let limit { params["limit"] = .int(limit) }
        try await options.run { connection in
            options.show(try await connection.call("tasks.list", params), human: taskTable)
        }
    }
}

struct TasksAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Write a task by hand.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Argument(help: "What to do.") var note: String
    @Option(help: "Due YYYY-MM-DD.") var due: String
    @Option(help: "Whose (a user id; default the customer's owner).") var owner: Int?
    @Option(help: "Invoice ids it is about.") var invoice: [Int] = []

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "note": .string(note), "due_on": .string(due)]
        if let owner { params["owner_id"] = .int(owner) }
        if !invoice.isEmpty { params["invoice_ids"] = .array(invoice.map { .int($0) }) }
        try await options.run { connection in
            options.show(try await connection.call("tasks.create", params), human: taskTable)
        }
    }
}

struct TasksDone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "done", abstract: "Close a task with what happened; --log logs the contact (and --promise a promise to pay).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Task id.") var id: Int
    @Argument(help: "What happened.") var outcome: String
    @Option(help: "Log the contact as this kind: call, email, letter, meeting, sms, social, note or agreement.") var log: String?
    @Option(help: "What was said (default: the outcome).") var summary: String?
    @Option(help: "A promise to pay: AMOUNT@YYYY-MM-DD.") var promise: String?

    func validate() throws {
        if promise != nil, log == nil { throw ValidationError("--promise needs --log KIND: a promise is made in a contact") }
        if let promise, promise.split(separator: "@").count != 2 { throw ValidationError("--promise is AMOUNT@YYYY-MM-DD") }
    }

    func run() async throws {
        var params: JSONObject = ["id": .int(id), "outcome": .string(outcome)]
        if let log {
            var interaction: JSONObject = ["kind": .string(log), "summary": .string(summary ?? outcome)]
            if let promise {
                let parts = promise.split(separator: "@").map(String.init)
                interaction["promise"] = ["amount": .string(parts[0]), "due_on": .string(parts[1])]
            }
            params["interaction"] = .object(interaction)
        }
        try await options.run { connection in
            options.show(try await connection.call("tasks.complete", params), human: taskTable)
        }
    }
}

struct TasksCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an open task, saying why.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Task id.") var id: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("tasks.cancel", ["id": .int(id), "reason": .string(reason)]), human: taskTable)
        }
    }
}
