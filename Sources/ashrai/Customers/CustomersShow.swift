import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

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
