import AshraiProtocol
import Foundation
import Postgres

/// Idempotency keys for writes that move money (Stripe's model).
///
/// The key is claimed by an `INSERT … ON CONFLICT DO NOTHING` inside the caller's transaction.
/// A concurrent request with the same key blocks on the primary key until the first commits
/// (then it finds the stored response) or rolls back (then it claims the key itself), so
/// concurrent replays produce exactly one write. Keys are kept at least 30 days.
enum Idempotency {
    /// What to do with a request carrying a key.
    enum Claim {
        /// First time: do the work, then `store` the response in the row claimed (its `ctid`).
        case claimed(row: String)
        /// Seen before with the same params: answer this.
        case replay(Result<JSONValue, RPCFailure>)
    }

    /// Runs `work` under `key` (or plainly, without one) inside the caller's transaction, and
    /// returns its outcome for the caller to return or throw *after* the transaction commits:
    /// once execution began, a refusal is stored with the key like a success (the work itself
    /// rolled back to a savepoint), so a replay — after a crash, a timeout — gets the same
    /// answer and never a second, different outcome (Stripe's rule). Database failures are not
    /// stored: the whole transaction rolls back and the key with it.
    static func perform(method: String, key: String?, params: Params, context: CallContext, on tx: PostgresConnection,
                        _ work: () async throws -> JSONValue) async throws -> Result<JSONValue, RPCFailure> {
        guard let key else { return .success(try await work()) }
        let row: String
        switch try await claim(method: method, key: key, params: params, context: context, on: tx) {
        case .replay(let outcome): return outcome
        case .claimed(let claimed): row = claimed
        }
        try await tx.query("SAVEPOINT idempotent_work")
        do {
            let response = try await work()
            try await tx.query("RELEASE SAVEPOINT idempotent_work")
            try await store(row: row, method: method, key: key, response: response, refused: false, on: tx)
            return .success(response)
        } catch let failure as RPCFailure {
            try await tx.query("ROLLBACK TO SAVEPOINT idempotent_work")
            try await store(row: row, method: method, key: key, response: failure.errorObject, refused: true, on: tx)
            return .failure(failure)
        }
    }

    /// A stable hash of the params (keys sorted, the key itself left out).
    static func requestHash(_ params: Params) -> String {
        var object = params.object
        object["idempotency_key"] = nil
        return Secrets.hex(Secrets.tokenHash(JSONValue.object(object).prettyEncoded()))
    }

    /// Claims `key` for `method`, or returns the earlier response; 409 if the key was used
    /// with other params.
    static func claim(method: String, key: String, params: Params, context: CallContext, on tx: PostgresConnection) async throws -> Claim {
        let hash = requestHash(params)
        let inserted = try await tx.query("""
            INSERT INTO idempotency_keys (method, key, request_hash, user_id)
            VALUES (\(method), \(key), \(hash), \(context.session?.userID))
            ON CONFLICT (method, key) DO NOTHING
            RETURNING ctid::text
            """)
        if let row = inserted.first { return .claimed(row: try row.decode(String.self, at: 0)) }
        let row = try await tx.query("SELECT request_hash, response, refused FROM idempotency_keys WHERE method = \(method) AND key = \(key)").one()
        guard try row.decode(String.self, column: "request_hash") == hash else {
            throw RPCFailure.conflict("idempotency_key was already used with different params", data: ["field": "idempotency_key"])
        }
        guard let response = try row.decode(JSONValue?.self, column: "response") else {
            throw RPCFailure.conflict("a request with this idempotency_key is still in progress; retry", data: ["retryable": true])
        }
        guard try row.decode(Bool.self, column: "refused") else { return .replay(.success(response)) }
        let code = response["code"]?.intValue.flatMap(RPCErrorCode.init(rawValue:)) ?? .internalError
        return .replay(.failure(RPCFailure(code, response["message"]?.stringValue ?? "refused", data: response["data"]?.objectValue ?? [:])))
    }

    /// Which of `keys` of `method` were used before (the bank import's lines: a line whose key is
    /// taken is not posted again).
    static func taken(method: String, keys: [String], on tx: PostgresConnection) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return Set(try await tx.query("""
            SELECT key FROM idempotency_keys WHERE method = \(method) AND key = ANY(\(PostgresArray(keys))::text[])
            """).map { try $0.decode(String.self, at: 0) })
    }

    /// Records keys of `method` whose work is done in this transaction (checked with `taken`
    /// first), with their requests' hashes and responses, in one statement. A key another
    /// transaction took in between makes the whole transaction fail, retryable: the work done under
    /// it rolls back with it, and the retry finds the key taken.
    static func recordDone(method: String, entries: [(key: String, hash: String, response: JSONValue)], context: CallContext,
                           on tx: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        let inserted = try await tx.query("""
            INSERT INTO idempotency_keys (method, key, request_hash, user_id, response, refused)
            SELECT \(method), k.key, k.hash, \(context.session?.userID), k.response, false
            FROM unnest(\(PostgresArray(entries.map(\.key)))::text[], \(PostgresArray(entries.map(\.hash)))::text[],
                        \(PostgresArray(entries.map { $0.response.encoded() }))::jsonb[]) AS k(key, hash, response)
            ON CONFLICT (method, key) DO NOTHING
            RETURNING 1
            """).count
        guard inserted == entries.count else {
            throw RPCFailure.conflict("another request used the same idempotency key at the same time; retry", data: ["retryable": true])
        }
    }

    /// Stores the outcome of a claimed key (same transaction as the write): the response, or
    /// the error object of a refusal. The row is found by the `ctid` the claim returned (nothing
    /// touches it in between), planned each time: a generic plan cached while the table was
    /// nearly empty (a fresh database) was a sequential scan, even by ctid, and one long
    /// transaction that claims thousands of keys — a 20,000-line bank import — made it quadratic.
    static func store(row: String, method: String, key: String, response: JSONValue, refused: Bool, on tx: PostgresConnection) async throws {
        let update: PostgresQuery = """
            UPDATE idempotency_keys SET response = \(response), refused = \(refused)
            WHERE ctid = \(row)::tid AND method = \(method) AND key = \(key)
            """
        try await tx.query(update.plannedEachTime)
    }
}
