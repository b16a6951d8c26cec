import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation
import Glibc

/// `ashrai import customers|invoices|payments FILE.csv`, and `ashrai import template KIND`.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a CSV (header row mapped by name): customers, invoices or payments. Bad rows are reported by line; good rows are kept unless --atomic.",
        discussion: columnsHelp,
        subcommands: [ImportFile.self, ImportTemplate.self],
        defaultSubcommand: ImportFile.self)

    /// The columns of each kind, for `--help` (of `import` and of its default subcommand).
    static let columnsHelp = """
            Columns (any order; empty cells are left out; `ashrai import template KIND` writes the header row):
              customers: \(ImportFile.columns[.customers]!.joined(separator: ", "))
                (the terms columns make terms version 1 with reason "import": a manager's or admin's import;
                 terms_basis is net or end_of_month — שוטף + net_days)
              invoices:  \(ImportFile.columns[.invoices]!.joined(separator: ", "))
                (paid_amount only with --opening: existing debts, no credit decision, a manager's or admin's)
              payments:  \(ImportFile.columns[.payments]!.joined(separator: ", "))
                (method: card, bank_transfer, cheque, cash, digital; a cheque's columns make it post-dated — held
                 until value_date — when that date is still to come: the stack of שיקים דחויים brought in)
            Dates are YYYY-MM-DD, amounts decimal numbers with a dot (1250.00), rates percent (12.5).
            """

    enum Kind: String, ExpressibleByArgument, CaseIterable { case customers, invoices, payments }
}
