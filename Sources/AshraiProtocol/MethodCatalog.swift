import AshraiCore

/// One param of a method.
public struct ParamSpec: Sendable {
    /// The param's name.
    public let name: String
    /// Its JSON Schema.
    public let schema: JSONValue
    /// Whether it must be present.
    public let isRequired: Bool

    /// A required param.
    public static func required(_ name: String, _ schema: JSONValue) -> ParamSpec {
        ParamSpec(name: name, schema: schema, isRequired: true)
    }
    /// An optional param.
    public static func optional(_ name: String, _ schema: JSONValue) -> ParamSpec {
        ParamSpec(name: name, schema: schema, isRequired: false)
    }
}

/// A method: its name, who may call it, its params and result.
public struct MethodSpec: Sendable {
    /// Who may call a method.
    public enum Access: Sendable, Equatable {
        /// Anyone, without a session.
        case anyone
        /// A session whose role is in the set.
        case roles(Set<Role>)
    }

    /// `family.verb`.
    public let name: String
    /// One line for humans.
    public let summary: String
    /// Who may call it.
    public let access: Access
    /// By-name params.
    public let params: [ParamSpec]
    /// The result's JSON Schema.
    public let result: JSONValue

    /// Whether `role` may call it (always true for `.anyone`).
    public func allows(_ role: Role) -> Bool {
        switch access {
        case .anyone: return true
        case .roles(let roles): return roles.contains(role)
        }
    }

    /// Whether a session is needed.
    public var needsSession: Bool { access != .anyone }

    /// This spec with `data_as_of` and `data_source` added to its result (an object schema).
    func stampedAsReport() -> MethodSpec {
        guard case .object(var schema) = result else { return self }
        // A result documented only as "an object" stays open to its other keys.
        if schema["properties"] == nil { schema["additionalProperties"] = true }
        var properties = schema["properties"]?.objectValue ?? [:]
        properties["data_as_of"] = ["type": "string", "format": "date-time",
                                    "description": "the instant the data is as of: now on the primary, or a replica's last replayed commit"]
        properties["data_source"] = ["type": "string", "enum": ["primary", "replica"]]
        schema["properties"] = .object(properties)
        schema["required"] = .array((schema["required"]?.arrayValue ?? []) + ["data_as_of", "data_source"])
        return MethodSpec(name: name, summary: summary, access: access, params: params, result: .object(schema))
    }
}

/// Every method the server dispatches — the one table the dispatcher, `rpc.discover`, the
/// README's role matrix and the tests read. A method not here cannot be called.
public enum MethodCatalog {
    static let everyone: MethodSpec.Access = .roles(Set(Role.allCases))
    static let staff: MethodSpec.Access = .roles(Set(Role.staff))
    static let adminOnly: MethodSpec.Access = .roles([.admin])
    static let managers: MethodSpec.Access = .roles([.admin, .manager])
    /// Staff, and the agency partner (read methods that filter to its active assignments).
    static let staffAndAgency: MethodSpec.Access = .roles([.admin, .manager, .clerk, .agency])
    static let managersAndAgency: MethodSpec.Access = .roles([.admin, .manager, .agency])

    /// All methods, in documentation order.
    public static let all: [MethodSpec] = (foundation + customerMethods + creditMethods + ledgerMethods + collectionMethods + agencyMethods + kpiMethods + trainingMethods + reviewMethods + outboxMethods + bankMethods + chequeMethods + taskMethods + eventMethods)
        .map { reports.contains($0.name) ? $0.stampedAsReport() : $0 }

    /// The reports: read on a streaming replica when one is configured and current enough (`database.replicaUrl`),
    /// and answered with `data_as_of` and `data_source` saying which was used.
    public static let reports: Set<String> = [
        "reports.aging", "reports.kpis", "reports.kpis_trend", "reports.collectors", "reports.review", "reports.forecast", "statements.get",
    ]

    /// The batches: methods whose one call does a run's or a file's worth of work, or waits for another run to end
    /// (dunning takes one lock per database). Their statements and lock waits are bounded by the jobs' bound
    /// (`database.jobsCallTimeoutSeconds`), not a request's.
    public static let batches: Set<String> = [
        "dunning.run", "plans.check", "customers.import", "invoices.import", "payments.import", "bank.statements.import",
        "letters.print",
    ]

    /// Server, auth, users, audit.
    static let foundation: [MethodSpec] = [
        MethodSpec(name: "server.ping", summary: "Liveness: answers pong with the database's time.", access: .anyone,
                   params: [], result: Schema.object(["pong": Schema.bool, "database_time": Schema.instant], required: ["pong", "database_time"])),
        MethodSpec(name: "server.info", summary: "Name, version, protocol version, the server's time, and the business's day and time zone (what `as_of` defaults to).", access: .anyone,
                   params: [], result: Schema.object([
                       "name": Schema.string, "version": Schema.string, "protocol_version": Schema.string, "time": Schema.instant,
                       "today": Schema.date, "time_zone": Schema.string,
                   ], required: ["name", "version", "protocol_version", "time", "today", "time_zone"])),
        MethodSpec(name: "rpc.discover", summary: "This OpenRPC document.", access: .anyone,
                   params: [], result: ["$ref": "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json"]),

        MethodSpec(name: "auth.login", summary: "Start a session; the token also works on a new connection (auth.resume).", access: .anyone,
                   params: [.required("username", Schema.string(maxLength: 64)), .required("password", Schema.string(maxLength: 1024))],
                   result: Schema.session),
        MethodSpec(name: "auth.resume", summary: "Continue a session on this connection.", access: .anyone,
                   params: [.required("token", Schema.string(maxLength: 256))], result: Schema.session),
        MethodSpec(name: "auth.logout", summary: "End this session at once.", access: everyone,
                   params: [], result: Schema.ok),
        MethodSpec(name: "auth.whoami", summary: "The session's user and expiry.", access: everyone,
                   params: [], result: Schema.object(["user": Schema.user, "expires_at": Schema.instant, "must_change_password": Schema.bool],
                                                     required: ["user", "expires_at", "must_change_password"])),
        MethodSpec(name: "auth.change_password", summary: "Change one's own password; ends the user's other sessions.", access: everyone,
                   params: [.required("old_password", Schema.string(maxLength: 1024)), .required("new_password", Schema.string(maxLength: 1024))],
                   result: Schema.object(["ok": Schema.bool, "other_sessions_ended": ["type": "integer"]], required: ["ok", "other_sessions_ended"])),

        MethodSpec(name: "users.create", summary: "Create a staff login.", access: adminOnly,
                   params: [
                       .required("username", Schema.string(maxLength: 64)), .required("password", Schema.string(maxLength: 1024)),
                       .required("role", Schema.role), .optional("display_name", Schema.string(maxLength: 200)),
                       .optional("agency_id", Schema.id),
                   ], result: Schema.user),
        MethodSpec(name: "users.list", summary: "All users.", access: adminOnly,
                   params: [.optional("include_disabled", Schema.bool)], result: Schema.object(["users": Schema.array(Schema.user)], required: ["users"])),
        MethodSpec(name: "users.get", summary: "One user.", access: adminOnly,
                   params: [.required("id", Schema.id)], result: Schema.user),
        MethodSpec(name: "users.set_role", summary: "Change a user's role (never the last active admin's).", access: adminOnly,
                   params: [.required("id", Schema.id), .required("role", Schema.role), .optional("agency_id", Schema.id)], result: Schema.user),
        MethodSpec(name: "users.disable", summary: "Disable a login and end its sessions (never the last active admin).", access: adminOnly,
                   params: [.required("id", Schema.id)], result: Schema.user),
        MethodSpec(name: "users.enable", summary: "Enable a disabled login.", access: adminOnly,
                   params: [.required("id", Schema.id)], result: Schema.user),
        MethodSpec(name: "users.reset_password", summary: "Set a new password; the user must change it at next login; ends their sessions.", access: adminOnly,
                   params: [.required("id", Schema.id), .required("password", Schema.string(maxLength: 1024))], result: Schema.user),

        MethodSpec(name: "audit.list", summary: "The audit trail, newest first, keyset-paginated by `before_id`.", access: managers,
                   params: [
                       .optional("entity", Schema.string(maxLength: 64)), .optional("entity_id", Schema.string(maxLength: 64)),
                       .optional("user_id", Schema.id), .optional("since", Schema.instant),
                       .optional("limit", Schema.object(["type": "integer", "minimum": 1, "maximum": 500])),
                       .optional("before_id", Schema.id),
                   ],
                   result: Schema.object(["entries": Schema.array(Schema.auditEntry), "next_before_id": Schema.nullable(Schema.id)],
                                         required: ["entries", "next_before_id"])),
    ]

    private static let byName: [String: MethodSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The method named `name`, if it exists.
    public static func spec(named name: String) -> MethodSpec? { byName[name] }

    /// The role matrix as a Markdown table (method × role), as printed in the README.
    public static var roleMatrixMarkdown: String {
        var lines = ["| method | " + Role.allCases.map(\.rawValue).joined(separator: " | ") + " |",
                     "|---|" + Role.allCases.map { _ in ":-:" }.joined(separator: "|") + "|"]
        for spec in all {
            let cells = Role.allCases.map { role -> String in
                if spec.access == .anyone { return "any" }
                return spec.allows(role) ? "✓" : "·"
            }
            lines.append("| `\(spec.name)` | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// JSON Schemas used in the catalog.
public enum Schema {
    /// Any string.
    public static let string: JSONValue = ["type": "string"]
    /// A bounded string.
    public static func string(maxLength: Int) -> JSONValue { ["type": "string", "maxLength": .int(maxLength)] }
    /// A boolean.
    public static let bool: JSONValue = ["type": "boolean"]
    /// A positive integer id.
    public static let id: JSONValue = ["type": "integer", "minimum": 1]
    /// An RFC 3339 instant.
    public static let instant: JSONValue = ["type": "string", "format": "date-time"]
    /// A calendar day.
    public static let date: JSONValue = ["type": "string", "format": "date"]
    /// Money as a decimal string.
    public static let money: JSONValue = ["type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"]
    /// A role name.
    public static let role: JSONValue = ["type": "string", "enum": .array(Role.allCases.map { .string($0.rawValue) })]
    /// `{ok: true}`.
    public static let ok: JSONValue = object(["ok": bool], required: ["ok"])

    /// An object with properties (in the given order) and required names.
    public static func object(_ properties: KeyValuePairs<String, JSONValue>, required: [String]) -> JSONValue {
        .object([
            "type": "object",
            "properties": .object(JSONObject(properties.map { ($0.key, $0.value) })),
            "required": .array(required.map { .string($0) }),
        ])
    }
    /// A raw schema object.
    public static func object(_ raw: JSONObject) -> JSONValue { .object(raw) }
    /// An array of items.
    public static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    /// A string that is one of `values` (the enumeration's raw values, in declaration order).
    public static func oneOf<E: RawRepresentable>(_ values: [E]) -> JSONValue where E.RawValue == String {
        ["type": "string", "enum": .array(values.map { .string($0.rawValue) })]
    }

    /// A string that is one of an enumeration's cases: the one list the database's CHECK, the
    /// server's validation and this document share.
    public static func oneOf<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> JSONValue where E.RawValue == String {
        oneOf(Array(E.allCases))
    }
    /// A schema or null.
    public static func nullable(_ schema: JSONValue) -> JSONValue { ["oneOf": [schema, ["type": "null"]]] }

    /// A user as methods return it.
    public static let user = object([
        "id": id, "username": string, "display_name": string, "role": role, "agency_id": nullable(id),
        "disabled": bool, "must_change_password": bool, "created_at": instant,
    ], required: ["id", "username", "display_name", "role", "agency_id", "disabled", "must_change_password", "created_at"])

    /// What login and resume return.
    public static let session = object(["token": string, "expires_at": instant, "user": user],
                                       required: ["token", "expires_at", "user"])

    /// One audit entry.
    public static let auditEntry = object([
        "id": id, "at": instant, "user_id": nullable(id), "username": nullable(string), "method": string,
        "entity": string, "entity_id": nullable(string), "before": ["type": ["object", "null"]],
        "after": ["type": ["object", "null"]], "context": ["type": "object"],
    ], required: ["id", "at", "user_id", "username", "method", "entity", "entity_id", "before", "after", "context"])
}

/// The OpenRPC document built from the catalog.
public enum OpenRPCDocument {
    /// The protocol's version (changes when a method's contract changes incompatibly).
    public static let protocolVersion = "1.0"

    /// Methods callable without a session. Before login `rpc.discover` describes only these.
    public static let preLoginMethods: Set<String> = ["server.ping", "server.info", "rpc.discover", "auth.login", "auth.resume"]

    /// The document (independent of the build, so the checked-in copy stays equal); `preLogin`
    /// keeps only the methods callable before login (what an anonymous client is told).
    public static func make(preLogin: Bool = false) -> JSONValue {
        let errors: [JSONValue] = RPCErrorCode.allCases.map { code in
            var object: JSONObject = ["code": .int(code.rawValue), "message": .string("\(code)")]
            if let reason = code.reason { object["data"] = ["reason": .string(reason)] }
            if code == .ruleViolated {
                // Which rule: one of BusinessRule's names, in `data.rule`.
                object["data"] = ["reason": object["data"]?["reason"] ?? .null,
                                  "rules": .array(BusinessRule.allCases.map { .string($0.rawValue) })]
            }
            return .object(object)
        }
        let methods: [JSONValue] = MethodCatalog.all.filter { !preLogin || preLoginMethods.contains($0.name) }.map { spec in
            let roles: [JSONValue]
            switch spec.access {
            case .anyone: roles = []
            case .roles(let set): roles = set.sorted().map { .string($0.rawValue) }
            }
            return [
                "name": .string(spec.name),
                "summary": .string(spec.summary),
                "paramStructure": "by-name",
                "params": .array(spec.params.map { param in
                    ["name": .string(param.name), "required": .bool(param.isRequired), "schema": param.schema]
                }),
                "result": ["name": "result", "schema": spec.result],
                "x-authentication": .bool(spec.needsSession),
                "x-roles": .array(roles),
            ]
        }
        return [
            "openrpc": "1.3.2",
            "info": [
                "title": "Ashrai JSON-RPC API",
                "version": .string(protocolVersion),
                "description": "Ashrai customer-credit server. JSON-RPC 2.0, one message per line over TCP (TLS optional). Money is a decimal string; errors carry data.reason; x-roles lists the roles that may call a method.",
            ],
            "methods": .array(methods),
            "components": ["x-errors": .array(errors)],
        ]
    }
}
