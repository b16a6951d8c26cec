import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct DunningRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the policy (manager): letters, call tasks, holds, referrals; idempotent per day.")
    @OptionGroup var options: ClientOptions
    @Flag(help: "Show what would happen, write nothing.") var dryRun = false
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?

    func run() async throws {
        var params: JSONObject = ["dry_run": .bool(dryRun)]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("dunning.run", params)) { r in
                var out = "\(r["dry_run"] == true ? "dry run" : "run #\(r["run_id"]?.cell ?? "?")") as of \(r["as_of"]?.cell ?? "?") (policy v\(r["policy_version"]?.cell ?? "?"))\n"
                out += Table(headers: ["LETTER", "CUSTOMER", "LEVEL", "ACTION", "INVOICES", "TOTAL"],
                             rows: (r["letters"]?.arrayValue ?? []).map { l in
                                 [l["letter_id"]?.cell ?? "-", l["customer_id"]?.cell ?? "-", l["level"]?.cell ?? "-", l["action"]?.cell ?? "-",
                                  (l["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ","), l["total"]?.cell ?? "-"]
                             }).render()
                for call in r["calls"]?.arrayValue ?? [] {
                    out += "\ncall: customer \(call["customer_id"]?.cell ?? "?") (level \(call["level"]?.cell ?? "?")), \(call["open_amount"]?.cell ?? "?") open"
                        + (call["task_id"].flatMap { $0.isNull ? nil : " — task \($0.cell)" } ?? "")
                }
                for hold in r["holds"]?.arrayValue ?? [] { out += "\nhold: customer \(hold["customer_id"]?.cell ?? "?")" }
                for referral in r["referrals"]?.arrayValue ?? [] {
                    out += "\nreferral suggested: customer \(referral["customer_id"]?.cell ?? "?"), \(referral["open_amount"]?.cell ?? "?") open"
                }
                for skip in r["skipped"]?.arrayValue ?? [] {
                    out += "\nskipped: invoice \(skip["invoice_id"]?.cell ?? "?") (level \(skip["level"]?.cell ?? "?")): \(skip["reason"]?.cell ?? "?")"
                }
                let listed = r["skipped"]?.arrayValue?.count ?? 0, total = r["skipped_total"]?.intValue ?? listed
                if total > listed { out += "\n… and \(total - listed) more skipped" }
                for plan in r["plans_defaulted"]?.arrayValue ?? [] { out += "\nplan #\(plan.cell) defaulted" }
                return out
            }
        }
    }
}
