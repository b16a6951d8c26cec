import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

let kpiNames: [(String, String)] = [

    ("dso_simple", "DSO (simple), days"), ("dso_countback", "DSO (countback), days"), ("best_possible_dso", "best-possible DSO, days"),

    ("average_days_delinquent", "average days delinquent"), ("cei", "CEI, %"), ("bad_debt_ratio", "bad-debt ratio, %"),

    ("at_risk_rate", "at risk (90+), %"), ("promises_kept_rate", "promises kept, %"), ("dispute_rate", "dispute rate, %"),

    ("average_days_to_pay", "average days to pay"),

]
