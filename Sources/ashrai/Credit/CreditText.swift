import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func assessmentText(_ a: JSONValue) -> String {
    var text = "score \(a["score"]?.cell ?? "?")/100, grade \(a["grade"]?.cell ?? "?")"
    if let z = a["z_score"], z != .null { text += ", Altman Z'' \(z.cell) (\(a["z_zone"]?.cell ?? "?"))" }
    text += "; suggested limit \(a["suggested_terms"]?["credit_limit"]?.cell ?? "?"), net \(a["suggested_terms"]?["net_days"]?.cell ?? "?") days\n"
    text += Table(headers: ["FACTOR", "VALUE", "POINTS", "WHY"],
                  rows: (a["reasons"]?.arrayValue ?? []).map { r in ["factor", "value", "points", "note"].map { r[$0]?.cell ?? "-" } }).render()
    return text
}

func termsTable(_ versions: [JSONValue]) -> String {
    Table(headers: ["VER", "LIMIT", "CUR", "TERMS", "INTEREST %", "DISCOUNT", "SET BY", "AT", "REASON"],
          rows: versions.map { t in
              [t["version"]?.cell ?? "-", t["credit_limit"]?.cell ?? "-", t["currency"]?.cell ?? "-", t["description"]?.cell ?? t["net_days"]?.cell ?? "-",
               t["late_interest_rate"]?.cell ?? "-",
               t["early_discount_rate"] == .null || t["early_discount_rate"] == nil ? "-" : "\(t["early_discount_rate"]!.cell)%/\(t["early_discount_days"]?.cell ?? "?")d",
               t["set_by"]?.cell ?? "-", t["set_at"]?.cell ?? "-", t["reason"]?.cell ?? "-"]
          }).render()
}
