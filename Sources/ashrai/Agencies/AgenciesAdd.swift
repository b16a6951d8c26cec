import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

struct AgenciesAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Record an agency (admin).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Name.") var name: String
    @Option(help: "Commission, percent of what it collects.") var commission: String
    @Option(help: "Registration number.") var registration: String?
    @Option(help: "Contact person.") var contact: String?
    @Option(help: "E-mail.") var email: String?
    @Option(help: "Phone.") var phone: String?
    @Option(help: "Fees agreed besides the commission.") var feeTerms: String?
    @Flag(help: "Licensed to collect debts.") var licensed = false
    @Option(help: "Your rating, 1–5.") var rating: Int?

    func run() async throws {
        var params: JSONObject = ["name": .string(name), "commission_rate": .string(commission), "licensed": .bool(licensed)]
        if let registration { params["registration_no"] = .string(registration) }
        if let contact { params["contact_name"] = .string(contact) }
        if let email { params["email"] = .string(email) }
        if let phone { params["phone"] = .string(phone) }
        if let feeTerms { params["fee_terms"] = .string(feeTerms) }
        if let rating { params["rating"] = .int(rating) }
        try await options.run { connection in options.show(try await connection.call("agencies.create", params)) { agencyTable([$0]) } }
    }
}
