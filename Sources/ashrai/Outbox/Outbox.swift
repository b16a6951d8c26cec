import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation

/// `ashrai outbox [list]|show|retry|cancel`.
struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Messages on their way to customers: what was sent, what waits, what failed.",
        subcommands: [OutboxList.self, OutboxShow.self, OutboxRetry.self, OutboxCancel.self], defaultSubcommand: OutboxList.self)
}

/// One line per message.
func outboxTable(_ messages: [JSONValue]) -> String {
    Table(headers: ["ID", "CUSTOMER", "LETTER", "CHANNEL", "TO", "STATE", "TRIES", "SENT", "PROBLEM"],
          rows: messages.map { m in
              ["id", "customer_id", "letter_id", "channel", "recipient", "state", "attempts", "sent_at"].map { m[$0]?.cell ?? "-" }
                  + [m["last_error"]?.cell ?? m["cancel_reason"]?.cell ?? "-"]
          }).render()
}
