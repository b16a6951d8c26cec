import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai training courses|add-course|record|records|compliance`.
struct Training: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Staff training records.",
                                                    subcommands: [TrainingCourses.self, TrainingAddCourse.self, TrainingRecord.self, TrainingRecords.self, TrainingCompliance.self])
}

struct TrainingCourses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "courses", abstract: "Courses.")
    @OptionGroup var options: ClientOptions
    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("training.courses.list")) { r in
                Table(headers: ["CODE", "TITLE", "TOPIC", "REQUIRED FOR", "VALID (MONTHS)"],
                      rows: (r["courses"]?.arrayValue ?? []).map { c in
                          [c["code"]?.cell ?? "-", c["title"]?.cell ?? "-", c["topic"]?.cell ?? "-",
                           (c["required_for_roles"]?.arrayValue ?? []).map(\.cell).joined(separator: ","), c["validity_months"]?.cell ?? "-"]
                      }).render()
            }
        }
    }
}

struct TrainingAddCourse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-course", abstract: "Add a course (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Code.") var code: String
    @Argument(help: "Title.") var title: String
    @Option(help: "risk_assessment, collections, communication, legal, systems or other.") var topic: String
    @Option(help: "Roles that must have it, comma-separated (admin, manager, clerk).") var requiredFor: String?
    @Option(help: "Months a completion counts.") var validityMonths: Int?

    func run() async throws {
        var params: JSONObject = ["code": .string(code), "title": .string(title), "topic": .string(topic)]
        if let requiredFor { params["required_for_roles"] = .array(requiredFor.split(separator: ",").map { .string(String($0)) }) }
        if let validityMonths { params["validity_months"] = .int(validityMonths) }
        try await options.run { connection in
            options.show(try await connection.call("training.courses.create", params)) { "course \($0["code"]?.cell ?? "?") added" }
        }
    }
}

struct TrainingRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Record a completed course (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "User id.") var user: Int
    @Argument(help: "Course code.") var course: String
    @Option(help: "Completed on YYYY-MM-DD.") var completedOn: String
    @Option(help: "Score, 0–100.") var score: String?
    @Option(help: "Trainer.") var trainer: String?
    @Option(help: "Certificate reference.") var certificate: String?

    func run() async throws {
        var params: JSONObject = ["user_id": .int(user), "course_code": .string(course), "completed_on": .string(completedOn)]
        if let score { params["score"] = .string(score) }
        if let trainer { params["trainer"] = .string(trainer) }
        if let certificate { params["certificate_ref"] = .string(certificate) }
        try await options.run { connection in
            options.show(try await connection.call("training.records.add", params)) { r in
                "recorded \(r["course_code"]?.cell ?? "?") for \(r["username"]?.cell ?? "?"), valid until \(r["expires_on"]?.cell ?? "no expiry")"
            }
        }
    }
}

struct TrainingRecords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "records", abstract: "Training records (your own, or --user for a manager).")
    @OptionGroup var options: ClientOptions
    @Option(help: "User id.") var user: Int?
    func run() async throws {
        var params: JSONObject = [:]
        if let user { params["user_id"] = .int(user) }
        try await options.run { connection in
            options.show(try await connection.call("training.records.list", params)) { r in
                Table(headers: ["USER", "COURSE", "COMPLETED", "EXPIRES", "SCORE", "TRAINER"],
                      rows: (r["records"]?.arrayValue ?? []).map { x in ["username", "course_code", "completed_on", "expires_on", "score", "trainer"].map { x[$0]?.cell ?? "-" } })
                    .render()
            }
        }
    }
}

struct TrainingCompliance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compliance", abstract: "Who is missing, expired or expiring, and the team's rate.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD.") var asOf: String?
    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("training.compliance", params)) { r in
                var rows: [[String]] = []
                for user in r["users"]?.arrayValue ?? [] {
                    for course in user["courses"]?.arrayValue ?? [] {
                        rows.append([user["username"]?.cell ?? "-", user["role"]?.cell ?? "-", course["code"]?.cell ?? "-", course["status"]?.cell ?? "-",
                                     course["expires_on"]?.cell ?? "-"])
                    }
                }
                return Table(headers: ["USER", "ROLE", "COURSE", "STATUS", "EXPIRES"], rows: rows).render()
                    + "\ncompliance rate: \(r["compliance_rate"]?.cell ?? "-")%"
            }
        }
    }
}

/// `ashrai kpis [--from] [--to]`, `ashrai kpis trend --months N`.
struct KPIs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kpis", abstract: "Receivables KPIs for a period (default: the last 90 days).",
                                                    subcommands: [KPIsShow.self, KPIsTrend.self], defaultSubcommand: KPIsShow.self)
}

let kpiNames: [(String, String)] = [
    ("dso_simple", "DSO (simple), days"), ("dso_countback", "DSO (countback), days"), ("best_possible_dso", "best-possible DSO, days"),
    ("average_days_delinquent", "average days delinquent"), ("cei", "CEI, %"), ("bad_debt_ratio", "bad-debt ratio, %"),
    ("at_risk_rate", "at risk (90+), %"), ("promises_kept_rate", "promises kept, %"), ("dispute_rate", "dispute rate, %"),
    ("average_days_to_pay", "average days to pay"),
]

struct KPIsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The KPIs of one period.")
    @OptionGroup var options: ClientOptions
    @Option(help: "From YYYY-MM-DD.") var from: String?
    @Option(help: "To YYYY-MM-DD (default today).") var to: String?

    func run() async throws {
        try await options.run { connection in
            var params: JSONObject = [:]
            if let from, let to { params = ["from": .string(from), "to": .string(to)] } else {
                let today = try await connection.call("server.ping")["database_time"]?.stringValue?.prefix(10).description ?? ""
                let end = to ?? today
                let start = from ?? ISO8601DateFormatter().date(from: end + "T00:00:00Z").map {
                    String(ISO8601DateFormatter().string(from: $0.addingTimeInterval(-89 * 86_400)).prefix(10)) } ?? end
                params = ["from": .string(start), "to": .string(end)]
            }
            options.show(try await connection.call("reports.kpis", params)) { r in
                let figures = r["figures"] ?? .null
                return "\(r["from"]?.cell ?? "") … \(r["to"]?.cell ?? "") (\(r["days"]?.cell ?? "?") days)\n"
                    + Table(headers: ["KPI", "VALUE"], rows: kpiNames.map { [$0.1, r["kpis"]?[$0.0]?.cell ?? "-"] }).render() + "\n"
                    + Table(headers: ["FIGURE", "VALUE"], rows: (figures.objectValue?.keys ?? []).map { [$0, figures[$0]?.cell ?? "-"] }).render()
            }
        }
    }
}

struct KPIsTrend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trend", abstract: "A KPI month by month, drawn as bars.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Months back (1–36).") var months: Int = 12
    @Option(help: "Which KPI: dso_simple, dso_countback, cei, bad_debt_ratio, at_risk_rate, average_days_to_pay, …") var kpi: String = "dso_simple"

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("reports.kpis_trend", ["months": .int(months)])) { r in
                let rows = (r["months"]?.arrayValue ?? []).map { ($0["month"]?.stringValue ?? "?", Double($0["kpis"]?[kpi]?.stringValue ?? "")) }
                let top = max(rows.compactMap(\.1).max() ?? 0, 1)
                return "\(kpi)\n" + rows.map { month, value in
                    guard let value else { return "\(month)  -" }
                    let bar = String(repeating: "█", count: Int((value / top * 40).rounded()))
                    return "\(month)  \(bar) \(String(format: "%.1f", value))"
                }.joined(separator: "\n")
            }
        }
    }
}

/// `ashrai review`.
struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The periodic audit of the credit process: what needs attention.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD.") var asOf: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("reports.review", params)) { r in
                func section(_ title: String, _ key: String, _ fields: [String]) -> String {
                    let items = r[key]?.arrayValue ?? []
                    return "\(title): \(items.count)" + (items.isEmpty ? "" : "\n" + Table(headers: fields.map { $0.uppercased() },
                                                                                           rows: items.map { i in fields.map { i[$0]?.cell ?? "-" } }).render())
                }
                return [
                    section("reviews overdue", "reviews_overdue", ["customer_id", "name", "next_review_on"]),
                    section("over the limit by override", "over_limit_by_override", ["customer_id", "name", "exposure", "credit_limit"]),
                    section("holds older than \(r["holds_older_than_days"]?.cell ?? "?") days", "old_holds", ["customer_id", "name", "on_hold_since"]),
                    section("broken promises without follow-up", "broken_promises_without_follow_up", ["customer_name", "amount", "due_on"]),
                    section("invoices 90+ days late, no contact in 14 days", "invoices_90_plus_without_contact_in_14_days",
                            ["number", "name", "days_overdue", "open_amount"]),
                    section("agencies", "agencies", ["name", "assigned", "collected", "recovery_rate"]),
                    section("staff missing required training", "staff_missing_training", ["username", "course", "status"]),
                ].joined(separator: "\n\n")
            }
        }
    }
}
