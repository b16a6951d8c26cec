import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func agencyTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "NAME", "COMMISSION %", "LICENSED", "RATING", "ACTIVE", "OPEN ASSIGNMENTS", "CONTACT", "PHONE"],
          rows: items.map { a in ["id", "name", "commission_rate", "licensed", "rating", "active", "open_assignments", "contact_name", "phone"].map { a[$0]?.cell ?? "-" } })
        .render()
}

func assignmentTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "AGENCY", "CUSTOMER", "STATUS", "NOTIFIED", "ASSIGNED", "OPEN", "COLLECTED", "COMMISSION", "INVOICES"],
          rows: items.map { s in
              ["id", "agency_name", "customer_name", "status", "customer_notified_on", "assigned_amount", "open_amount", "collected", "commission"].map { s[$0]?.cell ?? "-" }
                  + [(s["invoice_ids"]?.arrayValue ?? []).map(\.cell).joined(separator: ",")]
          }).render()
}
