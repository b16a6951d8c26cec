import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// A customer row as the API shows it.
struct CustomerRecord: Sendable {
    static let columns = """
        c.id, c.code, c.name, c.legal_id, c.email, c.phone, c.address, c.preferred_channel, c.language, c.notes,
        c.status, c.closed_reason, c.grade, c.score, c.next_review_on, c.created_at, c.version, c.courtesy_reminders, c.owner_id
        """
    static let editable = ["code", "name", "legal_id", "email", "phone", "address", "preferred_channel", "language", "notes"]

    var id: Int64
    var fields: [String: String?]
    var status: CustomerStatus
    var grade: String?
    var score: Int?
    var nextReviewOn: PostgresDate?
    var createdAt: Date
    var version: Int
    /// Wants a courtesy reminder before the due date (a policy level with negative days).
    var courtesyReminders: Bool
    /// The staff user whose portfolio it is.
    var ownerID: Int64?

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, column: "id")
        var fields: [String: String?] = [:]
        for name in Self.editable { fields[name] = try row.decode(String?.self, column: name) }
        fields["closed_reason"] = try row.decode(String?.self, column: "closed_reason")
        self.fields = fields
        guard let status = CustomerStatus(rawValue: try row.decode(String.self, column: "status")) else {
            throw PostgresError(code: .decoding, message: "column \"status\" is not a customer status", decodingColumn: "status")
        }
        self.status = status
        grade = try row.decode(String?.self, column: "grade")
        score = try row.decode(Int?.self, column: "score")
        nextReviewOn = try row.decode(PostgresDate?.self, column: "next_review_on")
        createdAt = try row.decode(Date.self, column: "created_at")
        version = try row.decode(Int.self, column: "version")
        courtesyReminders = try row.decode(Bool.self, column: "courtesy_reminders")
        ownerID = try row.decode(Int64?.self, column: "owner_id")
    }

    var json: JSONValue {
        var object: JSONObject = ["id": .id(id)]
        for name in Self.editable + ["closed_reason"] { object[name] = .optional(fields[name] ?? nil) }
        object["status"] = .string(status.rawValue)
        object["grade"] = .optional(grade)
        object["score"] = score.map { .int($0) } ?? .null
        object["next_review_on"] = .date(nextReviewOn)
        object["created_at"] = .string(rfc3339(createdAt))
        object["version"] = .int(version)
        object["courtesy_reminders"] = .bool(courtesyReminders)
        object["owner_id"] = ownerID.map(JSONValue.id) ?? .null
        return .object(object)
    }

    static func load(id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> CustomerRecord? {
        let rows = try await connection.query(
            "SELECT \(unescaped: columns) FROM customers c WHERE c.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")")
        return try rows.first.map(CustomerRecord.init(row:))
    }

    /// Loads or throws 404.
    static func require(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> CustomerRecord {
        guard let customer = try await load(id: id, forUpdate: forUpdate, on: connection) else { throw RPCFailure.notFound("customer") }
        return customer
    }
}

/// `customers.*` and `customers.contacts.*`.
enum CustomerMethods {
    static let handlers: [String: MethodHandler] = [
        "customers.create": create, "customers.get": get, "customers.update": update, "customers.close": close,
        "customers.list": list, "customers.contacts.add": addContact, "customers.contacts.list": listContacts,
        "customers.contacts.remove": removeContact, "customers.assign_owner": assignOwner,
    ]

    static let channels = ContactChannel.allCases.map(\.rawValue)

    /// Validates the editable fields present in `params`; a key given as null clears the field.
    /// A legal id is stored normalised for `country` (`LegalID`: in Israel 9 digits, check digit verified).
    static func editableFields(_ params: Params, country: String) throws -> [String: String?] {
        var fields: [String: String?] = [:]
        let limits = ["code": 64, "name": 200, "legal_id": 64, "email": 254, "phone": 64, "address": 500,
                      "preferred_channel": 20, "language": 2, "notes": 2000]
        for name in CustomerRecord.editable where params.object[name] != nil {
            guard let raw = try params.optionalString(name, maxLength: limits[name] ?? 2000) else {
                if name == "name" || name == "language" { throw RPCFailure.invalidParams(name, "\(name) cannot be cleared") }
                fields[name] = .some(nil)
                continue
            }
            let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            switch name {
            case "name" where value.isEmpty, "code" where value.isEmpty:
                throw RPCFailure.invalidParams(name, "\(name) must not be empty")
            case "email" where !value.isEmpty && !(value.contains("@") && !value.contains(" ") && !value.hasPrefix("@") && !value.hasSuffix("@")):
                throw RPCFailure.invalidParams(name, "email must be an e-mail address")
            case "preferred_channel" where !channels.contains(value):
                throw RPCFailure.invalidParams(name, "preferred_channel must be one of: \(channels.joined(separator: ", "))")
            case "language" where value != "he" && value != "en":
                throw RPCFailure.invalidParams(name, "language must be he or en")
            case "legal_id" where !value.isEmpty:
                do {
                    fields[name] = .some(try LegalID.normalized(value, country: country))
                } catch {
                    throw RPCFailure.invalidParams(name, error.message)
                }
                continue
            default:
                break
            }
            fields[name] = .some(value.isEmpty ? nil : value)
        }
        return fields
    }

    static func duplicateCode(_ error: PostgresError) -> Bool { error.isUniqueViolation && error.constraint == "customers_code_key" }

    /// The reason a caller gives for a legal id another customer already has, when it says
    /// `allow_duplicate_legal_id` (a branch, a second business of one owner); nil otherwise.
    static func duplicateLegalIDReason(_ params: Params) throws -> String? {
        let allow = try params.optionalBool("allow_duplicate_legal_id") ?? false
        let reason = try params.optionalString("duplicate_reason", maxLength: 2000)?.trimmingCharacters(in: .whitespacesAndNewlines)
        if allow, reason?.isEmpty ?? true {
            throw RPCFailure.invalidParams("duplicate_reason", "allow_duplicate_legal_id needs a duplicate_reason (it is audited)")
        }
        if !allow, reason != nil {
            throw RPCFailure.invalidParams("allow_duplicate_legal_id", "duplicate_reason goes with allow_duplicate_legal_id: true")
        }
        return allow ? reason : nil
    }

    /// Refuses (409) a legal id another customer has, unless a duplicate reason was given; then
    /// returns the others' ids for the audit record. An advisory lock on the value makes two
    /// concurrent writers of one legal id decide one after the other.
    static func checkLegalID(_ legalID: String?, excluding id: Int64?, duplicateReason: String?,
                             on tx: PostgresConnection) async throws -> [Int64] {
        guard let legalID else { return [] }
        try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.legal_id'), hashtext(\(legalID)))")
        let others = try await tx.query("""
            SELECT id FROM customers WHERE legal_id = \(legalID) AND id <> \(id ?? 0) ORDER BY id LIMIT 20
            """).map { try $0.decode(Int64.self, at: 0) }
        if !others.isEmpty, duplicateReason == nil {
            throw RPCFailure.conflict(
                "another customer has this legal_id; to add it anyway, say allow_duplicate_legal_id with a duplicate_reason",
                data: ["field": "legal_id", "existing_customer_id": .id(others[0])])
        }
        return others
    }

    /// What the audit record says about an accepted duplicate legal id.
    static func duplicateDetails(_ others: [Int64], reason: String?) -> JSONObject {
        guard !others.isEmpty, let reason else { return [:] }
        return ["duplicate_legal_id": ["reason": .string(reason), "other_customer_ids": .array(others.map(JSONValue.id))]]
    }

    static func create(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        try await create(services: services, context: context, params: params, joining: nil).json
    }

    /// The single-row core, also used row by row by the batch import inside its transaction.
    static func create(services: Services, context: CallContext, params: Params, joining existing: PostgresConnection?) async throws -> CustomerRecord {
        guard params.has("name") else { throw RPCFailure.invalidParams("name", "name is required") }
        let fields = try editableFields(params, country: services.settings.country)
        let duplicateReason = try duplicateLegalIDReason(params)
        let courtesy = try params.optionalBool("courtesy_reminders") ?? false
        let owner = try ownerChange(params, context: context) ?? nil
        let current = context
        do {
            return try await services.transaction(current, joining: existing) { tx in
                let others = try await checkLegalID(fields["legal_id"] ?? nil, excluding: nil, duplicateReason: duplicateReason, on: tx)
                try await requireOwner(owner, on: tx)
                let id = try await tx.query("""
                    INSERT INTO customers (code, name, legal_id, email, phone, address, preferred_channel, language, notes, courtesy_reminders, owner_id)
                    VALUES (\(fields["code"] ?? nil), \(fields["name"] ?? nil), \(fields["legal_id"] ?? nil), \(fields["email"] ?? nil),
                            \(fields["phone"] ?? nil), \(fields["address"] ?? nil), \(fields["preferred_channel"] ?? nil),
                            \((fields["language"] ?? nil) ?? "he"), \(fields["notes"] ?? nil), \(courtesy), \(owner))
                    RETURNING id
                    """).scalar(Int64.self)
                let customer = try await CustomerRecord.require(id, on: tx)
                try await Audit.record(tx, context: current, method: "customers.create", entity: "customer",
                                       entityID: String(id), after: customer.json, details: duplicateDetails(others, reason: duplicateReason))
                return customer
            }
        } catch let error as PostgresError where duplicateCode(error) {
            throw RPCFailure.conflict("customer code is already in use", data: ["field": "code"])
        }
    }

    /// The columns of a `customers.import` row: the customer's own, its terms, the duplicate legal id override, and its
    /// owner by username.
    static let importColumns = CustomerRecord.editable + CreditMethods.TermsInput.paramNames
        + ["allow_duplicate_legal_id", "duplicate_reason", "owner"]

    /// `owner_id` when given (an id, or null: nobody's): only a manager or admin hands out portfolios.
    static func ownerChange(_ params: Params, context: CallContext) throws(RPCFailure) -> Int64?? {
        guard let value = params.object["owner_id"] else { return nil }
        guard let role = context.session?.role, role == .admin || role == .manager else {
            throw RPCFailure.forbidden("only a manager or admin gives customers to an owner")
        }
        return value.isNull ? .some(nil) : .some(Int64(try params.id("owner_id")))
    }

    /// An owner is an active user of the business — admin, manager or clerk, never an agency login.
    static func requireOwner(_ id: Int64?, on tx: PostgresConnection) async throws {
        guard let id else { return }
        let row = try await tx.query("SELECT role, disabled_at IS NULL AS active FROM users WHERE id = \(id)").first
        guard let row, let role = Role(rawValue: try row.decode(String.self, column: "role")), Role.staff.contains(role),
              try row.decode(Bool.self, column: "active") else {
            throw RPCFailure.invalidParams("owner_id", "owner_id must be an active user of the business (admin, manager or clerk)")
        }
    }

    /// One `customers.import` row: the customer, and — when the row carries any terms column —
    /// its terms as version 1, reason "import", the importer as approver (terms are a manager's
    /// decision, so a clerk's row with terms is refused). Missing terms columns take the defaults.
    static func importRow(services: Services, context: CallContext, row: Params, on tx: PostgresConnection) async throws -> JSONValue {
        for key in row.object.keys where !importColumns.contains(key) {
            throw RPCFailure.invalidParams(key, "unknown column \(key); customers take: \(importColumns.joined(separator: ", "))")
        }
        let hasTerms = CreditMethods.TermsInput.paramNames.contains { row.has($0) }
        var terms: CreditMethods.TermsInput?
        if hasTerms {
            guard let role = context.session?.role, role == .admin || role == .manager else {
                throw RPCFailure.forbidden("only a manager or admin may import customers with credit terms")
            }
            terms = try CreditMethods.TermsInput(row, services: services, requireAll: false)
        }
        var params = row
        if let username = try row.optionalString("owner", maxLength: 64) {
            let owner = try await tx.query("""
                SELECT id FROM users WHERE username_key = \(Username.key(username)) AND disabled_at IS NULL AND role <> 'agency'
                """).first?.decode(Int64.self, at: 0)
            guard let owner else { throw RPCFailure.invalidParams("owner", "owner must be the username of an active user of the business") }
            var object = row.object
            object["owner"] = nil
            object["owner_id"] = .id(owner)
            params = Params(object)
        }
        let customer = try await create(services: services, context: context, params: params, joining: tx)
        guard let terms else { return customer.json }
        _ = try await CreditMethods.insertTerms(customerID: customer.id, terms, reason: "import", method: "customers.import",
                                                services: services, context: context, on: tx)
        return customer.json
    }

    static func get(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let agency = AgencyScope.agency(context)
        return try await services.read(context) { connection in
            try await AgencyScope.requireCustomer(id, agency: agency, on: connection)
            return AgencyScope.customerView(try await CustomerRecord.require(id, on: connection).json, agency: agency)
        }
    }

    static func update(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        guard let version = try params.optionalInt("version") else { throw RPCFailure.invalidParams("version", "version is required") }
        let changes = try editableFields(params, country: services.settings.country)
        let duplicateReason = try duplicateLegalIDReason(params)
        let courtesy = try params.optionalBool("courtesy_reminders")
        let owner = try ownerChange(params, context: context)
        let current = context
        do {
            return try await services.transaction(current) { tx in
                let before = try await CustomerRecord.require(id, forUpdate: true, on: tx)
                if let owner { try await requireOwner(owner, on: tx) }
                guard before.version == version else {
                    throw RPCFailure.conflict("the customer was changed by someone else; reload and retry",
                                              data: ["current_version": .int(before.version)])
                }
                var merged = before.fields
                for (key, value) in changes { merged[key] = value }
                var others: [Int64] = []
                if let newID = merged["legal_id"] ?? nil, newID != (before.fields["legal_id"] ?? nil) {
                    others = try await checkLegalID(newID, excluding: id, duplicateReason: duplicateReason, on: tx)
                }
                try await tx.query("""
                    UPDATE customers SET code = \(merged["code"] ?? nil), name = \(merged["name"] ?? nil),
                        legal_id = \(merged["legal_id"] ?? nil), email = \(merged["email"] ?? nil), phone = \(merged["phone"] ?? nil),
                        email_refused_at = CASE WHEN email IS DISTINCT FROM \(merged["email"] ?? nil) THEN NULL ELSE email_refused_at END,
                        phone_refused_at = CASE WHEN phone IS DISTINCT FROM \(merged["phone"] ?? nil) THEN NULL ELSE phone_refused_at END,
                        courtesy_reminders = coalesce(\(courtesy), courtesy_reminders),
                        owner_id = CASE WHEN \(owner != nil) THEN \(owner ?? nil)::bigint ELSE owner_id END,
                        address = \(merged["address"] ?? nil), preferred_channel = \(merged["preferred_channel"] ?? nil),
                        language = \(merged["language"] ?? nil), notes = \(merged["notes"] ?? nil),
                        updated_at = now(), version = version + 1
                    WHERE id = \(id)
                    """)
                let after = try await CustomerRecord.require(id, on: tx)
                try await Audit.record(tx, context: current, method: "customers.update", entity: "customer",
                                       entityID: String(id), before: before.json, after: after.json,
                                       details: duplicateDetails(others, reason: duplicateReason))
                return after.json
            }
        } catch let error as PostgresError where duplicateCode(error) {
            throw RPCFailure.conflict("customer code is already in use", data: ["field": "code"])
        }
    }

    /// `customers.assign_owner`: customers to one owner, or to nobody, at once (a clerk leaves, a portfolio is split).
    /// The customers are locked in id order; each one whose owner changes is audited. Their `version` stays: a
    /// clerk editing a phone number meanwhile is not refused for it.
    static func assignOwner(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        guard let ids = try params.optionalIDs("customer_ids"), !ids.isEmpty else {
            throw RPCFailure.invalidParams("customer_ids", "customer_ids is required: 1 to 1,000 customer ids")
        }
        guard let owner = try ownerChange(params, context: context) else {
            throw RPCFailure.invalidParams("owner_id", "owner_id is required (null gives the customers to nobody)")
        }
        let current = context
        return try await services.transaction(current) { tx in
            try await requireOwner(owner, on: tx)
            let before = try await tx.query("""
                SELECT \(unescaped: CustomerRecord.columns) FROM customers c WHERE c.id = ANY(\(PostgresArray(ids.sorted()))::bigint[])
                ORDER BY c.id FOR UPDATE
                """).map(CustomerRecord.init(row:))
            let missing = Set(ids).subtracting(before.map(\.id)).sorted()
            guard missing.isEmpty else {
                throw RPCFailure.invalidParams("customer_ids", "no customer \(missing.map { String($0) }.joined(separator: ", "))")
            }
            let changed = before.filter { $0.ownerID != owner }
            if !changed.isEmpty {
                try await tx.query("""
                    UPDATE customers SET owner_id = \(owner), updated_at = now() WHERE id = ANY(\(PostgresArray(changed.map(\.id)))::bigint[])
                    """)
                try await Audit.record(changed.map { customer in
                    Audit.Entry(method: "customers.assign_owner", entity: "customer", entityID: String(customer.id),
                                before: ["owner_id": customer.ownerID.map(JSONValue.id) ?? .null], after: ["owner_id": owner.map(JSONValue.id) ?? .null])
                }, context: current, on: tx)
            }
            return ["owner_id": owner.map(JSONValue.id) ?? .null, "customers": .int(ids.count), "changed": .int(changed.count)]
        }
    }

    static func close(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let reason = try params.text("reason")
        let current = context
        return try await services.transaction(current) { tx in
            let before = try await CustomerRecord.require(id, forUpdate: true, on: tx)
            guard before.status != .closed else { throw RPCFailure.conflict("the customer is already closed") }
            try await tx.query("""
                UPDATE customers SET status = 'closed', closed_reason = \(reason), updated_at = now(), version = version + 1 WHERE id = \(id)
                """)
            let after = try await CustomerRecord.require(id, on: tx)
            try await Audit.record(tx, context: current, method: "customers.close", entity: "customer",
                                   entityID: String(id), before: before.json, after: after.json, details: ["reason": .string(reason)])
            return after.json
        }
    }

    /// `LIKE` pattern for a substring, with the wildcard characters of the input escaped.
    static func containsPattern(_ text: String) -> String {
        var escaped = ""
        for character in text.lowercased() {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let query = try params.optionalString("query", maxLength: 200)?.trimmingCharacters(in: .whitespaces)
        let status = try params.optionalChoice("status", CustomerStatus.self)?.rawValue
        let grade = try params.optionalChoice("grade", Grade.self)?.rawValue
        let limit = try params.optionalInt("limit", range: 1...500) ?? 50
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let owner = try params.optionalInt("owner_id", range: 1...Int.max).map(Int64.init)
        let unowned = try params.optionalBool("unowned") ?? false
        let pattern = query.flatMap { $0.isEmpty ? nil : containsPattern($0) }
        let agency = AgencyScope.agency(context)
        if agency != nil, grade != nil {
            throw RPCFailure.invalidParams("grade", "an agency login cannot filter on grade (it is not shown to agencies)")
        }
        if agency != nil, owner != nil || unowned {
            throw RPCFailure.invalidParams(owner != nil ? "owner_id" : "unowned", "an agency login cannot filter on owners (they are not shown to agencies)")
        }
        if owner != nil, unowned { throw RPCFailure.invalidParams("unowned", "owner_id and unowned together match nothing") }
        // Staff search the stored search text (name, code, legal id, e-mail); an agency only what it is shown.
        let searched = agency == nil ? "c.search_text" : AgencyScope.searchableCustomerFields
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: CustomerRecord.columns) FROM customers c
            WHERE c.id > \(after)
              AND (\(agency)::bigint IS NULL OR c.id IN (SELECT i.customer_id FROM invoices i WHERE i.id IN (SELECT agency_invoice_ids(\(agency)))))
              AND (\(pattern)::text IS NULL OR \(unescaped: searched) LIKE \(pattern))
              AND (\(status)::text IS NULL OR c.status = \(status))
              AND (\(grade)::text IS NULL OR c.grade = \(grade))
              AND (\(owner)::bigint IS NULL OR c.owner_id = \(owner))
              AND (NOT \(unowned) OR c.owner_id IS NULL)
            ORDER BY c.id
            LIMIT \(limit)
            """)
        let customers = rows.decodeEach("customer", logger: context.logger) { try CustomerRecord(row: $0) }
        let next = rows.nextAfter(limit: limit)
        return ["customers": .array(customers.map { AgencyScope.customerView($0.json, agency: agency) }), "next_after": next]
    }

    static func contactJSON(_ row: PostgresRow) throws -> JSONValue {
        [
            "id": .id(try row.decode(Int64.self, column: "id")),
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "name": .string(try row.decode(String.self, column: "name")),
            "role": .optional(try row.decode(String?.self, column: "role")),
            "email": .optional(try row.decode(String?.self, column: "email")),
            "phone": .optional(try row.decode(String?.self, column: "phone")),
            "preferred_channel": .optional(try row.decode(String?.self, column: "preferred_channel")),
        ]
    }

    static func addContact(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let name = try params.text("name", maxLength: 200)
        let role = try params.optionalString("role", maxLength: 100)
        let email = try params.optionalString("email", maxLength: 254)
        if let email, !email.contains("@") { throw RPCFailure.invalidParams("email", "email must be an e-mail address") }
        let phone = try params.optionalString("phone", maxLength: 64)
        let channel = try params.optionalString("preferred_channel", maxLength: 20)
        if let channel, !channels.contains(channel) {
            throw RPCFailure.invalidParams("preferred_channel", "preferred_channel must be one of: \(channels.joined(separator: ", "))")
        }
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, on: tx)
            let row = try await tx.query("""
                INSERT INTO customer_contacts (customer_id, name, role, email, phone, preferred_channel)
                VALUES (\(customerID), \(name), \(role), \(email), \(phone), \(channel))
                RETURNING id, customer_id, name, role, email, phone, preferred_channel
                """).one()
            let contact = try contactJSON(row)
            try await Audit.record(tx, context: current, method: "customers.contacts.add", entity: "customer",
                                   entityID: String(customerID), after: contact)
            return contact
        }
    }

    static func listContacts(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let agency = AgencyScope.agency(context)
        return try await services.read(context) { connection in
            try await AgencyScope.requireCustomer(customerID, agency: agency, on: connection)
            _ = try await CustomerRecord.require(customerID, on: connection)
            let rows = try await connection.query("""
                SELECT id, customer_id, name, role, email, phone, preferred_channel FROM customer_contacts
                WHERE customer_id = \(customerID) AND removed_at IS NULL ORDER BY id
                """)
            return ["contacts": .array(try rows.map(contactJSON))]
        }
    }

    static func removeContact(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("id"))
        let current = context
        return try await services.transaction(current) { tx in
            let rows = try await tx.query("""
                UPDATE customer_contacts SET removed_at = now() WHERE id = \(id) AND removed_at IS NULL
                RETURNING id, customer_id, name, role, email, phone, preferred_channel
                """)
            guard let row = rows.first else { throw RPCFailure.notFound("contact") }
            let contact = try contactJSON(row)
            try await Audit.record(tx, context: current, method: "customers.contacts.remove", entity: "customer",
                                   entityID: String(try row.decode(Int64.self, column: "customer_id")), before: contact)
            return ["ok": true]
        }
    }
}
