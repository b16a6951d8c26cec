import AshraiClient
import AshraiProtocol
import ArgumentParser

/// `ashrai holds …`.
struct Holds: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Credit hold: stop supplying on credit — a last step after contact and mediation.",
        subcommands: [HoldsPlace.self, HoldsRelease.self, HoldsList.self])
}

func holdTable(_ holds: [JSONValue]) -> String {
    Table(headers: ["ID", "CUSTOMER", "ACTIVE", "PLACED", "BY", "REASON", "RELEASED", "RELEASE REASON"],
          rows: holds.map { h in ["id", "customer_id", "active", "placed_at", "placed_by", "reason", "released_at", "release_reason"].map { h[$0]?.cell ?? "-" } }).render()
}

struct HoldsPlace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "place", abstract: "Place a hold (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Why.") var reason: String
    @Option(help: "The logged conversation that preceded the hold.") var interaction: Int?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "reason": .string(reason)]
        if let interaction { params["interaction_id"] = .int(interaction) }
        try await options.run { connection in
            options.show(try await connection.call("holds.place", params)) { holdTable([$0]) }
        }
    }
}

struct HoldsRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release the active hold (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "Why.") var reason: String

    func run() async throws {
        try await options.run { connection in
            options.show(try await connection.call("holds.release", ["customer_id": .int(customer), "reason": .string(reason)])) { holdTable([$0]) }
        }
    }
}

struct HoldsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Holds, newest first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this customer.") var customer: Int?
    @Flag(help: "Only active holds.") var active = false

    func run() async throws {
        var params: JSONObject = [:]
        if let customer { params["customer_id"] = .int(customer) }
        if active { params["active"] = true }
        try await options.run { connection in
            options.show(try await connection.call("holds.list", params)) { holdTable($0["holds"]?.arrayValue ?? []) }
        }
    }
}

/// `ashrai reviews …`.
struct Reviews: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Periodic credit reviews.", subcommands: [ReviewsDue.self, ReviewsRecord.self])
}

struct ReviewsDue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "due", abstract: "Customers whose review is due or overdue, worst first.")
    @OptionGroup var options: ClientOptions
    @Option(help: "As of YYYY-MM-DD (default today).") var asOf: String?

    func run() async throws {
        var params: JSONObject = [:]
        if let asOf { params["as_of"] = .string(asOf) }
        try await options.run { connection in
            options.show(try await connection.call("reviews.due", params)) { result in
                Table(headers: ["ID", "NAME", "GRADE", "STATUS", "DUE", "DAYS OVERDUE"],
                      rows: (result["due"]?.arrayValue ?? []).map { d in
                          let c = d["customer"] ?? .null
                          return [c["id"]?.cell ?? "-", c["name"]?.cell ?? "-", c["grade"]?.cell ?? "-", c["status"]?.cell ?? "-",
                                  c["next_review_on"]?.cell ?? "-", d["days_overdue"]?.cell ?? "-"]
                      }).render()
            }
        }
    }
}

struct ReviewsRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Record a review (manager).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Customer id.") var customer: Int
    @Option(help: "What was found.") var findings: String
    @Option(help: "What was decided.") var decision: String
    @Option(help: "Next review YYYY-MM-DD (default: by grade).") var next: String?

    func run() async throws {
        var params: JSONObject = ["customer_id": .int(customer), "findings": .string(findings), "decision": .string(decision)]
        if let next { params["next_review_on"] = .string(next) }
        try await options.run { connection in
            options.show(try await connection.call("reviews.record", params)) { r in
                "review recorded; next review on \(r["next_review_on"]?.cell ?? "?")"
            }
        }
    }
}
