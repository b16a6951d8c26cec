import AshraiClient
import AshraiProtocol
import ArgumentParser

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
