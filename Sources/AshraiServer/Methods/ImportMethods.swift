import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `customers.import`, `invoices.import`, `payments.import`: up to `maxRows` rows per call,
/// each through the same single-row code as `*.create` / `payments.record`, inside one
/// transaction with a savepoint per row — a bad row is reported with its index and the good
/// rows stay, unless `atomic` (then any bad row rolls the whole batch back) or `dry_run`
/// (then everything is checked, and nothing kept).
enum ImportMethods {
    static let handlers: [String: MethodHandler] = [
        "customers.import": { services, context, params in
            let context = context
            return try await run(services: services, context: context, params: params) { row, tx in
                try await CustomerMethods.importRow(services: services, context: context, row: row, on: tx)
            }
        },
        "invoices.import": { services, context, params in
            let context = context
            let opening = try params.optionalBool("opening") ?? false
            if opening, let role = context.session?.role, role != .admin, role != .manager {
                throw RPCFailure.forbidden("only a manager or admin may import opening balances")
            }
            if case .array(let rows)? = params.object["rows"], !rows.isEmpty, rows.count <= maxRows, opening || BulkInvoices.applies(to: rows) {
                return try await BulkInvoices.run(services: services, context: context, rows: rows,
                                                  dryRun: try params.optionalBool("dry_run") ?? false,
                                                  atomic: try params.optionalBool("atomic") ?? false, opening: opening)
            }
            return try await run(services: services, context: context, params: params) { row, tx in
                try await InvoiceMethods.create(services: services, context: context, params: try resolveCustomer(row, on: tx), joining: tx)
            }
        },
        "payments.import": { services, context, params in
            let context = context
            return try await run(services: services, context: context, params: params) { row, tx in
                try await PaymentMethods.record(services: services, context: context, params: try resolveCustomer(row, on: tx), joining: tx)
            }
        },
    ]

    static let maxRows = 5000

    /// Thrown to roll a batch back while still answering with its results.
    struct Discard: Error { let response: JSONValue }

    /// `customer_code` → `customer_id`.
    static func resolveCustomer(_ row: Params, on tx: PostgresConnection) async throws -> Params {
        guard row.object["customer_id"] == nil, let code = try row.optionalString("customer_code", maxLength: 64) else { return row }
        let rows = try await tx.query("SELECT id FROM customers WHERE code_key = lower(\(code))")
        guard let id = try rows.first?.decode(Int64.self, at: 0) else {
            throw RPCFailure.invalidParams("customer_code", "no customer with code \(code)")
        }
        var object = row.object
        object["customer_code"] = nil
        object["customer_id"] = .id(id)
        return Params(object)
    }

    static func run(
        services: Services, context: CallContext, params: Params,
        _ perRow: @escaping (Params, PostgresConnection) async throws -> JSONValue
    ) async throws -> JSONValue {
        guard case .array(let rows)? = params.object["rows"], !rows.isEmpty, rows.count <= maxRows else {
            throw RPCFailure.invalidParams("rows", "rows must be an array of 1–\(maxRows) objects")
        }
        let dryRun = try params.optionalBool("dry_run") ?? false
        let atomic = try params.optionalBool("atomic") ?? false
        do {
            return try await services.transaction(context) { tx in
                var results: [JSONValue] = []
                var failed = 0
                for (index, row) in rows.enumerated() {
                    guard case .object(let object) = row else {
                        results.append(["index": .int(index), "ok": false, "error": ["code": -32602, "message": "row must be an object"]])
                        failed += 1
                        continue
                    }
                    try await tx.query("SAVEPOINT import_row")
                    do {
                        let created = try await perRow(Params(object), tx)
                        try await tx.query("RELEASE SAVEPOINT import_row")
                        let id = created["id"] ?? created["payment"]?["id"] ?? .null
                        results.append(["index": .int(index), "ok": true, "id": id])
                    } catch {
                        try await tx.query("ROLLBACK TO SAVEPOINT import_row")
                        let failure: RPCFailure
                        switch error {
                        case let rpc as RPCFailure: failure = rpc
                        case let pg as PostgresError where pg.isUniqueViolation: failure = .conflict("duplicate")
                        case let pg as PostgresError where pg.sqlState?.hasPrefix("23") == true:
                            failure = .invalidParams("row", "the row breaks a rule of the table (\(pg.constraint ?? "constraint"))")
                        case let pg as PostgresError: throw pg
                        default: failure = .internalError
                        }
                        results.append(["index": .int(index), "ok": false, "error": failure.errorObject])
                        failed += 1
                    }
                }
                let response: JSONValue = [
                    "results": .array(results), "created": .int(rows.count - failed), "failed": .int(failed),
                    "committed": .bool(!dryRun && !(atomic && failed > 0)),
                ]
                if dryRun || (atomic && failed > 0) { throw Discard(response: response) }
                return response
            }
        } catch let discard as Discard {
            if case .object(var object) = discard.response {
                object["created"] = 0
                return .object(object)
            }
            return discard.response
        }
    }
}
