import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// The policy's wire form.
enum DunningPolicy {
    static func levels(from value: JSONValue) throws(RPCFailure) -> [Dunning.Level] {
        guard let items = value.arrayValue else { throw RPCFailure.invalidParams("levels", "levels must be an array") }
        var levels: [Dunning.Level] = []
        for item in items {
            guard let object = item.objectValue else { throw RPCFailure.invalidParams("levels", "each level is an object") }
            let params = Params(object)
            do {
                guard let level = try params.optionalInt("level", range: 1...20),
                      let days = try params.optionalInt("days_overdue", range: -Dunning.courtesyDays.upperBound...3650) else {
                    throw RPCFailure.invalidParams("levels", "each level needs level and days_overdue")
                }
                let fee = try params.optionalMoney("fee") ?? 0
                let action = try params.choice("action", Dunning.Action.self)
                // A call writes no letter: its template is only a name (the task's script), "call" unless given.
                let template = action == .call ? try params.optionalString("template", maxLength: 64) ?? "call"
                                               : try params.string("template", maxLength: 64)
                levels.append(Dunning.Level(level: level, daysOverdue: days, action: action, template: template, fee: fee,
                                            payWithinDays: try params.optionalInt("pay_within_days", range: 1...90) ?? 10,
                                            channels: try params.optionalChoices("channels", MessageChannel.self) ?? [.email],
                                            requiresCall: try params.optionalBool("requires_call") ?? false))
            } catch let failure as RPCFailure {
                throw RPCFailure.invalidParams("levels", "level \(levels.count + 1): \(failure.message)")
            } catch {
                throw RPCFailure.invalidParams("levels", "level \(levels.count + 1) is not valid")
            }
        }
        do { try Dunning.validate(levels) } catch { throw RPCFailure.invalidParams("levels", error.message) }
        return levels
    }

    static func json(_ levels: [Dunning.Level]) -> JSONValue {
        .array(levels.map {
            ["level": .int($0.level), "days_overdue": .int($0.daysOverdue), "action": .string($0.action.rawValue),
             "template": .string($0.template), "fee": .money($0.fee), "pay_within_days": .int($0.payWithinDays),
             "channels": .array($0.channels.map { .string($0.rawValue) }), "requires_call": .bool($0.requiresCall)]
        })
    }
}

/// `dunning.*`: the policy and the run.
enum DunningMethods {
    static let handlers: [String: MethodHandler] = [
        "dunning.policy.get": getPolicy, "dunning.policy.set": setPolicy, "dunning.run": run,
    ]

    static func getPolicy(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await services.read(context) { try await DunningPolicyStore.policy(services: services, on: $0).json }
    }

    static func setPolicy(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let levels = try DunningPolicy.levels(from: params.object["levels"] ?? .null)
        let templates = try DunningPolicyStore.assets(services).templates
        for level in levels where level.action.writesLetter && !(templates.has(level.template, language: "he") && templates.has(level.template, language: "en")) {
            throw RPCFailure.invalidParams("levels", "level \(level.level): no template \(level.template) in Hebrew and English")
        }
        let reason = try params.optionalString("reason", maxLength: 2000)
        let current = context
        return try await services.transaction(current) { tx in
            try await tx.query("LOCK TABLE dunning_policies IN EXCLUSIVE MODE")
            let before = try await DunningPolicyStore.policy(services: services, on: tx).json
            try await tx.query("""
                INSERT INTO dunning_policies (version, levels, reason, set_by)
                SELECT coalesce(max(version), 0) + 1, \(DunningPolicy.json(levels)), \(reason), \(current.session?.userID)
                FROM dunning_policies
                """)
            let after = try await DunningPolicyStore.policy(services: services, on: tx)
            try await Audit.record(tx, context: current, method: "dunning.policy.set", entity: "dunning_policy",
                                   entityID: String(after.version), before: before, after: after.json)
            return after.json
        }
    }

    static func run(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let asOfParam = try params.optionalDate("as_of")
        let dryRun = try params.optionalBool("dry_run") ?? false
        let current = context
        return try await services.transaction(current) { tx in
            try await DunningRun.execute(services: services, context: current, asOf: asOfParam, dryRun: dryRun, scheduled: false, on: tx).json
        }
    }
}
