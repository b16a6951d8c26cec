import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct WriteoffsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Write-offs with their total.")
    @OptionGroup var options: ClientOptions
    @Option var customer: Int?
    @Option var from: String?
    @Option var to: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        try await options.run { connection in
            options.show(try await connection.call("writeoffs.list", params)) { r in
                Table(headers: ["ID", "INVOICE", "CUSTOMER", "ON", "AMOUNT", "BY", "REASON"],
                      rows: (r["writeoffs"]?.arrayValue ?? []).map { w in
                          ["id", "invoice_id", "customer_id", "written_off_on", "amount", "created_by", "reason"].map { w[$0]?.cell ?? "-" }
                      }).render() + "\ntotal \(r["total"]?.cell ?? "0.00")"
            }
        }
    }
}
