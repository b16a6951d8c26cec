import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai bank import|list|profiles`.
struct Bank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Money in from the bank: import statements (camt.053, MT940, a bank's CSV export) and see their lines.",
        subcommands: [BankImport.self, BankList.self, BankUnmatched.self, BankMatch.self, BankReverse.self, BankIgnore.self, BankProfilesList.self], defaultSubcommand: BankList.self)
}

/// One line per bank transaction.
func bankTable(_ lines: [JSONValue]) -> String {
    Table(headers: ["ID", "DATE", "AMOUNT", "FROM/TO", "TEXT", "REF", "STATUS"],
          rows: lines.map { t in
              ["id", "booking_date", "amount", "counterparty_name", "remittance", "bank_reference", "status"].map { t[$0]?.cell ?? "-" }
          }).render()
}
