import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct InvoicesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One invoice with its terms snapshot.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Invoice id.") var id: Int

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("invoices.get", ["id": .int(id)])) { i in
                let t = i["terms"] ?? .null
                return invoiceTable([i]) + "\nterms v\(t["version"]?.cell ?? "?"): limit \(t["credit_limit"]?.cell ?? "-"), \(t["terms_basis"]?.stringValue == "end_of_month" ? "end of month +" : "net") \(t["net_days"]?.cell ?? "-") days, late interest \(t["late_interest_rate"]?.cell ?? "-")%/yr"
                    + (i["override_reason"].map { $0 == .null ? "" : "\nover the limit by override: \($0.cell)" } ?? "")
            }
        }
    }
}
