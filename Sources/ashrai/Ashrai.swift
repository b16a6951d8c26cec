import ArgumentParser

/// `ashrai`: the staff command-line client.
@main
struct Ashrai: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ashrai",
        abstract: "Ashrai staff client: talks JSON-RPC to ashraid.",
        discussion: """
            The server is --server, else ASHRAI_SERVER, else `server = host:port` in \
            ~/.config/ashrai/config, else 127.0.0.1:7420. After `ashrai login` the session token \
            is kept in ~/.config/ashrai/session (mode 0600) and resumed by every command.
            Exit codes: 0 ok, 1 other error, 3 cannot reach the server, 4 not logged in, \
            5 forbidden, 6 not found, 7 conflict, 8 business rule, 9 locked or rate limited, \
            10 server unavailable, 11 invalid request or params, 64 bad command line.
            """,
        version: "0.1.0",
        subcommands: [Login.self, Logout.self, Whoami.self, Ping.self, Customers.self, Contacts.self, Credit.self, Holds.self, Reviews.self, Invoices.self, Payments.self, Aging.self, ForecastCommand.self, Statement.self, Writeoffs.self, Import.self, Export.self, Log.self, Interactions.self, Promises.self, Disputes.self, DunningCommand.self, Letters.self, Outbox.self, Bank.self, Cheques.self, Tasks.self, Today.self, Contact.self, Plans.self, Agencies.self, Assign.self, Assignments.self, Training.self, KPIs.self, Review.self, Users.self, AuditCommand.self, Watch.self, Call.self]
    )
}
