import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func planText(_ p: JSONValue) -> String {
    var out = "plan #\(p["id"]?.cell ?? "?") for customer \(p["customer_id"]?.cell ?? "?"): \(p["status"]?.cell ?? "?"), total \(p["total"]?.cell ?? "?")"
    out += " (principal \(p["principal"]?.cell ?? "?"), interest \(p["interest_amount"]?.cell ?? "?")), paid \(p["paid"]?.cell ?? "0.00"), remaining \(p["remaining"]?.cell ?? "?")\n"
    if p["agreed_on"] != .null { out += "agreed \(p["agreed_on"]?.cell ?? "") (\(p["agreement_ref"]?.cell ?? "")), signed by \(p["signed_by"]?.cell ?? "")\n" }
    out += Table(headers: ["#", "DUE", "AMOUNT", "PAID"],
                 rows: (p["schedule"]?.arrayValue ?? []).map { i in [i["seq"]?.cell ?? "-", i["due_on"]?.cell ?? "-", i["amount"]?.cell ?? "-", i["paid"]?.cell ?? "-"] })
        .render()
    return out
}
