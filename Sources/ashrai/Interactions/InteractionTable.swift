import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func interactionTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "WHEN", "KIND", "BY", "SUMMARY", "OUTCOME", "INVOICES", "PROMISE"],
          rows: items.map { x in
              [x["id"]?.cell ?? "-", x["occurred_at"]?.cell ?? "-", x["kind"]?.cell ?? "-", x["created_by"]?.cell ?? "-",
               x["summary"]?.cell ?? "-", x["outcome"]?.cell ?? "-",
               (x["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ","), x["promise_id"]?.cell ?? "-"]
          }).render()
}
