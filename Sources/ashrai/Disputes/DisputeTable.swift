import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func disputeTable(_ items: [JSONValue]) -> String {
    Table(headers: ["ID", "INVOICE", "CUSTOMER", "STATUS", "AMOUNT", "OPENED", "REASON", "RESOLUTION", "CREDIT"],
          rows: items.map { d in ["id", "invoice_id", "customer_id", "status", "amount", "opened_on", "reason", "resolution", "credit_amount"].map { d[$0]?.cell ?? "-" } })
        .render()
}
