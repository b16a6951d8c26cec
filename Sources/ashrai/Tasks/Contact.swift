import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai contact ID`: the customer's screen for a call, then what happened, logged.
struct Contact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A customer's screen for the call — balance, overdue invoices, promises, plans, open tasks, last contacts — then asks what happened and logs it (with a promise to pay, if one was made).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var id: Int
    @Option(help: "How: call, email, meeting, sms, social or note (default call).") var kind = "call"
    @Option(help: "What was said (asked when omitted).") var summary: String?
    @Option(help: "The outcome, in a few words (asked when omitted).") var outcome: String?
    @Option(help: "A promise to pay: AMOUNT@YYYY-MM-DD (asked when omitted; empty: none).") var promise: String?
    @Option(help: "Close this open task with the contact.") var task: Int?
    @Flag(help: "Only show the screen; log nothing.") var showOnly = false

    func run() async throws {
        try await options.run { connection in
            let customerID: JSONValue = .int(id)
            let statement = try await connection.call("statements.get", ["customer_id": customerID])
            let promises = try await connection.call("promises.list", ["customer_id": customerID, "status": "open"])
            let plans = try await connection.call("plans.list", ["customer_id": customerID])
            let tasks = try await connection.call("tasks.list", ["customer_id": customerID])
            let contacts = try await connection.call("interactions.list", ["customer_id": customerID, "limit": 5])
            print(Self.screen(statement: statement, promises: promises, plans: plans, tasks: tasks, contacts: contacts))
            guard !showOnly else { return }
            let said = try summary ?? Self.ask("What was said? ")
            guard !said.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("nothing was said: nothing logged") }
            let result = try outcome ?? Self.ask("Outcome (e.g. reached, no answer, promised): ")
            let promised = try promise ?? Self.ask("Promise to pay, AMOUNT@YYYY-MM-DD (empty: none): ")
            var interaction: JSONObject = ["kind": .string(kind), "summary": .string(said)]
            if !result.isEmpty { interaction["outcome"] = .string(result) }
            if !promised.isEmpty {
                let parts = promised.split(separator: "@").map(String.init)
                guard parts.count == 2 else { throw ValidationError("a promise is AMOUNT@YYYY-MM-DD") }
                interaction["promise"] = ["amount": .string(parts[0]), "due_on": .string(parts[1])]
            }
            let reply: JSONValue
            if let task {
                reply = try await connection.call("tasks.complete", ["id": .int(task), "outcome": .string(result.isEmpty ? said : result),
                                                                     "interaction": .object(interaction)])
            } else {
                interaction["customer_id"] = customerID
                reply = try await connection.call("interactions.log", interaction)
            }
            options.show(reply) { reply in
                var text = "logged as interaction #\(reply["interaction"]?["id"]?.cell ?? "?")"
                if let promise = reply["promise"], !promise.isNull {
                    text += "; promise to pay \(promise["amount"]?.cell ?? "?") by \(promise["due_on"]?.cell ?? "?") recorded"
                }
                if let task = reply["task"] { text += "; task #\(task["id"]?.cell ?? "?") done" }
                return text
            }
        }
    }

    static func ask(_ question: String) throws -> String {
        FileHandle.standardError.write(Data(question.utf8))
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no answer on standard input") }
        return line.trimmingCharacters(in: .whitespaces)
    }

    static func screen(statement: JSONValue, promises: JSONValue, plans: JSONValue, tasks: JSONValue, contacts: JSONValue) -> String {
        let customer = statement["customer"] ?? .null
        var text = "\(customer["name"]?.cell ?? "?") (#\(customer["id"]?.cell ?? "?"))  grade \(customer["grade"]?.cell ?? "-")  "
            + "phone \(customer["phone"]?.cell ?? "-")  e-mail \(customer["email"]?.cell ?? "-")\n"
        text += "balance \(statement["closing_balance"]?.cell ?? "?")  accrued interest \(statement["accrued_interest"]?["total"]?.cell ?? "0")\n"
        let open = (promises["promises"]?.arrayValue ?? []).map { "\($0["amount"]?.cell ?? "?") by \($0["due_on"]?.cell ?? "?")" }
        text += "promises running: \(open.isEmpty ? "none" : open.joined(separator: ", "))\n"
        let live = (plans["plans"]?.arrayValue ?? []).filter { $0["status"] == "active" || $0["status"] == "proposed" }
            .map { "#\($0["id"]?.cell ?? "?") \($0["status"]?.cell ?? "")" }
        text += "plans: \(live.isEmpty ? "none" : live.joined(separator: ", "))\n"
        let due = (tasks["tasks"]?.arrayValue ?? []).map { "#\($0["id"]?.cell ?? "?") \($0["kind"]?.cell ?? "") due \($0["due_on"]?.cell ?? "?")" }
        text += "open tasks: \(due.isEmpty ? "none" : due.joined(separator: ", "))\n"
        text += "last contacts:\n"
        let last = contacts["interactions"]?.arrayValue ?? []
        text += last.isEmpty ? "  none\n" : last.map { "  \($0["occurred_at"]?.cell.prefix(10) ?? "") \($0["kind"]?.cell ?? ""): \($0["summary"]?.cell ?? "")" }
            .joined(separator: "\n") + "\n"
        return text
    }
}
