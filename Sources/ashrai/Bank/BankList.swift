import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct BankList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Imported bank lines, oldest first (default: the unmatched ones).")
    @OptionGroup var options: ClientOptions
    @Option(help: "unmatched, posted or ignored (default unmatched).") var status = "unmatched"
    @Option(help: "Only this statement.") var statement: Int?

    func run() async throws {
        var params: JSONObject = ["status": .string(status)]
        if let statement { params["statement_id"] = .int(statement) }
        try await options.run { connection in
            options.show(try await connection.call("bank.transactions.list", params)) { bankTable($0["transactions"]?.arrayValue ?? []) }
        }
    }
}

struct BankProfilesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profiles", abstract: "The banks' CSV export profiles this server reads.")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("bank.profiles.list")) { r in
                Table(headers: ["PROFILE", "BANK", "EXPORT"], rows: (r["profiles"]?.arrayValue ?? []).map { p in
                    ["name", "bank", "export"].map { p[$0]?.cell ?? "-" }
                }).render()
            }
        }
    }
}
