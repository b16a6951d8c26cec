import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

func paymentText(_ result: JSONValue) -> String {
    if result["payment"] == .null, let cheque = result["cheque"] {
        return "cheque in hand until its value date (not money yet):\n\n" + chequeTable(cheque)
    }
    let p = result["payment"] ?? .null
    var text = Table(headers: ["ID", "CUSTOMER", "RECEIVED", "AMOUNT", "CUR", "METHOD", "UNAPPLIED", "STATUS"],
                     rows: [["id", "customer_id", "received_on", "amount", "currency", "method", "unapplied", "status"].map { p[$0]?.cell ?? "-" }]).render()
    let lines = result["allocations"]?.arrayValue ?? []
    if !lines.isEmpty {
        text += "\n\n" + Table(headers: ["INVOICE", "APPLIED", "DISCOUNT", "ON", "REVERSED"],
                              rows: lines.map { a in ["invoice_id", "amount", "discount", "applied_on", "reversed"].map { a[$0]?.cell ?? "-" } }).render()
    }
    return text
}

/// `INVOICE=AMOUNT` pairs as allocation lines.
func allocationParams(_ pairs: [String]) throws -> JSONValue? {
    guard !pairs.isEmpty else { return nil }
    return .array(try pairs.map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let invoice = Int(parts[0]) else { throw ValidationError("--allocate takes INVOICE_ID=AMOUNT, e.g. 17=250.00") }
        return ["invoice_id": .int(invoice), "amount": .string(String(parts[1]))]
    })
}
