import AshraiCore
import Foundation
import SWXMLHash

/// ISO 20022 camt.053 (bank-to-customer statement), read with SWXMLHash (Foundation's XMLParser,
/// external entities off) with namespaces stripped, so versions .001.02 to .001.08 read alike:
/// `Document/BkToCstmrStmt/Stmt` per account, an `Ntry` per booked line, its `TxDtls` for the
/// parties and remittance (one line per `TxDtls` when an entry batches several, with their own
/// amounts). Only booked entries (`Sts` BOOK) are lines; pending ones are left for a later statement.
enum Camt053 {
    /// The largest document the XML parser takes in one piece (libxml2's limit without XML_PARSE_HUGE).
    static let maxBytes = 10_000_000

    static func parse(_ data: Data) throws(BankFormatError) -> [BankLine] {
        let xml = XMLHash.config { options in
            options.shouldProcessNamespaces = true
            options.detectParsingErrors = true
        }.parse(data)
        if case .parsingError(let error) = xml {
            throw BankFormatError("line \(error.line), column \(error.column)", "the XML does not parse")
        }
        let root = xml["Document"]
        guard root.element != nil else { throw BankFormatError("the root element", "not an ISO 20022 Document") }
        let statements = root["BkToCstmrStmt"]["Stmt"].all
        guard root["BkToCstmrStmt"].element != nil else {
            throw BankFormatError("Document", "no BkToCstmrStmt: not a camt.053 bank-to-customer statement")
        }
        var lines: [BankLine] = []
        for (statementIndex, statement) in statements.enumerated() {
            let statementPath = "Stmt[\(statementIndex + 1)]"
            let accountID = statement["Acct"]["Id"]
            guard let account = text(accountID["IBAN"]) ?? text(accountID["Othr"]["Id"]) else {
                throw BankFormatError("\(statementPath)/Acct", "the statement names no account (Id/IBAN or Id/Othr/Id)")
            }
            let statementCurrency = text(statement["Acct"]["Ccy"])
            for (entryIndex, entry) in statement["Ntry"].all.enumerated() {
                let path = "\(statementPath)/Ntry[\(entryIndex + 1)]"
                let status = text(entry["Sts"]["Cd"]) ?? text(entry["Sts"])
                guard status == nil || status == "BOOK" else { continue }
                guard let amountText = text(entry["Amt"]), let amount = BankText.amount(amountText), amount > 0 else {
                    throw BankFormatError("\(path)/Amt", "the amount is missing or not a positive amount")
                }
                guard let indicator = text(entry["CdtDbtInd"]), indicator == "CRDT" || indicator == "DBIT" else {
                    throw BankFormatError("\(path)/CdtDbtInd", "must be CRDT or DBIT")
                }
                let reversal = text(entry["RvslInd"]) == "true"
                let credit = (indicator == "CRDT") != reversal
                let currency = entry["Amt"].element?.attribute(by: "Ccy")?.text ?? statementCurrency ?? "ILS"
                guard let bookingDay = day(entry["BookgDt"]) else {
                    throw BankFormatError("\(path)/BookgDt", "the booking date is missing or not a date")
                }
                let valueDay = day(entry["ValDt"])
                let entryReference = text(entry["AcctSvcrRef"])
                let details = entry["NtryDtls"].all.flatMap { $0["TxDtls"].all }
                if details.isEmpty {
                    lines.append(BankLine(account: account, bookingDay: bookingDay, valueDay: valueDay, amount: credit ? amount : -amount,
                                          currency: currency, remittance: text(entry["AddtlNtryInf"]), bankReference: entryReference, location: path))
                    continue
                }
                for (detailIndex, detail) in details.enumerated() {
                    let detailPath = details.count > 1 ? "\(path)/TxDtls[\(detailIndex + 1)]" : path
                    // The detail's own amount when the entry batches several (Amt, or AmtDtls/TxAmt/Amt).
                    var detailAmount = amount
                    if details.count > 1 {
                        guard let text = text(detail["Amt"]) ?? text(detail["AmtDtls"]["TxAmt"]["Amt"]), let value = BankText.amount(text), value > 0 else {
                            throw BankFormatError("\(detailPath)/Amt", "a batched entry's transaction needs its own amount")
                        }
                        detailAmount = value
                    }
                    // The other party: the debtor of a credit, the creditor of a debit.
                    let partyRole = credit ? "Dbtr" : "Cdtr"
                    let parties = detail["RltdPties"]
                    let name = text(parties[partyRole]["Nm"]) ?? text(parties[partyRole]["Pty"]["Nm"])
                    let accountNode = parties[partyRole + "Acct"]["Id"]
                    let counterpartyAccount = text(accountNode["IBAN"]) ?? text(accountNode["Othr"]["Id"])
                    let unstructured = detail["RmtInf"]["Ustrd"].all.compactMap { text($0) }
                    let structured = detail["RmtInf"]["Strd"].all.compactMap { text($0["CdtrRefInf"]["Ref"]) }
                    let remittance = (unstructured + structured).joined(separator: " ")
                    let reference = text(detail["Refs"]["AcctSvcrRef"]) ?? (details.count == 1 ? entryReference : nil)
                        ?? entryReference.map { "\($0)/\(detailIndex + 1)" }
                    lines.append(BankLine(account: account, bookingDay: bookingDay, valueDay: valueDay, amount: credit ? detailAmount : -detailAmount,
                                          currency: currency, counterpartyName: name, counterpartyAccount: counterpartyAccount,
                                          remittance: remittance.isEmpty ? text(entry["AddtlNtryInf"]) : String(remittance.prefix(500)),
                                          bankReference: reference, location: detailPath))
                }
            }
        }
        return lines
    }

    /// An element's trimmed text, nil when absent or empty.
    static func text(_ node: XMLIndexer) -> String? {
        guard let element = node.element else { return nil }
        let value = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : String(value.prefix(1000))
    }

    /// `Dt` (YYYY-MM-DD) or `DtTm` (its date part) under a date element.
    static func day(_ node: XMLIndexer) -> Int? {
        guard let value = text(node["Dt"]) ?? text(node["DtTm"]).map({ String($0.prefix(10)) }) else { return nil }
        return BankText.day(value, format: "yyyy-MM-dd")
    }
}
