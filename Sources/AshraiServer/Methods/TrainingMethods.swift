import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `training.*`: courses, who completed them, and who is missing what their role requires.
enum TrainingMethods {
    static let handlers: [String: MethodHandler] = [
        "training.courses.create": createCourse, "training.courses.list": listCourses, "training.courses.update": updateCourse,
        "training.records.add": addRecord, "training.records.list": listRecords, "training.compliance": compliance,
    ]


    static let courseColumns = "c.id, c.code, c.title, c.topic, array_to_string(c.required_for_roles, ',') AS roles, c.validity_months, c.description, c.version"

    static func courseJSON(_ row: PostgresRow) throws -> JSONValue {
        [
            "id": .id(try row.decode(Int64.self, column: "id")), "code": .string(try row.decode(String.self, column: "code")),
            "title": .string(try row.decode(String.self, column: "title")), "topic": .string(try row.decode(String.self, column: "topic")),
            "required_for_roles": .array((try row.decode(String?.self, column: "roles") ?? "").split(separator: ",").map { .string(String($0)) }),
            "validity_months": try row.decode(Int?.self, column: "validity_months").map { .int($0) } ?? .null,
            "description": .optional(try row.decode(String?.self, column: "description")),
            "version": .int(try row.decode(Int.self, column: "version")),
        ]
    }

    static func roles(_ params: Params) throws -> [String]? {
        guard let value = params.object["required_for_roles"], !value.isNull else { return nil }
        guard let items = value.arrayValue, items.allSatisfy({ Role.staff.map(\.rawValue).contains($0.stringValue ?? "") }) else {
            throw RPCFailure.invalidParams("required_for_roles", "required_for_roles lists staff roles: admin, manager, clerk")
        }
        return Array(Set(items.compactMap(\.stringValue))).sorted()
    }

    /// A course by code (404 when there is none): its id, and its reply form.
    static func loadCourse(code: String, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> (id: Int64, json: JSONValue) {
        guard let row = try await connection.query("""
            SELECT \(unescaped: courseColumns) FROM training_courses c WHERE c.code_key = lower(\(code)) \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """).first else { throw RPCFailure.notFound("course") }
        return (try row.decode(Int64.self, column: "id"), try courseJSON(row))
    }

    static func createCourse(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let code = try params.string("code", maxLength: 40)
        guard code.range(of: "^[A-Za-z0-9_.-]{1,40}$", options: .regularExpression) != nil else {
            throw RPCFailure.invalidParams("code", "code is letters, digits, '.', '_' or '-' (up to 40)")
        }
        let title = try params.text("title", maxLength: 200)
        let topic = try params.choice("topic", TrainingTopic.self)
        let roles = try roles(params) ?? []
        let validity = try params.optionalInt("validity_months", range: 1...120)
        let description = try params.optionalString("description", maxLength: 2000)
        let current = context
        do {
            return try await services.transaction(current) { tx in
                try await tx.query("""
                    INSERT INTO training_courses (code, title, topic, required_for_roles, validity_months, description)
                    VALUES (\(code), \(title), \(topic.rawValue), \(PostgresArray(roles))::text[], \(validity), \(description))
                    """)
                let course = try await loadCourse(code: code, on: tx).json
                try await Audit.record(tx, context: current, method: "training.courses.create", entity: "training_course", entityID: code, after: course)
                return course
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw RPCFailure.conflict("a course with this code exists", data: ["field": "code"])
        }
    }

    static func updateCourse(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let code = try params.string("code", maxLength: 40)
        let title = try params.optionalString("title", maxLength: 200)
        let topic = try params.optionalChoice("topic", TrainingTopic.self)?.rawValue
        let roles = try roles(params)
        let validity = try params.optionalInt("validity_months", range: 1...120)
        let description = try params.optionalString("description", maxLength: 2000)
        let current = context
        return try await services.transaction(current) { tx in
            let before = try await loadCourse(code: code, forUpdate: true, on: tx).json
            try await tx.query("""
                UPDATE training_courses SET title = coalesce(\(title), title), topic = coalesce(\(topic), topic),
                    required_for_roles = coalesce(\(roles.map { PostgresArray($0) })::text[], required_for_roles),
                    validity_months = coalesce(\(validity)::int, validity_months), description = coalesce(\(description), description),
                    updated_at = now(), version = version + 1
                WHERE code_key = lower(\(code))
                """)
            let after = try await loadCourse(code: code, on: tx).json
            try await Audit.record(tx, context: current, method: "training.courses.update", entity: "training_course", entityID: code,
                                   before: before, after: after)
            return after
        }
    }

    static func listCourses(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let rows = try await services.read(context, query: "SELECT \(unescaped: courseColumns) FROM training_courses c ORDER BY c.code")
        return ["courses": .array(try rows.map(courseJSON))]
    }

    static let recordColumns = """
        r.id, r.user_id, u.username, c.code AS course_code, c.title AS course_title, r.completed_on, r.score, r.trainer, r.certificate_ref,
        r.notes, c.validity_months
        """
    static let recordFrom = "training_records r JOIN training_courses c ON c.id = r.course_id JOIN users u ON u.id = r.user_id"

    static func recordJSON(_ row: PostgresRow) throws -> JSONValue {
        let completed = try row.decode(PostgresDate.self, column: "completed_on")
        let expires = TrainingStatus.expiresOn(completedDay: completed.daysSinceEpoch, validityMonths: try row.decode(Int?.self, column: "validity_months"))
        return [
            "id": .id(try row.decode(Int64.self, column: "id")), "user_id": .id(try row.decode(Int64.self, column: "user_id")),
            "username": .string(try row.decode(String.self, column: "username")),
            "course_code": .string(try row.decode(String.self, column: "course_code")),
            "course_title": .string(try row.decode(String.self, column: "course_title")),
            "completed_on": .date(completed), "expires_on": .date(expires.map { PostgresDate(daysSinceEpoch: $0) }),
            "score": try row.decode(Decimal?.self, column: "score").map { .decimal($0) } ?? .null,
            "trainer": .optional(try row.decode(String?.self, column: "trainer")),
            "certificate_ref": .optional(try row.decode(String?.self, column: "certificate_ref")),
            "notes": .optional(try row.decode(String?.self, column: "notes")),
        ]
    }

    static func addRecord(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let userID = Int64(try params.id("user_id"))
        let code = try params.string("course_code", maxLength: 40)
        let completedOn = try params.date("completed_on")
        let score = try params.optionalPercent("score")
        let trainer = try params.optionalString("trainer", maxLength: 200)
        let certificate = try params.optionalString("certificate_ref", maxLength: 200)
        let notes = try params.optionalString("notes", maxLength: 2000)
        let current = context
        return try await services.transaction(current) { tx in
            let today = services.today()
            guard completedOn <= today else { throw RPCFailure.invalidParams("completed_on", "completed_on cannot be in the future") }
            let role = try await tx.query("SELECT role FROM users WHERE id = \(userID)").first?.decode(String.self, at: 0)
            guard let role, role != "agency" else { throw RPCFailure.notFound("user") }
            let course = try await loadCourse(code: code, on: tx)
            let id = try await tx.query("""
                INSERT INTO training_records (user_id, course_id, completed_on, score, trainer, certificate_ref, notes, recorded_by)
                VALUES (\(userID), \(course.id), \(completedOn), \(score), \(trainer), \(certificate), \(notes), \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            let record = try recordJSON(try await tx.query("SELECT \(unescaped: recordColumns) FROM \(unescaped: recordFrom) WHERE r.id = \(id)").one())
            try await Audit.record(tx, context: current, method: "training.records.add", entity: "user", entityID: String(userID), after: record)
            return record
        }
    }

    /// Every user reads their own; managers and admins anyone's.
    static func listRecords(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let requested = try params.optionalInt("user_id", range: 1...Int.max).map(Int64.init)
        guard let session = context.session else { throw RPCFailure.unauthenticated }
        let mayReadOthers = session.role == .admin || session.role == .manager
        if let requested, requested != session.userID, !mayReadOthers {
            throw RPCFailure.forbidden("you may read only your own training records")
        }
        let userID = mayReadOthers ? requested : session.userID
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: recordColumns) FROM \(unescaped: recordFrom)
            WHERE (\(userID)::bigint IS NULL OR r.user_id = \(userID)) ORDER BY r.completed_on DESC, r.id DESC LIMIT 2000
            """)
        return ["records": .array(try rows.map(recordJSON))]
    }

    /// One required course of one active staff member, with its status as of a day.
    struct Requirement {
        var userID: Int64
        var username: String
        var role: String
        var code: String
        var title: String
        var latest: PostgresDate?
        var expires: PostgresDate?
        var status: TrainingStatus
    }

    /// Every (active staff member, course their role requires) with its status — the one query
    /// behind `training.compliance` and the review loop.
    static func requirements(asOf: PostgresDate, on connection: PostgresConnection) async throws -> [Requirement] {
        try await connection.query("""
            SELECT u.id, u.username, u.role, c.code, c.title, c.validity_months,
                   (SELECT max(r.completed_on) FROM training_records r WHERE r.user_id = u.id AND r.course_id = c.id AND r.completed_on <= \(asOf)) AS latest
            FROM users u JOIN training_courses c ON u.role = ANY (c.required_for_roles)
            WHERE u.disabled_at IS NULL AND u.role <> 'agency'
            ORDER BY u.username, c.code
            """).map { row in
            let latest = try row.decode(PostgresDate?.self, column: "latest")
            let validity = try row.decode(Int?.self, column: "validity_months")
            return Requirement(
                userID: try row.decode(Int64.self, column: "id"), username: try row.decode(String.self, column: "username"),
                role: try row.decode(String.self, column: "role"), code: try row.decode(String.self, column: "code"),
                title: try row.decode(String.self, column: "title"), latest: latest,
                expires: latest.flatMap { TrainingStatus.expiresOn(completedDay: $0.daysSinceEpoch, validityMonths: validity) }
                    .map { PostgresDate(daysSinceEpoch: $0) },
                status: TrainingStatus.evaluate(latestCompletedDay: latest?.daysSinceEpoch, validityMonths: validity, asOfDay: asOf.daysSinceEpoch))
        }
    }

    /// Per active staff member: each course their role requires, with its status as of a day.
    static func compliance(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let asOfParam = try params.optionalDate("as_of")
        return try await services.read(context) { connection in
            let asOf = services.day(asOfParam)
            var users: [(id: Int64, username: String, role: String, courses: [JSONValue], ok: Bool)] = []
            for item in try await requirements(asOf: asOf, on: connection) {
                let course: JSONValue = ["code": .string(item.code), "title": .string(item.title), "status": .string(item.status.rawValue),
                                         "completed_on": .date(item.latest), "expires_on": .date(item.expires)]
                if users.last?.id != item.userID { users.append((item.userID, item.username, item.role, [], true)) }
                users[users.count - 1].courses.append(course)
                if item.status == .missing || item.status == .expired { users[users.count - 1].ok = false }
            }
            let compliant = users.filter(\.ok).count
            return [
                "as_of": .date(asOf),
                "users": .array(users.map { ["user_id": .id($0.id), "username": .string($0.username), "role": .string($0.role),
                                             "compliant": .bool($0.ok), "courses": .array($0.courses)] }),
                "compliance_rate": users.isEmpty ? .null : .decimal(Money.round(Decimal(compliant) / Decimal(users.count) * 100, scale: 1)),
            ]
        }
    }

    /// The optional gate (`training.gates`): a method that requires a current course — one
    /// whose code or topic is the gate's value. Refused with 403 `training_required`.
    @Sendable static func checkGate(method: String, services: Services, context: CallContext) async throws {
        guard let requirement = services.settings.training.gates[method], let session = context.session else { return }
        let ok = try await services.read(context) { connection -> Bool in
            let today = services.today()
            for row in try await connection.query("""
                SELECT c.validity_months, max(r.completed_on) AS latest
                FROM training_records r JOIN training_courses c ON c.id = r.course_id
                WHERE r.user_id = \(session.userID) AND (c.code_key = lower(\(requirement)) OR c.topic = \(requirement)) AND r.completed_on <= \(services.today())
                GROUP BY c.id, c.validity_months
                """) {
                let status = TrainingStatus.evaluate(latestCompletedDay: try row.decode(PostgresDate?.self, column: "latest")?.daysSinceEpoch,
                                                     validityMonths: try row.decode(Int?.self, column: "validity_months"), asOfDay: today.daysSinceEpoch)
                if status == .current || status == .expiring { return true }
            }
            return false
        }
        guard ok else {
            throw RPCFailure(.forbidden, "\(method) requires current training: \(requirement)",
                             data: ["reason": "training_required", "course": .string(requirement)])
        }
    }
}
