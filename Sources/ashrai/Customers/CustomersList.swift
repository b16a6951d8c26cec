import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CustomersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Search and list customers.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Search text (name, code, legal id, e-mail).") var query: String?
    @Option(help: "active, on_hold or closed.") var status: String?
    @Option(help: "A–E.") var grade: String?
    @Option(help: "Page size.") var limit: Int = 50
    @Option(help: "Continue after this id (from the previous page).") var after: Int?
    @Option(help: "Only this user's portfolio (a user id).") var owner: Int?
    @Flag(help: "Only customers nobody owns.") var unowned = false

    func run() async throws {
        var params: JSONObject = ["limit": .int(limit)]
        if let query { params["query"] = .string(query) }
        if let status { params["status"] = .string(status) }
        if let grade { params["grade"] = .string(grade.uppercased()) }
        if let after { params["after"] = .int(after) }
        if let owner { params["owner_id"] = .int(owner) }
        if unowned { params["unowned"] = true }
        try await options.run { connection in
            options.show(try await connection.call("customers.list", params)) { result in
                var text = customerTable(result["customers"]?.arrayValue ?? [])
                if let next = result["next_after"]?.intValue { text += "\nmore: --after \(next)" }
                return text
            }
        }
    }
}
