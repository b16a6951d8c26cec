import AshraiClient
import AshraiProtocol
import ArgumentParser

func holdTable(_ holds: [JSONValue]) -> String {
    Table(headers: ["ID", "CUSTOMER", "ACTIVE", "PLACED", "BY", "REASON", "RELEASED", "RELEASE REASON"],
          rows: holds.map { h in ["id", "customer_id", "active", "placed_at", "placed_by", "reason", "released_at", "release_reason"].map { h[$0]?.cell ?? "-" } }).render()
}
