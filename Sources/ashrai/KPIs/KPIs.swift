import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai kpis [--from] [--to]`, `ashrai kpis trend --months N`.
struct KPIs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kpis", abstract: "Receivables KPIs for a period (default: the last 90 days).",
                                                    subcommands: [KPIsShow.self, KPIsTrend.self], defaultSubcommand: KPIsShow.self)
}
