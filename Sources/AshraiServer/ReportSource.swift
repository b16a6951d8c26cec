import AshraiProtocol
import Foundation
import Logging
import Postgres

/// Where a report's rows were read: the primary, or a streaming replica whose data is as of `asOf`.
public struct DataSource: Sendable, Equatable {
    /// Whether a replica answered.
    public var replica: Bool
    /// The instant the data is as of: now for the primary (and a replica that has replayed as far as the primary's
    /// WAL position read just before), else the replica's last replayed commit.
    public var asOf: Date

    /// The reply fields every report carries: `data_as_of` and `data_source`.
    func stamp(_ reply: JSONValue) -> JSONValue {
        guard case .object(var object) = reply else { return reply }
        object["data_as_of"] = .string(rfc3339(asOf))
        object["data_source"] = .string(replica ? "replica" : "primary")
        return .object(object)
    }
}

extension Services {
    /// Reads for a report — aging, KPIs and their trend, collectors, the review report, the forecast, statements —
    /// on the streaming replica when one is configured, reachable and no more than `replicaMaxLag` behind;
    /// otherwise on the primary, as `read` does. Writes, and every decision that must see the latest data (the
    /// credit check, allocation, dunning), never come here.
    ///
    /// The session check writes (`last_seen_at`), so a replica cannot make it: with a replica, the primary checks the
    /// session first, on its own, and says how far its WAL has got. On the replica, the freshness check goes with the
    /// `BEGIN` and the settings, in one round trip with the report's first statement.
    public func report<Result>(_ context: CallContext, _ body: (PostgresConnection) async throws -> Result) async throws -> (Result, DataSource) {
        if let replica = replicaDatabase, !context.isSystem {
            if let check = context.sessionCheck, check.isPending { try await check.runAlone(self) }
            let primary = try await database.query(ReplicaFreshness.primaryPosition).scalar(String.self)
            do {
                var asOf = Date()
                let result = try await replica.withTransaction(
                    isolation: .repeatableRead, readOnly: true, prelude: [sessionSettings(context)], commitInBackground: true
                ) { tx in
                    asOf = try await ReplicaFreshness.check(on: tx, primary: primary, maxLag: settings.replicaMaxLag)
                    return try await body(tx)
                }
                return (result, DataSource(replica: true, asOf: asOf))
            } catch let behind as ReplicaFreshness.Behind {
                context.logger.info("replica too far behind; report read on the primary", metadata: ["replica.lag": "\(behind.description)"])
            } catch let error as PostgresError where Dispatcher.isUnavailable(error) {
                context.logger.warning("replica unavailable; report read on the primary", metadata: ["error": "\(error.message)"])
            }
        }
        let result = try await read(context, body)
        return (result, DataSource(replica: false, asOf: now()))
    }

    /// `report` for a handler whose reply is built in the read: the reply with `data_as_of` and `data_source`.
    public func reportReply(_ context: CallContext, _ body: (PostgresConnection) async throws -> JSONValue) async throws -> JSONValue {
        let (reply, source) = try await report(context, body)
        return source.stamp(reply)
    }
}

/// How far behind its primary a streaming replica is.
enum ReplicaFreshness {
    struct Behind: Error, CustomStringConvertible {
        /// Seconds behind, or nil when unknown (nothing replayed since it started, and not caught up).
        let seconds: Double?
        var description: String { seconds.map { String(format: "%.1f s", $0) } ?? "unknown" }
    }

    /// How far the primary's WAL has got (callable by any role, unlike `pg_stat_wal_receiver`'s status).
    static let primaryPosition: PostgresQuery = "SELECT pg_current_wal_lsn()::text"

    /// A server that is not in recovery is current (a promoted replica). A standby that has replayed the primary's
    /// position read just before has everything committed until then; otherwise its data is as of its last replayed
    /// commit (a standby that lost its primary replays nothing more, and falls behind by the clock).
    static func query(primary: String) -> PostgresQuery {
        """
        SELECT now() AS now,
               CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= \(primary)::pg_lsn THEN now()
                    ELSE pg_last_xact_replay_timestamp()
               END AS as_of
        """
    }

    /// The instant the replica's data is as of; throws `Behind` past `maxLag`.
    static func check(on connection: PostgresConnection, primary: String, maxLag: Duration) async throws -> Date {
        let row = try await connection.query(query(primary: primary))[0]
        let now = try row.decode(Date.self, column: "now")
        guard let asOf = try row.decode(Date?.self, column: "as_of") else { throw Behind(seconds: nil) }
        let lag = max(0, now.timeIntervalSince(asOf))
        guard lag <= TimeInterval(maxLag.components.seconds) else { throw Behind(seconds: lag) }
        return asOf
    }
}
