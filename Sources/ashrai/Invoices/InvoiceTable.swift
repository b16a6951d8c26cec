import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func invoiceTable(_ invoices: [JSONValue]) -> String {
    Table(headers: ["ID", "NUMBER", "CUSTOMER", "ISSUED", "DUE", "AMOUNT", "OPEN", "CUR", "STATUS"],
          rows: invoices.map { i in ["id", "number", "customer_id", "issue_date", "due_date", "amount", "open_amount", "currency", "status"].map { i[$0]?.cell ?? "-" } }).render()
}
