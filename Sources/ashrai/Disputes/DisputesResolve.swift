import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct DisputesResolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Resolve a dispute (manager); the customer's favour issues a credit note.")
    enum Resolution: String, ExpressibleByArgument, CaseIterable { case customer_right = "customer-right", business_right = "business-right", partial }
    @OptionGroup var options: ClientOptions
    @Argument(help: "Dispute id.") var dispute: Int
    @Argument(help: "customer-right, business-right or partial.") var resolution: Resolution
    @Option(help: "Credit for a partial resolution (or less than the disputed amount).") var credit: String?
    @Option(help: "A note.") var note: String?

    func run() async throws {
        var params: JSONObject = ["id": .int(dispute), "resolution": .string(resolution.rawValue.replacingOccurrences(of: "-", with: "_"))]
        if let credit { params["credit_amount"] = .string(credit) }
        if let note { params["note"] = .string(note) }
        try await options.run { connection in
            options.show(try await connection.call("disputes.resolve", params)) { r in
                disputeTable([r["dispute"] ?? .null]) + "\ninvoice \(r["invoice"]?["number"]?.cell ?? "?"): open \(r["invoice"]?["open_amount"]?.cell ?? "?"), status \(r["invoice"]?["status"]?.cell ?? "?")"
            }
        }
    }
}
