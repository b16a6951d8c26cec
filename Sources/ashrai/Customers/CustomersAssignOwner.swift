import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct CustomersAssignOwner: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign-owner",
                                                    abstract: "Give customers to an owner's portfolio, or to nobody (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer ids (up to 1,000).") var ids: [Int]
    @Option(help: "The owner's user id (an active admin, manager or clerk).") var owner: Int?
    @Flag(help: "Give them to nobody.") var nobody = false

    func validate() throws {
        guard (owner != nil) != nobody else { throw ValidationError("give either --owner ID or --nobody") }
        guard !ids.isEmpty else { throw ValidationError("name at least one customer id") }
    }

    func run() async throws {
        let params: JSONObject = ["customer_ids": .array(ids.map { .int($0) }), "owner_id": owner.map { .int($0) } ?? .null]
        try await options.run { connection in
            options.show(try await connection.call("customers.assign_owner", params)) { result in
                let owner = result["owner_id"]?.intValue.map { "user \($0)" } ?? "nobody"
                return "\(result["changed"]?.intValue ?? 0) of \(result["customers"]?.intValue ?? 0) customers given to \(owner)"
            }
        }
    }
}
